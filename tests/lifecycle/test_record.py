"""What the lifecycle keeps of applied changes: final readings, key links, events without key material."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.unit.pipeline_fixtures import ALICE, BOB, BOB_PSK, SERVER_PRIVATE, server
from wgtui.changes import Plan, Planner, transaction
from wgtui.changes.disable import plan_disable, plan_enable
from wgtui.lifecycle.db import db_path
from wgtui.lifecycle.events import Outbox
from wgtui.lifecycle.ledger import Ledger
from wgtui.lifecycle.record import recorder


@pytest.fixture
def state(tmp_path: Path) -> Iterator[Path]:
    """A state directory, and every change of the test recorded into it as the CLI records them."""
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    previous = transaction.set_recorder(recorder(state_dir, host="vpn-test"))
    try:
        yield state_dir
    finally:
        transaction.set_recorder(previous)


def etc(tmp_path: Path) -> Path:
    path = tmp_path / "etc"
    path.mkdir(mode=0o700)
    return path


def events(state_dir: Path) -> list[dict[str, Any]]:
    with Outbox(db_path(state_dir)) as outbox:
        return [json.loads(body) for _, body in outbox.events()]


def bodies(state_dir: Path) -> str:
    with Outbox(db_path(state_dir)) as outbox:
        return "".join(body.decode() for _, body in outbox.events())


def run(plan: Plan, backend: Any) -> None:
    result = transaction.run(plan, backend)
    assert result.ok and not any("could not be recorded" in s for s in result.steps), result


def test_add_edit_remove_become_events_without_secrets(tmp_path: Path, state: Path) -> None:
    backend, conf = server(etc(tmp_path))
    add = Planner("wg0", conf, backend).add("carol", preshared_key=True, quota="5GB/day")
    assert add.client is not None and add.client.private_key
    run(add, backend)
    run(Planner("wg0", conf, backend).edit("carol", expires="2099-01-01"), backend)
    run(Planner("wg0", conf, backend).remove("carol"), backend)
    got = events(state)
    assert [e["type"] for e in got] == ["peer.created", "peer.updated", "peer.deleted"]
    assert {e["public_key"] for e in got} == {add.public_key}
    assert len({e["peer_id"] for e in got}) == 1 and got[0]["peer_id"]
    assert got[0]["host"] == "vpn-test" and got[0]["interface"] == "wg0" and got[0]["data"]["name"] == "carol"
    text = bodies(state)
    psk = next(u.preshared_key for u in add.runtime if u.public_key == add.public_key)
    for secret in (add.client.private_key, psk, SERVER_PRIVATE, BOB_PSK):
        assert isinstance(secret, str) and secret not in text


def test_a_removed_peer_gets_its_final_reading(tmp_path: Path, state: Path) -> None:
    backend, conf = server(etc(tmp_path))
    with Ledger.open(state) as ledger:
        ledger.record("wg0", 1000.0, backend.read("wg0").peers)  # the agent's first poll: 5000/7000 for alice
        backend.ifaces["wg0"][ALICE] = replace(backend.ifaces["wg0"][ALICE], rx_bytes=5300, tx_bytes=7400)
    run(Planner("wg0", conf, backend).remove("alice"), backend)
    with Ledger.open(state) as ledger:
        totals = ledger.totals("wg0")[ALICE]
    assert (totals.rx_total, totals.tx_total) == (5300, 7400)  # the 300/400 since the poll were not lost


def test_usage_follows_the_peer_across_a_rotation(tmp_path: Path, state: Path) -> None:
    backend, conf = server(etc(tmp_path))
    with Ledger.open(state) as ledger:
        ledger.record("wg0", 1000.0, backend.read("wg0").peers)
        old_id = ledger.peer_id("wg0", ALICE)
    plan = Planner("wg0", conf, backend).rotate_now("alice")
    run(plan, backend)
    with Ledger.open(state) as ledger:
        assert ledger.peer_id("wg0", plan.public_key) == old_id
        assert ledger.totals("wg0")[plan.public_key][:2] == (5000, 7000)
    got = events(state)
    assert [e["type"] for e in got] == ["peer.rotation_started", "peer.rotation_completed"]
    assert got[1]["peer_id"] == old_id and got[1]["data"]["old_public_key"] == ALICE
    assert plan.client is not None and plan.client.private_key not in bodies(state)


def test_disable_and_enable_events_carry_the_reason(tmp_path: Path, state: Path) -> None:
    backend, conf = server(etc(tmp_path))
    run(plan_disable(Planner("wg0", conf, backend), "bob", reason="quota"), backend)
    run(plan_enable(Planner("wg0", conf, backend), "bob"), backend)
    got = events(state)
    assert [(e["type"], e["public_key"]) for e in got] == [("peer.disabled", BOB), ("peer.enabled", BOB)]
    assert got[0]["data"]["reason"] == "quota"


def test_a_sync_is_described_peer_by_peer(tmp_path: Path, state: Path) -> None:
    from wgtui.changes.sync import plan_sync

    backend, conf = server(etc(tmp_path))
    run(plan_sync(Planner("wg0", conf, backend)), backend)  # the ghost, only on the interface, is adopted
    got = events(state)
    assert [e["type"] for e in got] == ["peer.updated"] and got[0]["public_key"] not in (ALICE, BOB)


def remove_alice(tmp_path: Path, state_dir: Path) -> None:
    """Alice removed (file and interface), the change recorded into `state_dir`; it succeeds whatever that is."""
    backend, conf = server(etc(tmp_path))
    previous = transaction.set_recorder(recorder(state_dir))
    try:
        result = transaction.run(Planner("wg0", conf, backend).remove("alice"), backend)
    finally:
        transaction.set_recorder(previous)
    assert result.ok and ALICE not in backend.ifaces["wg0"], result
    assert not any("could not be recorded" in step for step in result.steps), result


def test_without_a_state_directory_nothing_is_created(tmp_path: Path) -> None:
    missing = tmp_path / "no-state"
    remove_alice(tmp_path, missing)
    assert not missing.exists()


def test_a_broken_state_directory_never_fails_a_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "state"
    (broken / "wgtui.db").mkdir(parents=True)  # a directory where the database should be
    remove_alice(tmp_path, broken)
    assert "the change is done, but the lifecycle state" in capsys.readouterr().err


def test_a_state_directory_that_cannot_be_looked_at_is_said(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    unreadable = tmp_path / ("s" * 300)  # stat fails (ENAMETOOLONG), as it would on a directory it may not enter
    remove_alice(tmp_path, unreadable)
    assert f"the lifecycle state in {unreadable} was not updated" in capsys.readouterr().err


def test_an_undo_is_described_by_what_it_brings_back(tmp_path: Path, state: Path) -> None:
    from wgtui.changes.undo import plan_undo

    backend, conf = server(etc(tmp_path))
    run(Planner("wg0", conf, backend).edit("bob", quota="5GB/day"), backend)
    run(plan_undo(Planner("wg0", conf, backend)), backend)  # the quota goes again: bob alone was updated
    run(Planner("wg0", conf, backend).remove("alice"), backend)
    run(plan_undo(Planner("wg0", conf, backend)), backend)  # alice is back, with her key
    got = [(e["type"], e["public_key"], e["data"]["action"]) for e in events(state)]
    assert got == [("peer.updated", BOB, "edit"), ("peer.updated", BOB, "undo"), ("peer.deleted", ALICE, "remove"),
                   ("peer.created", ALICE, "undo")]
