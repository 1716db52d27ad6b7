"""Provides a server config file and a fake running interface that agree, for the change-pipeline tests."""

from __future__ import annotations

from pathlib import Path

from tests.fakes import FakeBackend
from wgtui import keys
from wgtui.model import PeerState

SERVER_PRIVATE = "OLTmUuRNp/I3DZ4mDicTZVCko6bQf1wMMy+LEiQIP9I="
ALICE = "lF3i6PVO54HMdfY22FCZCVqjABZaZwNvm1QNa48L4hE="
BOB = "9QrmlRTajGWc4rEMzNrr+ZDRmDiw1+wLPpeBjsuWxNs="
BOB_PSK = "uZ2sG8t8hC4y0l8qB9H8y5o1g5a2e4H8c1m1N2d3r0Q="
GHOST = "A3JVX9I18Rgp+ziMIuRMtjfwEhDDcHqQtAVCD7Fpd54="
"""A peer only on the running interface (added with `wg set` by hand)."""

CONF = f"""# Office VPN -- hand-written, keep the comments
[Interface]
Address = 10.8.0.1/24, fd00:8::1/64
ListenPort = 51820
PrivateKey = {SERVER_PRIVATE}
PostUp = iptables -A FORWARD -i %i -j ACCEPT # forward

### Client alice
[Peer]
PublicKey = {ALICE}
AllowedIPs = 10.8.0.2/32, fd00:8::2/128   # laptop

# an old peer, commented out:
#[Peer]
#PublicKey = xxx

### Client bob
[Peer]
PublicKey = {BOB}
PresharedKey = {BOB_PSK}
AllowedIPs = 10.8.0.3/32
PersistentKeepalive = 25
"""


def server(tmp_path: Path, conf: str = CONF) -> tuple[FakeBackend, Path]:
    path = tmp_path / "wg0.conf"
    path.write_text(conf)
    path.chmod(0o600)
    backend = FakeBackend()
    backend.ifaces["wg0"] = {
        ALICE: PeerState(ALICE, endpoint="203.0.113.4:51820", allowed_ips=("10.8.0.2/32", "fd00:8::2/128"),
                         latest_handshake=1_800_000_000, rx_bytes=5000, tx_bytes=7000),
        BOB: PeerState(BOB, allowed_ips=("10.8.0.3/32",), persistent_keepalive=25, has_preshared_key=True),
        GHOST: PeerState(GHOST, allowed_ips=("10.8.0.9/32",)),
    }
    backend.psks[("wg0", BOB)] = BOB_PSK
    return backend, path


def server_public() -> str:
    return keys.public_key(SERVER_PRIVATE)
