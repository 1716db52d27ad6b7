"""The one transaction: journal before the runtime, client config before the runtime, the re-check under the lock,
refusals that change nothing, and an audit record of one shape for every outcome."""

from __future__ import annotations

import json
import stat
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.fakes import FakeBackend
from tests.unit.pipeline_fixtures import ALICE, BOB, CONF, GHOST, server, server_public
from wgtui import keys, store
from wgtui.changes import ChangeRefused, Planner, journal, transaction
from wgtui.changes.audit import AUDIT_LOG, Outcome
from wgtui.model import PeerState, PeerUpdate


class Watching(FakeBackend):
    """Records what was on disk at the moment the runtime was changed."""

    def __init__(self, base: FakeBackend, conf: Path) -> None:
        super().__init__()
        self.ifaces, self.psks, self.conf = base.ifaces, base.psks, conf
        self.seen: list[tuple[dict[str, object] | None, dict[str, bytes]]] = []

    def apply(self, ifname: str, updates: Sequence[PeerUpdate]) -> None:
        found = journal.read(self.conf)
        clients = {p.name: p.read_bytes() for p in (self.conf.parent / "clients").glob("*")} \
            if (self.conf.parent / "clients").exists() else {}
        self.seen.append((found.to_json() if found else None, clients))
        super().apply(ifname, updates)


def audit_lines(tmp_path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (tmp_path / AUDIT_LOG).read_text().splitlines()]


def leftovers(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.rglob("*") if p.name.endswith((store.TMP_SUFFIX, ".wgtui-journal")))


def test_journal_and_client_config_are_on_disk_before_the_runtime_changes(tmp_path: Path) -> None:
    base, conf = server(tmp_path)
    backend = Watching(base, conf)
    plan = Planner("wg0", conf, backend).add("carol", preshared_key=True)
    result = transaction.run(plan, backend)
    assert result.ok, result.message
    (seen_journal, seen_clients), = backend.seen
    assert seen_journal is not None and seen_journal["action"] == "add"
    assert seen_journal["before"] == plan.before_fingerprint
    assert seen_journal["after"] == store.fingerprint((plan.after or "").encode())
    assert seen_journal["runtime"][0]["public_key"] == plan.public_key  # type: ignore[index]
    assert seen_journal["undo"] == [{"public_key": plan.public_key, "remove": True}]
    assert seen_clients == {"wg0-carol.conf": plan.client.text().encode()}  # type: ignore[union-attr]
    client = tmp_path / "clients" / "wg0-carol.conf"
    assert stat.S_IMODE(client.stat().st_mode) == 0o600 and stat.S_IMODE(client.parent.stat().st_mode) == 0o700
    assert keys.public_key(client.read_text().split("PrivateKey = ")[1].split()[0]) == plan.public_key
    assert leftovers(tmp_path) == [] and result.client_paths == (client,)
    record, = audit_lines(tmp_path)
    assert record["outcome"] == "applied" and record["ok"] is True and record["change_id"] == seen_journal["id"]
    assert set(record) == {"time", "user", "interface", "action", "title", "config", "outcome", "ok", "public_key",
                           "old_public_key", "diff", "runtime_ops", "change_id", "message"}
    assert "PresharedKey" not in (tmp_path / AUDIT_LOG).read_text()
    assert plan.client.preshared_key not in (tmp_path / AUDIT_LOG).read_text()  # type: ignore[union-attr,operator]


def test_a_client_config_that_cannot_be_written_changes_nothing_and_the_retry_works(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend, conf = server(tmp_path)
    before_live = dict(backend.ifaces["wg0"])
    real_write = transaction.write_atomic

    def full_disk(path: Path, data: bytes, *args: object, **kwargs: object) -> Path:
        if path.parent.name == "clients":
            raise store.StoreError(f"Cannot write {path}: No space left on device.")
        return real_write(path, data, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(transaction, "write_atomic", full_disk)
    result = transaction.run(Planner("wg0", conf, backend).add("carol"), backend)
    assert not result.ok and result.outcome is Outcome.ROLLED_BACK and "client config could not be written" in \
        result.message and "No space left" in result.message and result.message.endswith("Nothing changed.")
    assert conf.read_text() == CONF and backend.ifaces["wg0"] == before_live and backend.applied == []
    assert leftovers(tmp_path) == [] and list((tmp_path / "clients").iterdir()) == []
    monkeypatch.setattr(transaction, "write_atomic", real_write)
    again = transaction.run(Planner("wg0", conf, backend).add("carol"), backend)  # the name is not taken
    assert again.ok and (tmp_path / "clients" / "wg0-carol.conf").is_file()


def test_something_else_where_the_client_config_goes_refuses_before_anything(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    (tmp_path / "clients").mkdir(mode=0o700)
    (tmp_path / "clients" / "wg0-carol.conf").mkdir()
    result = transaction.run(Planner("wg0", conf, backend).add("carol"), backend)
    assert not result.ok and result.outcome is Outcome.REFUSED and "a directory, not a regular file" in result.message
    assert conf.read_text() == CONF and backend.applied == [] and leftovers(tmp_path) == []


def test_an_address_given_by_hand_after_the_preview_is_never_taken(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    plan = Planner("wg0", conf, backend).add("carol", allowed_ips="10.8.0.7/32")
    backend.bump("wg0", GHOST, allowed_ips=("10.8.0.9/32", "10.8.0.7/32"))  # `wg set` meanwhile
    result = transaction.run(plan, backend)
    assert not result.ok and result.outcome is Outcome.REFUSED
    assert "10.8.0.7/32 now belongs to" in result.message and "Preview the change again" in result.message
    assert backend.ifaces["wg0"][GHOST].allowed_ips == ("10.8.0.9/32", "10.8.0.7/32") and backend.applied == []
    assert conf.read_text() == CONF and not (tmp_path / "clients").exists()


@pytest.mark.parametrize("meanwhile", ["added", "removed", "edited"])
def test_a_peer_the_plan_names_changed_by_hand_refuses_it(tmp_path: Path, meanwhile: str) -> None:
    backend, conf = server(tmp_path)
    if meanwhile == "added":
        plan = Planner("wg0", conf, backend).add("carol", public_key=keys.keypair()[1], allowed_ips="10.8.0.7/32")
        backend.ifaces["wg0"][plan.public_key] = PeerState(plan.public_key)
        expected = "was added to wg0"
    elif meanwhile == "removed":
        plan = Planner("wg0", conf, backend).edit("bob", keepalive=10)
        del backend.ifaces["wg0"][BOB]
        expected = "was removed from wg0"
    else:
        plan = Planner("wg0", conf, backend).edit("bob", keepalive=10)
        backend.bump("wg0", BOB, allowed_ips=("10.8.0.3/32", "10.8.0.30/32"))
        expected = "allowed IPs of bob (9Qrm"
    result = transaction.run(plan, backend)
    assert not result.ok and expected in result.message and backend.applied == [] and conf.read_text() == CONF


def test_the_interfaces_own_key_is_refused_as_a_peer(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    with pytest.raises(ChangeRefused, match="own public key"):
        Planner("wg0", conf, backend).add("me", public_key=backend.read("wg0").public_key)
    with pytest.raises(ChangeRefused, match="own public key"):  # from the file's PrivateKey, without WireGuard
        Planner("wg0", conf, None, file_only=True).add("me", public_key=server_public())


@pytest.mark.parametrize(("broken", "needle"), [
    (CONF + f"\n[Peer]\nPublicKey = {ALICE}\nAllowedIPs = 10.8.0.44/32\n", "same PublicKey"),
    (CONF + "\n[Peer]\nPublicKey = c2hvcnQ=\nAllowedIPs = 10.8.0.44/32\n", "not a WireGuard key"),
    (CONF + "\n[Interface]\nListenPort = 51821\n", "[Interface]"),
    (CONF.replace("# Office", "# Off\x00ice"), "NUL"),
])
def test_a_file_wg_quick_would_refuse_is_never_changed(tmp_path: Path, broken: str, needle: str) -> None:
    backend, conf = server(tmp_path, broken)
    with pytest.raises(ChangeRefused, match="`wgtui check`") as refused:
        Planner("wg0", conf, backend)
    assert needle.lower() in str(refused.value).lower() and "wg0.conf:" in str(refused.value)


def test_runtime_refusal_undoes_it_and_restores_the_previous_client_config(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    (tmp_path / "clients").mkdir(mode=0o700)
    old_client = tmp_path / "clients" / "wg0-carol.conf"
    old_client.write_text("an older carol's config\n")
    before_live = dict(backend.ifaces["wg0"])
    backend.fail_apply = 1
    result = transaction.run(Planner("wg0", conf, backend).add("carol"), backend)
    assert not result.ok and result.outcome is Outcome.ROLLED_BACK and "refused the change" in result.message
    assert backend.ifaces["wg0"] == before_live and conf.read_text() == CONF
    assert old_client.read_text() == "an older carol's config\n" and leftovers(tmp_path) == []
    assert audit_lines(tmp_path)[-1]["outcome"] == "rolled-back"


def test_a_failed_undo_keeps_the_journal_for_recover(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend, conf = server(tmp_path)
    plan = Planner("wg0", conf, backend).remove("alice")

    def full(*_: object) -> None:
        raise store.StoreError("Cannot write wg0.conf: No space left on device.")

    monkeypatch.setattr(transaction, "replace_with_backup", full)
    real_apply = backend.apply
    calls = []

    def apply_once(ifname: str, updates: Sequence[PeerUpdate]) -> None:
        calls.append(updates)
        if len(calls) > 1:
            raise transaction.BackendError("the daemon went away")
        real_apply(ifname, updates)

    monkeypatch.setattr(backend, "apply", apply_once)
    result = transaction.run(plan, backend)
    assert not result.ok and result.rollback_failed and result.outcome is Outcome.ROLLBACK_FAILED
    assert "wgtui peer recover wg0" in result.message and journal.exists(conf)
    assert ALICE not in backend.ifaces["wg0"] and conf.read_text() == CONF  # the half-done state, said plainly
    monkeypatch.setattr(backend, "apply", real_apply)
    from wgtui.changes.recovery import recover

    done = recover(conf, backend)
    assert done.outcome is Outcome.RECOVERED_ROLLED_BACK and ALICE in backend.ifaces["wg0"]
    assert not journal.exists(conf)


def test_a_second_change_while_a_journal_waits_is_refused(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    journal.write(journal.Journal("wg0", "add", "Add peer x", conf, store.fingerprint(conf.read_bytes()), "f"))
    result = transaction.run(Planner("wg0", conf, backend).remove("alice"), backend)
    assert not result.ok and "wgtui peer recover wg0" in result.message and backend.applied == []
