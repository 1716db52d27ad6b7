"""`peer apply`: many peers as one plan from JSON or CSV; idempotent; absent and disabled; one bad row refuses all."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.pipeline_fixtures import ALICE, BOB, CONF, server
from wgtui.changes import Planner, transaction
from wgtui.changes.batch import RowRefused, plan_batch, read_rows
from wgtui.conf import Document
from wgtui.conf.disabled import disabled_peers

ROOT = Path(__file__).resolve().parent.parent.parent
NEW = "N3wKeyN3wKeyN3wKeyN3wKeyN3wKeyN3wKeyN3wKey0="


def rows_file(tmp_path: Path, rows: list[dict[str, object]], name: str = "peers.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(rows))
    return path


def apply(tmp_path: Path, backend: object, conf: Path, rows: list[dict[str, object]]) -> list[str]:
    batch = plan_batch(Planner("wg0", conf, backend), read_rows(rows_file(tmp_path, rows)))  # type: ignore[arg-type]
    if batch.changes_anything:
        result = transaction.run(batch.plan, backend)  # type: ignore[arg-type]
        assert result.ok, result.message
    return [o.outcome for o in batch.outcomes]


def test_adds_changes_and_is_idempotent(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    rows = [{"name": "carol", "preshared_key": True}, {"name": "dave", "public_key": NEW, "keepalive": 25},
            {"name": "erin", "allowed_ips": "10.8.0.77/32"}, {"name": "alice"}]
    assert apply(tmp_path, backend, conf, rows) == ["added", "added", "added", "unchanged"]
    doc = Document.read(conf)
    names = {v: k for k, v in doc.names.items()}
    assert {"carol", "dave", "erin"} <= set(names) and names["dave"] == NEW
    live = backend.ifaces["wg0"]
    assert live[names["carol"]].allowed_ips == ("10.8.0.4/32", "fd00:8::3/128")  # auto skips what is taken
    assert live[names["dave"]].allowed_ips == ("10.8.0.5/32", "fd00:8::4/128")  # and what carol just took
    assert live[names["erin"]].allowed_ips == ("10.8.0.77/32",) and live[NEW].persistent_keepalive == 25
    assert sorted(p.name for p in (tmp_path / "clients").iterdir()) == ["wg0-carol.conf", "wg0-erin.conf"]
    assert len(backend.applied) == 1  # one runtime transaction
    before = conf.read_bytes()
    assert apply(tmp_path, backend, conf, rows) == ["unchanged"] * 4  # the same file again: nothing to do
    assert conf.read_bytes() == before
    rows[1]["keepalive"] = 0
    assert apply(tmp_path, backend, conf, rows) == ["unchanged", "changed", "unchanged", "unchanged"]
    assert backend.ifaces["wg0"][NEW].persistent_keepalive == 0


def test_absent_and_disabled_and_back(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    outcomes = apply(tmp_path, backend, conf, [{"name": "alice", "state": "absent"},
                                               {"public_key": BOB, "state": "disabled"},
                                               {"name": "nobody", "state": "absent"}])
    assert outcomes == ["removed", "disabled", "unchanged"]
    assert ALICE not in backend.ifaces["wg0"] and BOB not in backend.ifaces["wg0"]
    assert [d.public_key for d in disabled_peers(Document.read(conf))] == [BOB]
    assert apply(tmp_path, backend, conf, [{"public_key": BOB, "state": "disabled"}]) == ["unchanged"]
    assert apply(tmp_path, backend, conf, [{"public_key": BOB}]) == ["enabled"]
    assert backend.ifaces["wg0"][BOB].allowed_ips == ("10.8.0.3/32",) and backend.ifaces["wg0"][BOB].has_preshared_key


@pytest.mark.parametrize(("rows", "needle"), [
    ([{"name": "ok"}, {"name": "bad", "allowed_ips": "10.8.0.300/32"}], "row 2: Allowed IPs"),
    ([{"name": "x", "allowed_ips": "10.8.0.2/32"}], "row 1: 10.8.0.2/32 already belongs to alice"),
    ([{"name": "a1", "allowed_ips": "10.8.0.50/32"}, {"name": "a2", "allowed_ips": "10.8.0.50/32"}],
     "row 2: 10.8.0.50/32 already belongs"),
    ([{"name": "ok"}, {"nmae": "typo"}], "row 2: unknown field(s) nmae"),
    ([{"name": "ok", "state": "gone"}], "row 1: state must be"),
    ([{"name": "alice"}, {"public_key": ALICE, "keepalive": 5}], "row 2: alice is named by an earlier row"),
])
def test_one_bad_row_refuses_the_batch_and_names_it(tmp_path: Path, rows: list[dict[str, object]],
                                                     needle: str) -> None:
    backend, conf = server(tmp_path)
    with pytest.raises(RowRefused) as refused:
        plan_batch(Planner("wg0", conf, backend), read_rows(rows_file(tmp_path, rows)))
    assert str(refused.value).startswith(needle) and "applied whole or not at all" in str(refused.value)
    assert conf.read_text() == CONF and backend.applied == []


def test_csv_and_the_command_line(tmp_path: Path) -> None:
    server(tmp_path)
    csv = tmp_path / "peers.csv"
    csv.write_text("name,allowed_ips,preshared_key,keepalive,state\ncarol,auto,yes,25,present\n"
                   "dave,\"10.8.0.40/32,fd00:8::40/128\",no,,present\nbob,,,,absent\n")

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "wgtui", "peer", "apply", "wg0", "--from", str(csv),
                               "--file-only", "--config-dir", str(tmp_path), *extra], capture_output=True, text=True,
                              cwd=ROOT, timeout=60)

    dry = run("--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    outcomes = [(p["row"], p["name"], p["outcome"]) for p in json.loads(dry.stdout)["peers"]]
    assert outcomes == [(2, "carol", "added"), (3, "dave", "added"), (4, "bob", "removed")]
    done = run("--yes", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["applied"], done.stderr
    doc = Document.read(tmp_path / "wg0.conf")
    dave = next(p for p in doc.peers if p.name == "dave")
    assert dave.allowed_ips == ("10.8.0.40/32", "fd00:8::40/128") and BOB not in doc.names
    again = run("--yes")
    assert again.returncode == 0 and "Nothing to do" in again.stdout


def test_auto_takes_an_address_a_removal_in_the_same_batch_gave_back(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    rows: list[dict[str, object]] = [{"name": "alice", "state": "absent"}, {"name": "carol"}, {"name": "dave"}]
    assert apply(tmp_path, backend, conf, rows) == ["removed", "added", "added"]
    live = backend.ifaces["wg0"]
    names = {v: k for k, v in Document.read(conf).names.items()}
    assert live[names["carol"]].allowed_ips == ("10.8.0.2/32", "fd00:8::2/128")  # alice's, freed by row 1
    assert live[names["dave"]].allowed_ips == ("10.8.0.4/32", "fd00:8::3/128")


def test_a_large_mixed_batch_edits_the_file_as_the_edits_one_at_a_time(tmp_path: Path) -> None:
    from wgtui.conf.disabled import disable_peer

    def key(i: int) -> str:
        return base64.b64encode(i.to_bytes(4, "big") * 8).decode()

    blocks = "".join(f"\n# friendly_name = p{i}\n[Peer]\nPublicKey = {key(i)}\n"
                     f"AllowedIPs = 10.9.{i // 250}.{i % 250 + 2}/32\n" for i in range(1, 601))
    conf = tmp_path / "wg0.conf"
    conf.write_text(f"[Interface]\nAddress = 10.9.0.1/16\nPrivateKey = {key(9999)}\n{blocks}")
    conf.chmod(0o600)
    rows: list[dict[str, object]] = []
    for i in range(1, 601, 2):
        kinds: list[dict[str, object]] = [{"name": f"p{i}", "state": "absent"}, {"name": f"p{i}", "keepalive": 25},
                     {"public_key": key(i), "name": f"q{i}"}, {"name": f"p{i}", "state": "disabled"},
                     {"name": f"p{i}", "allowed_ips": [f"10.9.{200 + i // 250}.{i % 250}/32"]}]
        rows.append(kinds[i // 2 % 5])
    batch = plan_batch(Planner("wg0", conf, None, file_only=True), read_rows(rows_file(tmp_path, rows)))
    doc = Document.read(conf)
    for row in rows:
        k = key(int(str(row.get("name", "p0")).lstrip("pq"))) if "public_key" not in row else str(row["public_key"])
        doc = (doc.remove_peer(k) if row.get("state") == "absent" else disable_peer(doc, k)
               if row.get("state") == "disabled" else doc.set_peer_field(k, "PersistentKeepalive", 25)
               if "keepalive" in row else doc.rename_peer(k, str(row["name"])) if "public_key" in row
               else doc.set_peer_field(k, "AllowedIPs", row["allowed_ips"]))  # type: ignore[arg-type]
    assert batch.plan.after == doc.render()
    assert {o.outcome for o in batch.outcomes} == {"removed", "changed", "disabled"}
