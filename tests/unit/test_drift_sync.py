"""Drift between the interface and the file, and sync plans that resolve it without silent deletions."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.pipeline_fixtures import ALICE, BOB, BOB_PSK, GHOST, server
from wgtui.changes import ChangeRefused, Planner, transaction
from wgtui.changes.sync import plan_sync
from wgtui.conf import Document
from wgtui.drift import Drift, interface_drift
from wgtui.model import PeerState, PeerUpdate


def test_drift_kinds_ignore_endpoints_and_host_bits(tmp_path: Path) -> None:
    backend, path = server(tmp_path)
    doc = Document.read(path)
    drift = interface_drift(backend.ifaces["wg0"], doc)
    assert drift == {GHOST: (Drift.RUNTIME_ONLY,)}  # alice's endpoint differs (it roams): not drift
    backend.ifaces["wg0"][BOB] = PeerState(BOB, allowed_ips=("10.8.0.3/32", "10.9.0.0/24"), persistent_keepalive=0)
    del backend.ifaces["wg0"][ALICE]
    drift = interface_drift(backend.ifaces["wg0"], doc)
    assert drift[BOB] == (Drift.ALLOWED_IPS, Drift.KEEPALIVE, Drift.PSK)
    assert drift[ALICE] == (Drift.FILE_ONLY,)


def test_default_sync_adopts_runtime_only_peers_into_the_file_and_never_deletes(tmp_path: Path) -> None:
    backend, path = server(tmp_path)
    plan = plan_sync(Planner("wg0", path, backend))
    assert plan.runtime == () and f"+PublicKey = {GHOST}" in plan.diff and "+AllowedIPs = 10.8.0.9/32" in plan.diff
    assert not any(ln.startswith("-") and not ln.startswith("---") for ln in plan.diff.splitlines())
    assert transaction.run(plan, backend).ok
    assert interface_drift(backend.ifaces["wg0"], Document.read(path)) == {}


def test_sync_towards_the_file_restores_fields_and_brings_file_peers_up(tmp_path: Path) -> None:
    backend, path = server(tmp_path)
    backend.ifaces["wg0"][BOB] = PeerState(BOB, allowed_ips=("10.8.0.30/32",))
    del backend.ifaces["wg0"][ALICE]
    plan = plan_sync(Planner("wg0", path, backend), {BOB: "file", ALICE: "file"})
    assert plan.diff == ""
    assert PeerUpdate(BOB, allowed_ips=("10.8.0.3/32",), preshared_key=BOB_PSK, persistent_keepalive=25) in plan.runtime
    assert transaction.run(plan, backend).ok
    assert backend.ifaces["wg0"][ALICE].allowed_ips == ("10.8.0.2/32", "fd00:8::2/128")
    assert backend.psks[("wg0", BOB)] == BOB_PSK
    assert set(interface_drift(backend.ifaces["wg0"], Document.read(path))) == {GHOST}


def test_removing_a_live_only_peer_needs_an_explicit_choice_and_is_warned(tmp_path: Path) -> None:
    backend, path = server(tmp_path)
    plan = plan_sync(Planner("wg0", path, backend), {GHOST: "file"})
    assert plan.runtime == (PeerUpdate(GHOST, remove=True),)
    assert any("REMOVED" in w for w in plan.warnings)


def test_nothing_to_sync_and_file_only_are_refused(tmp_path: Path) -> None:
    backend, path = server(tmp_path)
    del backend.ifaces["wg0"][GHOST]
    with pytest.raises(ChangeRefused, match="agree"):
        plan_sync(Planner("wg0", path, backend))
    with pytest.raises(ChangeRefused, match="running interface"):
        plan_sync(Planner("wg0", path, None, file_only=True))
