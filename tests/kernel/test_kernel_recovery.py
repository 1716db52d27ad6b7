"""Provides the recovery test against the kernel module: a real `wgtui peer add` killed with SIGKILL on both sides of
the commit point (strace), then `wgtui peer recover` through netlink; `wg show dump` is the reference."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kernel.conftest import NS
from tests.kernel.wgdump import wg_dump
from wgtui.conf import Document

pytestmark = pytest.mark.kernel
ROOT = Path(__file__).resolve().parent.parent.parent


def wgtui(*args: str, kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    strace = ["strace", "-f", "-qq", "-o", "/dev/null", "-e", f"inject={kill_at}:signal=SIGKILL"] if kill_at else []
    # No bytecode is written: a first import renames .pyc files into place, which would shift the count.
    return subprocess.run(["ip", "netns", "exec", NS[0], "env", "PYTHONDONTWRITEBYTECODE=1", *strace, sys.executable,
                           "-m", "wgtui", *args], capture_output=True, text=True, timeout=240, cwd=ROOT)


def agree(conf: Path) -> dict[str, tuple[str, ...]]:
    """The peers of wg0 when the interface and the file agree (asserted)."""
    live = {k: p.allowed_ips for k, p in wg_dump("wg0", netns=NS[0]).peers.items()}
    in_file = {p.public_key: tuple(p.allowed_ips) for p in Document.read(conf).peers if p.public_key}
    assert live == in_file
    return live


@pytest.mark.parametrize(("kill_at", "outcome", "added"), [
    ("rename:when=3", "recovered-rolled-back", False),  # the backup is being renamed: the peer is live, the file old
    ("fsync:when=8", "recovered-completed", True),  # the config file was renamed into place: the change stands
])
def test_a_change_killed_at_the_commit_point_is_recovered_through_netlink(
        tunnel: dict[str, str], tmp_path: Path, kill_at: str, outcome: str, added: bool) -> None:
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed on the host whose file system the VM shares")
    etc = tmp_path / "etc"
    etc.mkdir(mode=0o700)
    conf = etc / "wg0.conf"
    conf.write_text(f"[Interface]\nAddress = 10.98.0.1/24\nListenPort = 51820\n\n# friendly_name = site-b\n[Peer]\n"
                    f"PublicKey = {tunnel[NS[1]]}\nAllowedIPs = 10.98.0.2/32\n")
    conf.chmod(0o600)
    before = agree(conf)
    killed = wgtui("peer", "add", "wg0", "--name", "carol", "--config-dir", str(etc), "--yes", kill_at=kill_at)
    assert killed.returncode == -9, killed.stderr
    assert (etc / ".wg0.conf.wgtui-journal").exists()
    live = wg_dump("wg0", netns=NS[0]).peers
    assert len(live) == 2  # the half-done state: the peer is live (and the file has it or not)
    done = wgtui("peer", "recover", "wg0", "--config-dir", str(etc), "--yes", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["outcome"] == outcome
    after = agree(conf)
    assert (len(after) == 2) is added and (after == before) is not added
    assert not [p for p in etc.rglob("*") if p.name.endswith((".wgtui-tmp", ".wgtui-journal"))]
    assert (etc / "clients" / "wg0-carol.conf").exists() is added
    log = [json.loads(line) for line in (etc / "wgtui-audit.log").read_text().splitlines()]
    assert log[-1]["outcome"] == outcome
