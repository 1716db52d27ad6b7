"""A hostile host: special files, planted symlinks and hard links, unsafe directories, symlinked configs, leftovers."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.pipeline_fixtures import ALICE, CONF, server
from wgtui import store
from wgtui.changes import Planner, transaction
from wgtui.changes.audit import AUDIT_LOG
from wgtui.store import StoreError, UnsafePath

ROOT = Path(__file__).resolve().parent.parent.parent
NOBODY = 65534
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give files to another user")


def test_a_fifo_as_config_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "wg0.conf"
    os.mkfifo(fifo, 0o600)
    # In a subprocess: a regression would hang on open(), and the timeout turns that into a failure, not a hang.
    proc = subprocess.run([sys.executable, "-m", "wgtui", "peer", "remove", "wg0", "alice", "--file-only",
                           "--config-dir", str(tmp_path), "--yes"], capture_output=True, text=True, timeout=20,
                          cwd=ROOT)
    assert proc.returncode == 1 and "a FIFO, not a regular file" in proc.stderr


def test_a_link_to_dev_zero_is_refused_without_reading_it(tmp_path: Path) -> None:
    (tmp_path / "wg0.conf").symlink_to("/dev/zero")
    with pytest.raises(StoreError, match="character device, not a regular file"):
        Planner("wg0", tmp_path / "wg0.conf", None, file_only=True)


def test_files_larger_than_the_cap_are_refused(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"#" * 100)
    with pytest.raises(StoreError, match="more than the 50 wgtui reads"):
        store.read_regular(big, cap=50)
    assert store.read_regular(big, cap=100) == b"#" * 100


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o1777])
def test_a_directory_writable_by_others_is_refused_with_the_fix(tmp_path: Path, mode: int) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    backend, conf = server(shared)
    shared.chmod(mode)
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (shared / AUDIT_LOG).symlink_to(victim)  # what another user could plant there
    with pytest.raises(UnsafePath, match=r"writable by .*chmod go-w"):
        Planner("wg0", conf, backend)
    assert victim.read_text() == "precious\n" and conf.read_text() == CONF


@root_only
def test_a_directory_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    backend, conf = server(theirs)
    os.chown(theirs, NOBODY, NOBODY)
    with pytest.raises(UnsafePath, match=r"belongs to nobody.*chown root"):
        Planner("wg0", conf, backend)


def test_a_swappable_parent_is_refused_but_a_sticky_one_is_fine(tmp_path: Path) -> None:
    parent = tmp_path / "parent"
    (parent / "wg").mkdir(parents=True, mode=0o700)
    parent.chmod(0o777)
    with pytest.raises(UnsafePath, match=f"the directory above it, {parent}"):
        store.check_directory(parent / "wg")
    parent.chmod(0o1777)  # like /tmp: nobody can rename what root owns there
    store.check_directory(parent / "wg")


def test_a_transaction_rechecks_the_directory(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    plan = Planner("wg0", conf, backend).remove("alice")
    tmp_path.chmod(0o777)
    try:
        result = transaction.run(plan, backend)
    finally:
        tmp_path.chmod(0o700)
    assert not result.ok and "chmod go-w" in result.message and backend.applied == [] and conf.read_text() == CONF


def test_planted_symlinks_are_never_followed(tmp_path: Path) -> None:
    """Even where a symlink got in (root planted it by mistake): lock, journal, audit log, backup, clients/."""
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    for name in (".wg0.conf.wgtui-lock", AUDIT_LOG):
        work = tmp_path / name.strip(".")
        work.mkdir()
        backend, conf = server(work)
        (work / name).symlink_to(victim)
        result = transaction.run(Planner("wg0", conf, backend).remove("alice"), backend)
        assert victim.read_text() == "precious\n", name
        if name == AUDIT_LOG:  # the change is done; the log line is refused and the result says so
            assert result.ok and any("audit log" in s and "symlink" in s for s in result.steps)
        else:
            assert not result.ok and "symlink" in result.message and backend.applied == []
    work = tmp_path / "bak"
    work.mkdir()
    backend, conf = server(work)
    (work / "wg0.conf.bak").symlink_to(victim)
    assert transaction.run(Planner("wg0", conf, backend).remove("alice"), backend).ok
    assert victim.read_text() == "precious\n" and not (work / "wg0.conf.bak").is_symlink()  # replaced, not followed
    assert (work / "wg0.conf.bak").read_text() == CONF


def test_a_hard_link_as_the_audit_log_is_refused(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    os.link(victim, tmp_path / AUDIT_LOG)
    result = transaction.run(Planner("wg0", conf, backend).remove("alice"), backend)
    assert result.ok and any("hard link" in s for s in result.steps)
    assert victim.read_text() == "precious\n"


def test_a_symlinked_clients_directory_is_refused_before_anything_changes(tmp_path: Path) -> None:
    backend, conf = server(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "clients").symlink_to(elsewhere)
    plan = Planner("wg0", conf, backend).add("carol")
    assert plan.client_path == tmp_path / "clients" / "wg0-carol.conf"
    result = transaction.run(plan, backend)
    assert not result.ok and "symlink" in result.message
    assert list(elsewhere.iterdir()) == [] and conf.read_text() == CONF and backend.applied == []


def test_a_symlinked_config_is_written_in_its_targets_place(tmp_path: Path) -> None:
    srv = tmp_path / "srv"
    srv.mkdir(mode=0o700)
    backend, target = server(srv)
    etc = tmp_path / "etc"
    etc.mkdir(mode=0o700)
    link = etc / "wg0.conf"
    link.symlink_to(target)
    result = transaction.run(Planner("wg0", link, backend).remove("alice"), backend)
    assert result.ok and result.written == target and f"through the link {link}" in result.message
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert ALICE not in target.read_text() and ALICE not in link.read_text()
    assert (etc / "wg0.conf.bak").read_text() == CONF and not (etc / "wg0.conf.bak").is_symlink()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert not [p for d in (srv, etc) for p in d.iterdir() if p.name.endswith(store.TMP_SUFFIX)]


def test_a_dangling_config_link_is_refused(tmp_path: Path) -> None:
    (tmp_path / "wg0.conf").symlink_to(tmp_path / "gone.conf")
    with pytest.raises(StoreError, match="does not exist"):
        store.write_atomic(tmp_path / "wg0.conf", b"x", follow_link=True)


@root_only
def test_writing_keeps_the_owner_of_the_file_replaced(tmp_path: Path) -> None:
    path = tmp_path / "f.conf"
    path.write_text("old")
    os.chown(path, NOBODY, NOBODY)
    store.write_atomic(path, b"new")
    st = path.stat()
    assert (st.st_uid, st.st_gid) == (NOBODY, NOBODY) and stat.S_IMODE(st.st_mode) == 0o600


def test_temp_files_of_dead_processes_are_swept_and_live_ones_kept(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    leftover = tmp_path / f".wg0.conf.{int(dead.stdout)}{store.TMP_SUFFIX}"
    leftover.write_text("PrivateKey = secret\n")
    mine = store.temp_path(tmp_path / "wg0.conf")
    mine.write_text("in flight")
    other = tmp_path / f".x.1{store.TMP_SUFFIX}"  # pid 1 is alive but no wgtui: a reused pid
    other.write_text("x")
    assert sorted(store.sweep_temps(tmp_path)) == sorted([leftover, other])
    assert mine.exists() and not leftover.exists()
