"""Provides the tests of NetlinkBackend.apply against the kernel module, each change checked with `wg show dump`."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.kernel.wgdump import differences, sh, wg_dump
from wgtui import keys
from wgtui.backends.base import InterfaceGone
from wgtui.backends.netlink import NetlinkBackend
from wgtui.model import PeerUpdate

pytestmark = pytest.mark.kernel


def test_apply_changes_one_field_at_a_time(make_interface: Callable[[str], str]) -> None:
    ifname = make_interface("wgap0")
    sh(f"echo {keys.generate_private_key()} > /tmp/wgap0.key; wg set {ifname} private-key /tmp/wgap0.key")
    one, two = keys.keypair()[1], keys.keypair()[1]
    psk1, psk2 = keys.generate_preshared_key(), keys.generate_preshared_key()
    backend = NetlinkBackend()
    try:
        backend.apply(ifname, [
            PeerUpdate(one, endpoint="192.0.2.7:51820", allowed_ips=("10.7.0.0/24", "fd00:7::/64"),
                       persistent_keepalive=25, preshared_key=psk1),
            PeerUpdate(two, allowed_ips=("10.8.0.1/32",)),
        ])
        dump = wg_dump(ifname)
        assert list(dump.peers) == [one, two]
        p = dump.peers[one]
        assert (p.endpoint, p.allowed_ips, p.persistent_keepalive, p.preshared_key) == (
            "192.0.2.7:51820", ("10.7.0.0/24", "fd00:7::/64"), 25, psk1)
        assert backend.preshared_key(ifname, one) == psk1
        assert backend.preshared_key(ifname, two) is None

        backend.apply(ifname, [PeerUpdate(one, allowed_ips=("10.9.0.0/24",))])
        dump = wg_dump(ifname)
        assert dump.peers[one].allowed_ips == ("10.9.0.0/24",)  # replaced, not appended
        assert dump.peers[one].persistent_keepalive == 25 and dump.peers[one].preshared_key == psk1
        assert dump.peers[two].allowed_ips == ("10.8.0.1/32",)

        backend.apply(ifname, [PeerUpdate(one, preshared_key=psk2)])
        assert wg_dump(ifname).peers[one].preshared_key == psk2
        assert backend.preshared_key(ifname, one) == psk2
        backend.apply(ifname, [PeerUpdate(one, preshared_key=None)])
        assert wg_dump(ifname).peers[one].preshared_key is None
        assert backend.preshared_key(ifname, one) is None

        backend.apply(ifname, [PeerUpdate(one, persistent_keepalive=0, endpoint="[fd00::9]:51821")])
        p = wg_dump(ifname).peers[one]
        assert (p.persistent_keepalive, p.endpoint, p.allowed_ips) == (0, "[fd00::9]:51821", ("10.9.0.0/24",))

        backend.apply(ifname, [PeerUpdate(one, allowed_ips=())])
        assert wg_dump(ifname).peers[one].allowed_ips == ()

        backend.apply(ifname, [PeerUpdate(one, remove=True)])
        dump = wg_dump(ifname)
        assert list(dump.peers) == [two] and dump.peers[two].allowed_ips == ("10.8.0.1/32",)
        assert differences(backend.read(ifname), dump) == []

        with pytest.raises(InterfaceGone):
            backend.apply("wgap-nothere", [PeerUpdate(one)])
    finally:
        backend.close()


def test_a_peer_with_3000_allowed_ips(make_interface: Callable[[str], str]) -> None:
    ifname = make_interface("wgap1")
    key = keys.keypair()[1]
    ips = tuple(f"10.200.{i // 256}.{i % 256}/32" for i in range(3000))
    backend = NetlinkBackend()
    try:
        backend.apply(ifname, [PeerUpdate(key, allowed_ips=("10.1.0.0/16",))])
        backend.apply(ifname, [PeerUpdate(key, allowed_ips=ips)])
        dump = wg_dump(ifname)
        assert dump.peers[key].allowed_ips == ips  # the old prefix is gone, the 3000 are in order
        state = backend.read(ifname)  # the kernel splits this peer across dump messages
        assert differences(state, dump) == []
        assert state.peers[key].allowed_ips == ips
    finally:
        backend.close()
