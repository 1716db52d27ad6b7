"""Recovery from a change killed at each step: completed when the file has it, undone when it has not, refused
(with a way out) when someone edited the file since; and what the CLI and `show` say about it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.pipeline_fixtures import ALICE, BOB, CONF, GHOST, server
from wgtui import store
from wgtui.changes import Planner, journal, transaction
from wgtui.changes.audit import AUDIT_LOG, Outcome
from wgtui.changes.recovery import recover
from wgtui.changes.sync import plan_sync
from wgtui.conf import Document

ROOT = Path(__file__).resolve().parent.parent.parent


class Killed(BaseException):
    """Stands in for kill -9: nothing after it runs, no handler sees it."""


def kill_at(monkeypatch: pytest.MonkeyPatch, name: str, *, after: bool = False) -> None:
    """Die when the transaction reaches `name` (before it runs, or just after it returned)."""
    real = getattr(transaction, name)

    def dying(*args: object, **kwargs: object) -> object:
        if after:
            real(*args, **kwargs)
        raise Killed(name)

    monkeypatch.setattr(transaction, name, dying)


def outcomes(tmp_path: Path) -> list[str]:
    return [json.loads(line)["outcome"] for line in (tmp_path / AUDIT_LOG).read_text().splitlines()]


def test_killed_before_the_file_write_is_undone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend, conf = server(tmp_path)
    before_live = dict(backend.ifaces["wg0"])
    plan = Planner("wg0", conf, backend).add("carol")
    kill_at(monkeypatch, "replace_with_backup")
    with pytest.raises(Killed):
        transaction.run(plan, backend)
    # The half-done state a kill -9 leaves: live but not in the file, its key only in the client config.
    assert plan.public_key in backend.ifaces["wg0"] and conf.read_text() == CONF and journal.exists(conf)
    assert (tmp_path / "clients" / "wg0-carol.conf").exists()
    monkeypatch.undo()
    done = recover(conf, backend)
    assert done.outcome is Outcome.RECOVERED_ROLLED_BACK and "undone" in done.message
    assert backend.ifaces["wg0"] == before_live and conf.read_text() == CONF
    assert not (tmp_path / "clients" / "wg0-carol.conf").exists() and not journal.exists(conf)
    assert outcomes(tmp_path) == ["recovered-rolled-back"]
    assert recover(conf, backend).outcome is Outcome.NOTHING  # twice is harmless


def test_killed_after_the_file_write_is_completed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend, conf = server(tmp_path)
    plan = Planner("wg0", conf, backend).rotate_now("bob")
    kill_at(monkeypatch, "replace_with_backup", after=True)
    with pytest.raises(Killed):
        transaction.run(plan, backend)
    monkeypatch.undo()
    client = tmp_path / "clients" / "wg0-bob.conf"
    text = client.read_text()
    client.unlink()  # lost: the recovery writes it again from the journal
    backend.ifaces["wg0"][BOB] = backend.ifaces["wg0"].pop(plan.public_key)  # as if the runtime half was lost
    done = recover(conf, backend)
    assert done.outcome is Outcome.RECOVERED_COMPLETED and "completed" in done.message
    live = backend.ifaces["wg0"]
    assert BOB not in live and live[plan.public_key].allowed_ips == ("10.8.0.3/32",)
    assert backend.psks[("wg0", plan.public_key)] and client.read_text() == text
    assert Document.read(conf).names[plan.public_key] == "bob"


@pytest.mark.parametrize("step", ["write_clients", "apply_runtime"])
def test_killed_before_anything_ran_is_undone_to_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        step: str) -> None:
    backend, conf = server(tmp_path)
    (tmp_path / "clients").mkdir(mode=0o700)
    (tmp_path / "clients" / "wg0-carol.conf").write_text("an older carol\n")
    before_live = dict(backend.ifaces["wg0"])
    kill_at(monkeypatch, step)
    with pytest.raises(Killed):
        transaction.run(Planner("wg0", conf, backend).add("carol"), backend)
    monkeypatch.undo()
    assert recover(conf, backend).outcome is Outcome.RECOVERED_ROLLED_BACK
    assert backend.ifaces["wg0"] == before_live and conf.read_text() == CONF
    assert (tmp_path / "clients" / "wg0-carol.conf").read_text() == "an older carol\n"


def test_a_runtime_only_change_is_completed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend, conf = server(tmp_path)
    plan = Planner("wg0", conf, backend).remove(GHOST)  # only on the interface: the file does not change
    assert not plan.changes_file
    kill_at(monkeypatch, "apply_runtime")
    with pytest.raises(Killed):
        transaction.run(plan, backend)
    monkeypatch.undo()
    assert GHOST in backend.ifaces["wg0"]
    assert recover(conf, backend).outcome is Outcome.RECOVERED_COMPLETED and GHOST not in backend.ifaces["wg0"]


def test_a_file_edited_since_stops_recovery_until_rollback_is_asked(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    backend, conf = server(tmp_path)
    plan = plan_sync(Planner("wg0", conf, backend))  # adopts GHOST into the file
    kill_at(monkeypatch, "replace_with_backup")
    with pytest.raises(Killed):
        transaction.run(plan, backend)
    monkeypatch.undo()
    conf.write_text(conf.read_text() + "# edited by hand after the crash\n")
    stuck = recover(conf, backend)
    assert stuck.outcome is Outcome.RECOVERY_REFUSED and "--rollback" in stuck.message and journal.exists(conf)
    assert not stuck.ok
    done = recover(conf, backend, rollback=True)
    assert done.outcome is Outcome.RECOVERED_ROLLED_BACK and "left as it is" in done.message
    assert conf.read_text().endswith("after the crash\n") and not journal.exists(conf)


def test_an_interface_that_is_not_running_needs_only_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend, conf = server(tmp_path)
    kill_at(monkeypatch, "replace_with_backup")
    with pytest.raises(Killed):
        transaction.run(Planner("wg0", conf, backend).remove("alice"), backend)
    monkeypatch.undo()
    backend.gone.add("wg0")  # rebooted; wg-quick up will load the file
    done = recover(conf, backend)
    assert done.ok and "not running" in done.message and not journal.exists(conf)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wgtui", *args], capture_output=True, text=True, timeout=60,
                          cwd=ROOT)


def test_the_cli_says_what_waits_and_recovers_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend, conf = server(tmp_path)
    kill_at(monkeypatch, "replace_with_backup")
    with pytest.raises(Killed):
        transaction.run(Planner("wg0", conf, backend).remove("alice"), backend)
    monkeypatch.undo()
    # A file-only change cannot undo the runtime half: it refuses and says what to run.
    refused = run_cli("peer", "edit", "wg0", "bob", "--keepalive", "5", "--file-only", "--config-dir", str(tmp_path),
                      "--yes")
    assert refused.returncode == 1 and "wgtui peer recover wg0" in refused.stderr
    dry = run_cli("peer", "recover", "wg0", "--config-dir", str(tmp_path), "--dry-run", "--json")
    assert dry.returncode == 0 and json.loads(dry.stdout)["change"]["title"] == "Remove peer alice from wg0"
    assert journal.exists(conf)
    done = run_cli("peer", "recover", "wg0", "--config-dir", str(tmp_path), "--yes", "--json")
    doc = json.loads(done.stdout)
    # No WireGuard on this host: the interface is not running, so the file (which never lost alice) is the truth.
    assert done.returncode == 0 and doc["outcome"] == "recovered-rolled-back" and doc["ok"] is True
    assert ALICE in conf.read_text() and not journal.exists(conf)
    again = run_cli("peer", "recover", "wg0", "--config-dir", str(tmp_path), "--yes")
    assert again.returncode == 0 and "Nothing to recover" in again.stdout


def test_show_reports_a_waiting_change_and_stays_read_only(tmp_path: Path) -> None:
    first = run_cli("show", "--demo", "3", "--config-dir", str(tmp_path), "--json")
    assert first.returncode == 0 and json.loads(first.stdout)["interfaces"][0]["interrupted_change"] is None
    conf = tmp_path / "wg0.conf"
    journal.write(journal.Journal("wg0", "add", "Add peer carol to wg0", conf,
                                  store.fingerprint(conf.read_bytes()), "x"))
    shown = run_cli("show", "--demo", "3", "--config-dir", str(tmp_path), "--json")
    iface = next(i for i in json.loads(shown.stdout)["interfaces"] if i["name"] == "wg0")
    assert iface["interrupted_change"]["title"] == "Add peer carol to wg0"
    assert "wgtui peer recover wg0" in shown.stderr and journal.exists(conf)
