"""Applying plans: both halves or neither, refusal when the file moved, the lock, backups and the audit log."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.unit.pipeline_fixtures import ALICE, BOB, BOB_PSK, server
from wgtui import ownfiles, store
from wgtui.changes import Planner, transaction
from wgtui.model import PeerState


def test_add_applies_runtime_then_file_with_backup_0600_and_audit(tmp_path: Path) -> None:
    backend, path = server(tmp_path)
    before = path.read_bytes()
    plan = Planner("wg0", path, backend).add("carol", allowed_ips="10.8.0.7/32", preshared_key=True)
    result = transaction.run(plan, backend)
    assert result.ok and result.runtime_changed and result.file_changed, result.message
    assert backend.ifaces["wg0"][plan.public_key].allowed_ips == ("10.8.0.7/32",)
    assert backend.ifaces["wg0"][plan.public_key].has_preshared_key
    assert path.read_text() == plan.after
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert result.backup is not None and result.backup.read_bytes() == before
    assert stat.S_IMODE(result.backup.stat().st_mode) == 0o600
    log = (tmp_path / "wgtui-audit.log").read_text().splitlines()
    entry = json.loads(log[-1])
    assert entry["ok"] and entry["action"] == "add" and entry["public_key"] == plan.public_key
    assert entry["diff"] == "+7 -0"  # the block and its key-created comment
    psk = backend.psks[("wg0", plan.public_key)]
    assert psk not in "\n".join(log) and BOB_PSK not in "\n".join(log)  # no secret in the audit log


def test_runtime_failure_leaves_the_file_untouched_and_undoes_the_partial_change(tmp_path: Path) -> None:
    backend, path = server(tmp_path)
    before_file, before_peers = path.read_bytes(), dict(backend.ifaces["wg0"])
    plan = Planner("wg0", path, backend).rotate_now("bob")  # two operations: the first lands, then a refusal
    backend.fail_apply = 1
    result = transaction.run(plan, backend)
    assert not result.ok and "refused" in result.message and "not touched" in result.message
    assert path.read_bytes() == before_file
    assert backend.ifaces["wg0"] == before_peers  # the half that landed was undone
    assert backend.psks[("wg0", BOB)] == BOB_PSK


def test_file_write_failure_rolls_the_runtime_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend, path = server(tmp_path)
    before_file, before_peers = path.read_bytes(), dict(backend.ifaces["wg0"])
    plan = Planner("wg0", path, backend).remove("bob")
    real_replace = os.replace

    def full_disk(src: str, dst: str) -> None:
        if Path(dst) == path:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(store.os, "replace", full_disk)
    result = transaction.run(plan, backend)
    assert not result.ok and "rolled back" in result.message and "No space left" in result.message
    assert path.read_bytes() == before_file
    assert backend.ifaces["wg0"] == before_peers  # bob is back, with his allowed IPs and keepalive
    assert backend.psks[("wg0", BOB)] == BOB_PSK  # and his preshared key
    assert not [p for p in tmp_path.iterdir() if p.name.endswith((".tmp", store.TMP_SUFFIX))]  # no temp file left


def test_undo_gives_back_prefixes_a_change_moved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend, path = server(tmp_path)
    backend.ifaces["wg0"][ALICE] = PeerState(ALICE, allowed_ips=("10.8.0.2/32", "fd00:8::2/128"))
    plan = Planner("wg0", path, backend).rotate_now("alice")
    import wgtui.changes.transaction as apply_module

    def fail(*_: object) -> None:
        raise store.StoreError("Cannot write wg0.conf: Read-only file system.")

    monkeypatch.setattr(apply_module, "replace_with_backup", fail)
    result = transaction.run(plan, backend)
    assert not result.ok and "rolled back" in result.message
    assert plan.public_key not in backend.ifaces["wg0"]
    assert backend.ifaces["wg0"][ALICE].allowed_ips == ("10.8.0.2/32", "fd00:8::2/128")


def test_changed_on_disk_is_refused_and_nothing_applied(tmp_path: Path) -> None:
    backend, path = server(tmp_path)
    plan = Planner("wg0", path, backend).add("carol", allowed_ips="10.8.0.7/32")
    path.write_text(path.read_text() + "# someone else edited this\n")
    edited, peers = path.read_bytes(), dict(backend.ifaces["wg0"])
    result = transaction.run(plan, backend)
    assert not result.ok and "changed on disk" in result.message
    assert path.read_bytes() == edited and backend.ifaces["wg0"] == peers and backend.applied == []


def test_a_second_wgtui_holding_the_lock_is_refused(tmp_path: Path) -> None:
    backend, path = server(tmp_path)
    plan = Planner("wg0", path, backend).add("carol", allowed_ips="10.8.0.7/32")
    with ownfiles.locked(path):
        result = transaction.run(plan, backend)
    assert not result.ok and "another wgtui is changing" in result.message and backend.applied == []
    assert transaction.run(plan, backend).ok  # the lock is released


def test_file_only_plan_never_calls_the_backend(tmp_path: Path) -> None:
    backend, path = server(tmp_path)
    plan = Planner("wg0", path, None, file_only=True).remove("bob")
    result = transaction.run(plan, backend)
    assert result.ok and not result.runtime_changed and backend.applied == []
    assert BOB not in path.read_text() and BOB in backend.ifaces["wg0"]


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.conf"
    target.write_bytes(b"old")
    monkeypatch.setattr(store.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(5, "Input/output error")))
    with pytest.raises(store.StoreError, match="Input/output error"):
        store.write_atomic(target, b"new")
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["f.conf"]
