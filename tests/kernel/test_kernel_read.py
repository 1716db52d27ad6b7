"""Provides the tests of NetlinkBackend.read in the VM: 2,000 peers, a split peer, errors; `wg` is the reference."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.kernel.wgdump import differences, entry_keys, in_thread, sh, wg_dump
from wgtui import keys
from wgtui.backends.base import BackendError, InterfaceGone, NotPermitted
from wgtui.backends.netlink import NetlinkBackend

pytestmark = pytest.mark.kernel

PEERS = 2000
BIG = 7
"""This peer gets 1,500 allowed IPs: more than one dump message holds, so the kernel splits it."""


def config(n: int) -> str:
    lines = ["[Interface]", f"PrivateKey = {keys.generate_private_key()}", "ListenPort = 51999", "FwMark = 0x42"]
    for i in range(n):
        lines += ["", "[Peer]", f"PublicKey = {keys.public_key(keys.generate_private_key())}"]
        if i % 5 == 0:
            lines.append(f"PresharedKey = {keys.generate_preshared_key()}")
        if i % 3 == 0:
            lines.append(f"Endpoint = 192.0.2.{i % 250 + 1}:{20000 + i}")
        elif i % 3 == 1:
            lines.append(f"Endpoint = [2001:db8::{i:x}]:{20000 + i}")
        ips = [f"10.64.{i // 256}.{i % 256}/32"]
        if i % 4 == 0:
            ips.append(f"fd00:64::{i:x}/128")
        if i % 10 == 0:
            ips.append(f"10.{128 + i // 256}.{i % 256}.0/24")
        if i == BIG:
            ips += [f"10.32.{j // 256}.{j % 256}/32" for j in range(1500)]
        lines.append(f"AllowedIPs = {', '.join(ips)}")
        if i % 4 == 0:
            lines.append("PersistentKeepalive = 25")
    return "\n".join(lines) + "\n"


def test_2000_peers_match_wg_show_dump(make_interface: Callable[..., str], tmp_path: Path) -> None:
    ifname = make_interface("wgk0", keep=True)
    conf = tmp_path / "wgk0.conf"
    conf.write_text(config(PEERS))
    sh(f"wg setconf {ifname} {conf}")

    backend = NetlinkBackend()
    try:
        started = time.perf_counter()
        state = backend.read(ifname)
        first_read = time.perf_counter() - started
        dump = wg_dump(ifname)
        assert len(dump.peers) == PEERS
        assert differences(state, dump) == []
        assert state.backend == "kernel" and state.name == ifname and state.up is False
        assert len(list(state.peers.values())[BIG].allowed_ips) == 1501

        # The interface is down, so nothing changes: every unsplit peer comes back as the same object.
        started = time.perf_counter()
        again = backend.read(ifname)
        cached_read = time.perf_counter() - started
        assert again == state
        entries = entry_keys(backend._dump(backend._family_id(), ifname))
        split = {keys.b64(k) for k, n in Counter(entries).items() if n > 1}
        assert list(state.peers)[BIG] in split and len(entries) > PEERS
        assert {k for k in state.peers if again.peers[k] is not state.peers[k]} == split
        assert ifname in backend.interfaces()
        print(f"\nread of {PEERS} peers in the VM: {first_read * 1e3:.0f} ms, cached {cached_read * 1e3:.0f} ms")
    finally:
        backend.close()


def test_read_errors(make_interface: Callable[..., str]) -> None:
    ifname = make_interface("wgk1")
    backend = NetlinkBackend()
    try:
        assert backend.interfaces() == sorted(backend.interfaces())
        assert "lo" not in backend.interfaces() and ifname in backend.interfaces()
        empty = backend.read(ifname)
        assert empty.peers == {} and empty.public_key is None and empty.up is False
        with pytest.raises(InterfaceGone):
            backend.read("wgk-nothere")
        with pytest.raises(BackendError, match="not a kernel WireGuard interface") as info:
            backend.read("lo")
        assert not isinstance(info.value, InterfaceGone)
        sh(f"ip link del {ifname}")
        with pytest.raises(InterfaceGone):
            backend.read(ifname)
    finally:
        backend.close()


def test_unprivileged_reader_is_told_to_use_sudo(make_interface: Callable[..., str]) -> None:
    ifname = make_interface("wgk2")
    backend = NetlinkBackend()  # its sockets open in the unprivileged thread and keep its credentials
    try:
        names = in_thread(backend.interfaces, uid=65534)
        assert ifname in names  # listing links needs no privilege
        with pytest.raises(NotPermitted, match=r"CAP_NET_ADMIN.*sudo wgtui"):
            in_thread(lambda: backend.read(ifname), uid=65534)
    finally:
        backend.close()
