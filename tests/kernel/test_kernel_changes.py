"""Provides the change pipeline's tests against the kernel module: add, remove, rotate now, staged rotation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from tests.kernel.conftest import NS
from tests.kernel.wgdump import in_thread, sh, wg_dump
from wgtui.backends.netlink import NetlinkBackend
from wgtui.changes import Planner, transaction
from wgtui.changes.rotation import RotationSession, Step
from wgtui.conf import Document

pytestmark = pytest.mark.kernel
T = TypeVar("T")


def in_server(fn: Callable[[], T]) -> T:
    return in_thread(fn, netns=NS[0])


@pytest.fixture
def conf(tunnel: dict[str, str], tmp_path: Path) -> Path:
    """wg0's file in NS[0], as its admin keeps it: the live peer, named, with a comment."""
    path = tmp_path / "wg0.conf"
    path.write_text(f"# the server of the kernel tests\n[Interface]\nAddress = 10.98.0.1/24\nListenPort = 51820\n\n"
                    f"# friendly_name = site-b\n[Peer]\nPublicKey = {tunnel[NS[1]]}\nAllowedIPs = 10.98.0.2/32\n")
    return path


def test_add_then_remove_through_netlink(conf: Path) -> None:
    original = conf.read_bytes()
    backend = NetlinkBackend()
    try:
        plan = in_server(lambda: Planner("wg0", conf, backend).add("carol", preshared_key=True, keepalive=25))
        result = in_server(lambda: transaction.run(plan, backend))
        assert result.ok, result.message
        live = wg_dump("wg0", netns=NS[0]).peers[plan.public_key]
        assert live.allowed_ips == ("10.98.0.3/32",) and live.persistent_keepalive == 25 and live.preshared_key
        assert Document.read(conf).names[plan.public_key] == "carol"
        removal = in_server(lambda: Planner("wg0", conf, backend).remove("carol"))
        assert in_server(lambda: transaction.run(removal, backend)).ok
    finally:
        backend.close()
    assert plan.public_key not in wg_dump("wg0", netns=NS[0]).peers
    assert conf.read_bytes() == original  # add then remove gives back the file byte for byte


def test_staged_rotation_moves_the_real_peer(tunnel: dict[str, str], conf: Path, tmp_path: Path) -> None:
    old_key = tunnel[NS[1]]
    sh("ping -c 1 -W 5 10.98.0.2", netns=NS[0])
    backend = NetlinkBackend()
    try:
        session = in_server(lambda: RotationSession.new(Planner("wg0", conf, backend), ["site-b"], timeout=120))
        assert in_server(session.start).ok
        (rotation,) = session.rotations
        assert rotation.step is Step.WAITING
        during = wg_dump("wg0", netns=NS[0])
        assert during.peers[rotation.new_key].allowed_ips == () and during.peers[old_key].allowed_ips
        assert rotation.client is not None
        (tmp_path / "new.key").write_text(rotation.client.private_key + "\n")
        # The client switches to its new key; its next packet makes a handshake with the new peer.
        sh(f"wg set wg0 private-key {tmp_path / 'new.key'}; ping -c 1 -W 5 10.98.0.1 || true", netns=NS[1])
        moved = in_server(session.poll)
        assert moved == [rotation] and rotation.step is Step.DONE, rotation.message
    finally:
        backend.close()
    after = wg_dump("wg0", netns=NS[0])
    assert old_key not in after.peers and after.peers[rotation.new_key].allowed_ips == ("10.98.0.2/32",)
    assert Document.read(conf).names == {rotation.new_key: "site-b"}
    sh("ping -c 2 -i 0.3 -W 5 10.98.0.1", netns=NS[1])  # the client works on its new key


def test_a_pending_rotation_survives_wg_quick_down_and_up(tunnel: dict[str, str], tmp_path: Path) -> None:
    """The rotation is in the file: a restart of the interface by wg-quick keeps both keys, and it finishes after."""
    old_key = tunnel[NS[1]]
    etc = tmp_path / "etc"
    etc.mkdir(mode=0o700)
    conf = etc / "wg0.conf"
    conf.write_text(f"[Interface]\nPrivateKey = {(tmp_path / NS[0]).read_text().strip()}\nListenPort = 51820\n"
                    f"Address = 10.98.0.1/24\n\n# friendly_name = site-b\n[Peer]\nPublicKey = {old_key}\n"
                    "AllowedIPs = 10.98.0.2/32\nEndpoint = 10.99.0.2:51820\n")
    conf.chmod(0o600)
    backend = NetlinkBackend()
    try:
        session = in_server(lambda: RotationSession.new(Planner("wg0", conf, backend), ["site-b"]))
        assert in_server(session.start).ok
        new_key = session.rotations[0].new_key
        private = session.rotations[0].client.private_key  # type: ignore[union-attr]
        sh(f"wg-quick down {conf}; wg-quick up {conf}", netns=NS[0])
        restarted = wg_dump("wg0", netns=NS[0])
        assert set(restarted.peers) == {old_key, new_key} and restarted.peers[new_key].allowed_ips == ()
        sh("ping -c 1 -W 5 10.98.0.1", netns=NS[1])  # the old key works after the restart
        (tmp_path / "new.key").write_text(private + "\n")
        sh(f"wg set wg0 private-key {tmp_path / 'new.key'}; ping -c 1 -W 5 10.98.0.1 || true", netns=NS[1])
        later = in_server(lambda: RotationSession.resume(Planner("wg0", conf, backend)))
        assert in_server(later.poll)[0].step is Step.DONE
    finally:
        backend.close()
    after = wg_dump("wg0", netns=NS[0])
    assert list(after.peers) == [new_key] and after.peers[new_key].allowed_ips == ("10.98.0.2/32",)
    sh("ping -c 2 -i 0.3 -W 5 10.98.0.1", netns=NS[1])


def test_rotate_now_swaps_in_one_transaction(tunnel: dict[str, str], conf: Path) -> None:
    backend = NetlinkBackend()
    try:
        plan = in_server(lambda: Planner("wg0", conf, backend).rotate_now("site-b"))
        assert in_server(lambda: transaction.run(plan, backend)).ok
    finally:
        backend.close()
    after = wg_dump("wg0", netns=NS[0])
    assert list(after.peers) == [plan.public_key] and after.peers[plan.public_key].allowed_ips == ("10.98.0.2/32",)
    assert tunnel[NS[1]] not in conf.read_text() and plan.public_key in conf.read_text()


def test_peer_apply_through_netlink(conf: Path, tmp_path: Path) -> None:
    """A batch is one runtime transaction and one file write; the same rows again change nothing."""
    import json

    from wgtui.changes.batch import plan_batch, read_rows

    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([{"name": f"batch-{i}", "keepalive": 25} for i in range(5)]
                               + [{"name": "site-b", "state": "disabled"}]))
    backend = NetlinkBackend()
    try:
        batch = in_server(lambda: plan_batch(Planner("wg0", conf, backend), read_rows(rows)))
        assert [o.outcome for o in batch.outcomes] == ["added"] * 5 + ["disabled"]
        assert in_server(lambda: transaction.run(batch.plan, backend)).ok
        again = in_server(lambda: plan_batch(Planner("wg0", conf, backend), read_rows(rows)))
        assert not again.changes_anything
    finally:
        backend.close()
    live = wg_dump("wg0", netns=NS[0]).peers
    names = Document.read(conf).names
    assert len(live) == 5 and all(names[k].startswith("batch-") and p.persistent_keepalive == 25
                                  for k, p in live.items())
