"""The fast watch for pending rotations: sees a new key's first handshake within a tenth of a second, only while
the rotation is young, and reports each once."""

from __future__ import annotations

import threading
import time

from tests.fakes import Clock, FakeBackend
from wgtui.changes.handshake_watch import HandshakeWatch
from wgtui.model import PeerState

OLD, NEW, OTHER = "A" * 43 + "=", "B" * 43 + "=", "C" * 43 + "="


def backend() -> FakeBackend:
    fake = FakeBackend()
    fake.ifaces["wg0"] = {OLD: PeerState(OLD, allowed_ips=("10.0.0.2/32",)), NEW: PeerState(NEW)}
    return fake


def test_a_handshake_is_seen_within_a_tenth_of_a_second_and_reported_once() -> None:
    fake = backend()
    seen: list[tuple[str, list[tuple[str, str]], float]] = []
    got = threading.Event()

    def report(ifname: str, pairs: list[tuple[str, str]]) -> None:
        seen.append((ifname, pairs, time.monotonic()))
        got.set()

    watch = HandshakeWatch(fake, report)
    try:
        watch.update("wg0", {NEW: (OLD, time.time())})
        time.sleep(0.25)
        assert seen == []
        fake.bump("wg0", NEW, latest_handshake=int(time.time()))
        handshook = time.monotonic()
        assert got.wait(2)
        time.sleep(0.3)
    finally:
        watch.stop()
    assert [(i, p) for i, p, _ in seen] == [("wg0", [(OLD, NEW)])]
    assert seen[0][2] - handshook < 0.2


def test_old_rotations_are_left_to_the_monitors_pace() -> None:
    fake = backend()
    clock = Clock()
    reads: list[str] = []
    real = fake.read
    fake.read = lambda ifname: (reads.append(ifname), real(ifname))[1]  # type: ignore[method-assign]
    watch = HandshakeWatch(fake, lambda *_: None, young_for=900, clock=clock)
    watch.stop()  # no thread: the test polls by hand
    watch.update("wg0", {NEW: (OLD, clock() - 1000), OTHER: (OLD, clock() - 10)})
    assert list(watch.young()["wg0"]) == [OTHER]
    assert watch.poll_once() and reads == ["wg0"]
    watch.update("wg0", {NEW: (OLD, clock() - 1000)})
    assert not watch.poll_once() and reads == ["wg0"]  # nothing young: no read at all
