"""Provides the UAPI backend's root-free tests: canned answers, the peer cache, set transactions, a fake daemon."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wgtui import keys
from wgtui.backends import uapi
from wgtui.backends.base import Backend, BackendError, InterfaceGone, NotPermitted
from wgtui.backends.uapi import UapiBackend, build_set, find_preshared_key, new_cache, parse_get, split_answer
from wgtui.model import PeerState, PeerUpdate

# RFC 7748 section 6.1: Alice's X25519 key pair.
PRIV_HEX = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
PUB_B64 = keys.hex_to_b64("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
P1, P2, P3 = (bytes([n]) * 32 for n in (1, 2, 3))
PSK_HEX = "a5" * 32
ZERO = "0" * 64
K1, K2 = keys.b64(P1), keys.b64(P2)
PSK_B64 = keys.hex_to_b64(PSK_HEX)


def peer_text(raw: bytes, *, psk: str = ZERO, endpoint: str | None = None, handshake: int = 0, rx: int = 0,
              tx: int = 0, keepalive: int = 0, allowed: tuple[str, ...] = ()) -> str:
    """One peer as wireguard-go writes it."""
    lines = [f"public_key={raw.hex()}", f"preshared_key={psk}", "protocol_version=1"]
    if endpoint:
        lines.append(f"endpoint={endpoint}")
    lines += [f"last_handshake_time_sec={handshake}", "last_handshake_time_nsec=123456", f"tx_bytes={tx}",
              f"rx_bytes={rx}", f"persistent_keepalive_interval={keepalive}"]
    lines += [f"allowed_ip={prefix}" for prefix in allowed]
    return "".join(line + "\n" for line in lines)


def answer(*peers: str, device: str = f"private_key={PRIV_HEX}\nlisten_port=51820\n", errno: int = 0) -> bytes:
    return (device + "".join(peers) + f"errno={errno}\n\n").encode()


PEER1 = peer_text(P1, endpoint="10.99.0.2:51820", handshake=1795609490, rx=604, tx=692, allowed=("10.98.0.2/32",))
PEER2 = peer_text(P2, psk=PSK_HEX, endpoint="[fd00::5]:51820", keepalive=25,
                  allowed=("10.98.5.0/24", "fd98:5::/64"))
PEER3 = peer_text(P3)
CANNED = answer(PEER1, PEER2, PEER3, device=f"private_key={PRIV_HEX}\nlisten_port=51820\nfwmark=7\n")


def test_parses_every_field_as_wg_prints_it() -> None:
    state = parse_get(CANNED, "wg0")
    assert (state.name, state.backend, state.up) == ("wg0", "userspace", True)
    assert (state.public_key, state.listen_port, state.fwmark) == (PUB_B64, 51820, 7)
    assert list(state.peers.values()) == [
        PeerState(keys.b64(P1), "10.99.0.2:51820", ("10.98.0.2/32",), 1795609490, 604, 692, 0, False),
        PeerState(keys.b64(P2), "[fd00::5]:51820", ("10.98.5.0/24", "fd98:5::/64"), 0, 0, 0, 25, True),
        PeerState(keys.b64(P3)),
    ]


def test_secrets_are_not_kept() -> None:
    cache = new_cache()
    state = parse_get(CANNED, "wg0", cache)
    for secret in (PRIV_HEX, keys.hex_to_b64(PRIV_HEX), PSK_HEX, keys.hex_to_b64(PSK_HEX)):
        assert secret not in repr(state)
        assert secret.encode() not in b"".join(k + d for k, (d, _) in cache.entries.items())


def test_bare_device_and_empty_answer() -> None:
    state = parse_get(b"errno=0\n\n", "wg1")
    assert (state.public_key, state.listen_port, state.fwmark, dict(state.peers)) == (None, 0, 0, {})
    assert parse_get(answer(PEER3, device=""), "wg1").peers[keys.b64(P3)] == PeerState(keys.b64(P3))


@pytest.mark.parametrize(("data", "words"), [
    (b"errno=-22\n\n", "errno -22: Invalid argument"),
    (b"listen_port=1\n", "ended early"),
    (b"listen_port=1\n\n", "did not end with an errno"),
    (b"errno=x\n\n", "malformed errno"),
    (answer(PEER1.replace("rx_bytes=604", "rx_bytes=lots")), "malformed"),
    (answer("public_key=zz\n"), "malformed"),
    (answer("public_key=" + "g" * 64 + "\n"), "malformed"),
    (b"listen_port=\xff\nerrno=0\n\n", "malformed"),
    (answer(PEER1.replace("endpoint=10", "endpoint=\u00e910")), "non-ASCII"),
])
def test_errors_and_malformed_answers(data: bytes, words: str) -> None:
    with pytest.raises(BackendError, match=words):
        parse_get(data, "wg0")


def test_split_answer() -> None:
    assert split_answer(b"errno=0\n\n") == (b"", 0)
    assert split_answer(b"a=1\nb=2\nerrno=-5\n\n") == (b"a=1\nb=2", -5)


def test_unchanged_peers_are_the_same_objects() -> None:
    cache = new_cache()
    first = parse_get(CANNED, "wg0", cache)
    assert (cache.parsed, cache.reused) == (3, 0)
    again = parse_get(CANNED, "wg0", cache)
    assert (cache.parsed, cache.reused) == (0, 3)
    assert all(again.peers[k] is first.peers[k] for k in first.peers)

    busier = PEER1.replace("rx_bytes=604", "rx_bytes=9000")
    third = parse_get(answer(busier, PEER2, PEER3, device=f"private_key={PRIV_HEX}\nlisten_port=51820\n"), "wg0", cache)
    assert (cache.parsed, cache.reused) == (1, 2)
    assert third.peers[keys.b64(P1)].rx_bytes == 9000
    assert third.peers[keys.b64(P2)] is first.peers[keys.b64(P2)]
    assert third.listen_port == 51820 and third.fwmark == 0  # device lines are never cached


def test_preshared_key_changes_matter_only_as_presence() -> None:
    cache = new_cache()
    first = parse_get(answer(PEER2), "wg0", cache)
    rotated = parse_get(answer(PEER2.replace(PSK_HEX, "5a" * 32)), "wg0", cache)
    assert rotated.peers[K2] is first.peers[K2]  # same presence: nothing a PeerState shows has changed
    cleared = parse_get(answer(PEER2.replace(PSK_HEX, ZERO)), "wg0", cache)
    assert cache.parsed == 1 and not cleared.peers[K2].has_preshared_key


def test_order_is_stable_across_go_map_order_and_new_peers_go_last() -> None:
    cache = new_cache()
    parse_get(answer(PEER1, PEER2, PEER3), "wg0", cache)
    p4 = peer_text(bytes([4]) * 32)
    shuffled = parse_get(answer(PEER3, p4, PEER1), "wg0", cache)
    assert list(shuffled.peers) == [keys.b64(P1), keys.b64(P3), keys.b64(bytes([4]) * 32)]
    assert keys.b64(P2) not in shuffled.peers
    assert P2.hex().encode() not in cache.entries  # a removed peer leaves the cache


def test_last_peer_without_trailing_newline_context_is_still_cached() -> None:
    # The last chunk of an answer is followed by the errno line; moving a peer to the end must not re-parse it.
    cache = new_cache()
    parse_get(answer(PEER1, PEER2), "wg0", cache)
    parse_get(answer(PEER2, PEER1), "wg0", cache)
    assert (cache.parsed, cache.reused) == (0, 2)


def big_answer(n: int, busy: int = 0) -> bytes:
    peers = [peer_text(i.to_bytes(32, "big"), endpoint=f"10.{i >> 8 & 255}.{i & 255}.1:51820",
                       handshake=1795609490, rx=i * 10 + (1 if i < busy else 0), tx=i,
                       keepalive=25 if i % 3 else 0, psk=PSK_HEX if i % 2 else ZERO,
                       allowed=(f"10.{i >> 8 & 255}.{i & 255}.0/24", f"fd00:{i:x}::/64"))
             for i in range(n)]
    return answer(*peers)


def test_cache_makes_rereading_2000_peers_cheaper() -> None:
    data = big_answer(2000)
    busy = big_answer(2000, busy=20)  # 1 % of the peers moved traffic since the last poll

    def best(fn: Callable[[], object]) -> float:
        times = []
        for _ in range(5):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times)

    uncached = best(lambda: parse_get(data, "wg0"))
    cache = new_cache()
    parse_get(data, "wg0", cache)
    cached = best(lambda: parse_get(data, "wg0", cache))
    parse_get(busy, "wg0", cache)
    assert (cache.parsed, cache.reused) == (20, 1980)
    print(f"\nparse 2000 peers: uncached {uncached * 1e3:.1f} ms, cached {cached * 1e3:.1f} ms")
    assert cached < uncached / 2


peer_states = st.builds(
    PeerState,
    public_key=st.binary(min_size=32, max_size=32).map(keys.b64),
    endpoint=st.none() | st.sampled_from(["192.0.2.1:51820", "[2001:db8::1]:1", "[fe80::1%eth0]:65535"]),
    allowed_ips=st.lists(st.sampled_from(["10.0.0.0/8", "0.0.0.0/0", "::/0", "fd00::1/128"]), max_size=4,
                         unique=True).map(tuple),
    latest_handshake=st.integers(0, 2**40), rx_bytes=st.integers(0, 2**64 - 1), tx_bytes=st.integers(0, 2**64 - 1),
    persistent_keepalive=st.integers(0, 65535), has_preshared_key=st.booleans())


@given(st.lists(peer_states, max_size=6, unique_by=lambda p: p.public_key), st.integers(0, 65535))
def test_round_trip(peers: list[PeerState], port: int) -> None:
    text = answer(*(peer_text(keys.parse_key(p.public_key), psk=PSK_HEX if p.has_preshared_key else ZERO,
                              endpoint=p.endpoint, handshake=p.latest_handshake, rx=p.rx_bytes, tx=p.tx_bytes,
                              keepalive=p.persistent_keepalive, allowed=p.allowed_ips) for p in peers),
                  device=f"listen_port={port}\n" if port else "")
    state = parse_get(text, "wg0")
    assert list(state.peers.values()) == peers and state.listen_port == port


def test_find_preshared_key() -> None:
    body, _ = split_answer(CANNED)
    assert find_preshared_key(body, keys.b64(P2)) == keys.hex_to_b64(PSK_HEX)
    assert find_preshared_key(body, keys.b64(P1)) is None
    assert find_preshared_key(body, keys.b64(bytes([9]) * 32)) is None


# --- set transactions -------------------------------------------------------------------------------------------

def test_set_transaction_text() -> None:
    updates = [
        PeerUpdate(K1, preshared_key=PSK_B64, endpoint="[2001:DB8:0::1]:51820", persistent_keepalive=0,
                   allowed_ips=("10.0.0.5/24", "fd00::1")),
        PeerUpdate(K2, preshared_key=None, allowed_ips=()),
        PeerUpdate(K2, endpoint="192.0.2.7:1"),
        PeerUpdate(K1, remove=True),
    ]
    assert build_set(updates).decode() == (
        "set=1\n"
        f"public_key={P1.hex()}\npreshared_key={PSK_HEX}\nendpoint=[2001:db8::1]:51820\n"
        "persistent_keepalive_interval=0\nreplace_allowed_ips=true\nallowed_ip=10.0.0.0/24\nallowed_ip=fd00::1/128\n"
        f"public_key={P2.hex()}\npreshared_key={ZERO}\nreplace_allowed_ips=true\n"
        f"public_key={P2.hex()}\nendpoint=192.0.2.7:1\n"
        f"public_key={P1.hex()}\nupdate_only=true\nremove=true\n\n")
    assert build_set([]) == b"set=1\n\n"


@pytest.mark.parametrize("update", [
    PeerUpdate(K1, endpoint="10.0.0.1:51820\nremove=true"),
    PeerUpdate(K1, endpoint="10.0.0.1:51820\n"),
    PeerUpdate(K1, endpoint="fd00::1:51820"),
    PeerUpdate(K1, endpoint="[10.0.0.1:51820"),
    PeerUpdate(K1, endpoint="10.0.0.1:0"),
    PeerUpdate(K1, endpoint="10.0.0.1:70000"),
    PeerUpdate(K1, endpoint="10.0.0.1"),
    PeerUpdate(K1, endpoint="[fe80::1%a\nb]:1"),
    PeerUpdate(K1, endpoint="bad_host!:1"),
    PeerUpdate(K1, endpoint=None),  # type: ignore[arg-type]
    PeerUpdate(K1, allowed_ips=("10.0.0.0/8\nremove=true",)),
    PeerUpdate(K1, allowed_ips=("10.0.0.0/33",)),
    PeerUpdate(K1, allowed_ips=["10.0.0.0/8"]),  # type: ignore[arg-type]
    PeerUpdate(K1, allowed_ips=(167772160,)),  # type: ignore[arg-type]
    PeerUpdate(K1, persistent_keepalive=-1),
    PeerUpdate(K1, persistent_keepalive=65536),
    PeerUpdate(K1, persistent_keepalive=True),
    PeerUpdate(K1, preshared_key="short"),
    PeerUpdate("not a key"),
    PeerUpdate(K1 + "\nremove=true"),
    PeerUpdate(K1, remove=True, endpoint="10.0.0.1:1"),
])
def test_invalid_updates_are_refused_before_sending(update: PeerUpdate) -> None:
    with pytest.raises(BackendError):
        build_set([PeerUpdate(K2, endpoint="10.0.0.2:1"), update])


@given(st.text(max_size=40))
def test_no_endpoint_text_can_inject_a_line(text: str) -> None:
    try:
        data = build_set([PeerUpdate(K1, endpoint=text)])
    except BackendError:
        return
    assert data.count(b"\n") == 4 and data.endswith(b"\n\n")


def test_host_names_are_resolved() -> None:
    line = build_set([PeerUpdate(K1, endpoint="localhost:51820")]).decode().splitlines()[2]
    assert line in ("endpoint=127.0.0.1:51820", "endpoint=[::1]:51820")


# --- a fake daemon on a unix socket -----------------------------------------------------------------------------

class FakeDaemon:
    """Answers each request on `<dir>/<name>.sock` from a script, and records what it was sent."""

    def __init__(self, directory: Path, name: str, answers: list[bytes]) -> None:
        self.requests: list[bytes] = []
        self.answers = answers
        self.hold = threading.Event()
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(directory / f"{name}.sock"))
        self.server.listen()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                data = b""
                while not data.endswith(b"\n\n"):
                    block = conn.recv(65536)
                    if not block:
                        break
                    data += block
                if data:
                    self.requests.append(data)
                    if self.answers:
                        conn.sendall(self.answers.pop(0))
                    else:
                        self.hold.wait(5)  # a hung daemon: keeps the connection, never answers

    def close(self) -> None:
        self.hold.set()
        self.server.close()


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[Callable[..., FakeDaemon]]:
    daemons: list[FakeDaemon] = []

    def start(name: str, *answers: bytes) -> FakeDaemon:
        daemons.append(FakeDaemon(tmp_path, name, list(answers)))
        return daemons[-1]

    yield start
    for daemon in daemons:
        daemon.close()


def test_backend_reads_applies_and_reports_errno(tmp_path: Path, fake: Callable[..., FakeDaemon]) -> None:
    daemon = fake("lo", CANNED, CANNED, b"errno=0\n\n", b"errno=-22\n\n", CANNED)
    backend = UapiBackend(tmp_path)
    assert isinstance(backend, Backend)
    first = backend.read("lo")
    assert first.public_key == PUB_B64 and len(first.peers) == 3
    assert backend.read("lo").peers[K1] is first.peers[K1]
    assert backend.cache_stats("lo") == (0, 3)
    updates = [PeerUpdate(K1, persistent_keepalive=0)]
    backend.apply("lo", updates)
    with pytest.raises(BackendError, match=r"lo refused the change \(errno -22: Invalid argument\)"):
        backend.apply("lo", updates)
    assert backend.preshared_key("lo", K2) == PSK_B64
    assert daemon.requests == [b"get=1\n\n"] * 2 + [build_set(updates)] * 2 + [b"get=1\n\n"]
    backend.apply("lo", [])  # nothing to send: no connection at all
    assert len(daemon.requests) == 5
    backend.close()


def test_interfaces_lists_live_sockets_of_this_namespace(tmp_path: Path, fake: Callable[..., FakeDaemon]) -> None:
    fake("lo")  # `lo` exists in every namespace
    fake("wguabsent0")  # answers, but no such link here
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(tmp_path / "wgustale0.sock"))
    stale.close()  # the file stays, nobody listens: a daemon that died
    (tmp_path / "notes.txt").write_text("not a socket")
    assert UapiBackend(tmp_path).interfaces() == ["lo"]
    assert UapiBackend(tmp_path / "missing").interfaces() == []
    with pytest.raises(InterfaceGone):
        UapiBackend(tmp_path).read("wgustale0")


def test_missing_invalid_and_silent_interfaces(tmp_path: Path, fake: Callable[..., FakeDaemon]) -> None:
    backend = UapiBackend(tmp_path, timeout=0.2)
    with pytest.raises(InterfaceGone, match="does not exist"):
        backend.read("wg9")
    with pytest.raises(InterfaceGone, match="not a valid interface name"):
        backend.read("../../etc/x")
    with pytest.raises(InterfaceGone):
        backend.apply("wg9", [PeerUpdate(K1, remove=True)])
    fake("mute0")  # reads the request, never answers
    with pytest.raises(BackendError, match=r"did not answer within 0\.2 s"):
        backend.read("mute0")


def test_closing_without_answer_is_interface_gone(tmp_path: Path, fake: Callable[..., FakeDaemon]) -> None:
    daemon = fake("lo", b"")
    with pytest.raises(InterfaceGone, match="closed the connection"):
        UapiBackend(tmp_path).read("lo")
    daemon.close()


def test_permission_denied_says_sudo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Refusing(socket.socket):
        def connect(self, address: object) -> None:
            raise PermissionError(13, os.strerror(13))

    monkeypatch.setattr(socket, "socket", Refusing)  # uapi looks it up at call time
    with pytest.raises(NotPermitted, match=r"Reading wg0 needs root.*sudo wgtui"):
        UapiBackend(tmp_path).read("wg0")
    with pytest.raises(NotPermitted, match=r"Changing wg0 needs root"):
        UapiBackend(tmp_path).apply("wg0", [PeerUpdate(K1, remove=True)])


def test_link_up_uses_this_namespace() -> None:
    assert uapi.link_up("wguabsent0") is True  # unknown: not ours to call down
    assert isinstance(uapi.link_up("lo"), bool)
