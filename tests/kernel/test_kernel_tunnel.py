"""Provides the test of NetlinkBackend.read in two namespaces with a real handshake and traffic over a veth pair."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from tests.kernel.conftest import NS
from tests.kernel.wgdump import differences, in_thread, sh, wg_dump
from wgtui.backends.netlink import NetlinkBackend
from wgtui.model import InterfaceState

pytestmark = pytest.mark.kernel


def settled_read(backend: NetlinkBackend, ns: str) -> InterfaceState:
    """A backend read taken between two equal `wg show dump`s, so that both describe the same moment."""
    for _ in range(5):
        before = wg_dump("wg0", netns=ns)
        state = backend.read("wg0")
        after = wg_dump("wg0", netns=ns)
        if before == after:
            assert differences(state, after) == []
            return state
    raise AssertionError(f"the counters of {ns} never stood still")


def test_handshake_and_counters_match_wg(tunnel: dict[str, str]) -> None:
    sh("ping -c 3 -i 0.3 -W 5 10.98.0.2", netns=NS[0])
    for ns in NS:
        backend = NetlinkBackend()
        try:
            in_thread(partial(backend.read, "wg0"), netns=ns)  # opens the backend's sockets inside ns
            assert backend.interfaces() == ["wg0"]
            state = settled_read(backend, ns)
            assert state.up
            other = NS[1] if ns == NS[0] else NS[0]
            (peer,) = state.peers.values()
            assert peer.public_key == tunnel[other]
            assert peer.latest_handshake > 0
            assert peer.rx_bytes > 0 and peer.tx_bytes > 0
            assert peer.endpoint == f"10.99.0.{NS.index(other) + 1}:51820"
            assert state.public_key == tunnel[ns] and state.listen_port == 51820
        finally:
            backend.close()


def test_wgtui_show_json_agrees_with_wg_show_dump(tunnel: dict[str, str], tmp_path: Path) -> None:
    """The whole `wgtui show --json` path (host backend, discovery, names, JSON) against the kernel module.

    Run in-process in a thread inside the namespace: a new Python process costs 5-25 s in this VM."""
    import io
    import json

    from wgtui.cli import build_parser
    from wgtui.cli.show import run_show

    sh("ping -c 2 -i 0.3 -W 5 10.98.0.2", netns=NS[0])
    (tmp_path / "wg0.conf").write_text(f"[Interface]\nListenPort = 51820\n\n### Client site-b\n[Peer]\n"
                                       f"PublicKey = {tunnel[NS[1]]}\nAllowedIPs = 10.98.0.2/32\n")
    args = build_parser().parse_args(["show", "--json", "--config-dir", str(tmp_path)])
    for _ in range(5):
        out = io.StringIO()
        before = wg_dump("wg0", netns=NS[0])
        assert in_thread(partial(run_show, args, out), netns=NS[0]) == 0
        if wg_dump("wg0", netns=NS[0]) == before:
            break
    (iface,) = json.loads(out.getvalue())["interfaces"]
    assert (iface["name"], iface["backend"], iface["public_key"], iface["listen_port"]) == (
        "wg0", "kernel", before.public_key, 51820)
    (peer,) = iface["peers"]
    ref = before.peers[tunnel[NS[1]]]
    assert peer["name"] == "site-b" and peer["state"] == "online"
    assert (peer["public_key"], peer["endpoint"], tuple(peer["allowed_ips"])) == (
        ref.public_key, ref.endpoint, ref.allowed_ips)
    assert (peer["latest_handshake"], peer["rx_bytes"], peer["tx_bytes"]) == (
        ref.latest_handshake, ref.rx_bytes, ref.tx_bytes)
    assert peer["latest_handshake"] > 0 and peer["rx_bytes"] > 0
