"""Provides the host-side part of the kernel poll benchmark: the decoder and the monitor on synthetic dumps laid out
as the kernel lays them out (no VM, no root), to profile what a VM boot would measure at 1/16 of the cost.

The dumps hold the peers of bench_poll.peers_config (a third with preshared keys, six sevenths with endpoints, a
quarter with an IPv6 prefix), encoded by the tests' kernel-like encoder into messages of the captured dumps' size;
each step moves 5% of the peers to new endpoints, as bench_poll's `wg addconf` does (some peers grow 20 bytes).
Times are CPU times of this process (time.process_time), the best of several runs: other work on the host moves
wall-clock times too much to compare two versions of the code."""

from __future__ import annotations

import random
import socket
import struct
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Result, main_for
from tests.fakes import Clock
from tests.test_nldecode import NESTED, Peer, build_dump, nl_messages, nla, parse_dump
from wgtui.backends.nldecode import DumpDecoder
from wgtui.model import InterfaceState
from wgtui.monitor import Monitor

BENCH = "poll (kernel layout, host, synthetic dump)"
MESSAGE_LIMIT = 32392
"""The largest message of the captured 2,000-peer dump: where the kernel cut it."""
(PEER_KEY, PEER_PSK, PEER_KEEPALIVE, PEER_HANDSHAKE, PEER_ENDPOINT, PEER_RX, PEER_TX,
 PEER_VERSION) = 1, 2, 5, 6, 4, 7, 8, 10


def _ip(family: int, text: str, cidr: int) -> bytes:
    raw = socket.inet_pton(family, text)
    return nla(NESTED, nla(3, bytes((cidr,))) + nla(1, struct.pack("=H", family)) + nla(2, raw))


def _endpoint(host: str, port: int) -> bytes:
    return struct.pack("=H", socket.AF_INET) + struct.pack("!H", port) + socket.inet_pton(socket.AF_INET, host) \
        + bytes(8)


def synthetic_peers(n: int, rng: random.Random) -> list[Peer]:
    """bench_poll.peers_config's peers, as the kernel would report them (attributes in its order)."""
    peers = []
    for i in range(n):
        own = [(PEER_KEY, rng.randbytes(32)), (PEER_PSK, rng.randbytes(32) if i % 3 == 0 else bytes(32)),
               (PEER_HANDSHAKE, bytes(16)), (PEER_KEEPALIVE, struct.pack("=H", 25 if i % 3 == 0 else 0)),
               (PEER_TX, bytes(8)), (PEER_RX, bytes(8)), (PEER_VERSION, struct.pack("=I", 1))]
        if i % 7:
            own.append((PEER_ENDPOINT, _endpoint(f"198.51.{100 + i % 2}.{i % 250 + 1}", 1024 + i % 60000)))
        ips = [_ip(socket.AF_INET, f"10.{64 + i // 65536}.{i // 256 % 256}.{i % 256}", 32)]
        if i % 4 == 1:
            ips.append(_ip(socket.AF_INET6, f"fd00:64::{i:x}", 128))
        peers.append(Peer(own, ips))
    return peers


def moved(peers: list[Peer], share: float, rng: random.Random) -> list[Peer]:
    """A copy where `share` of the peers have a new endpoint (those that had none grow by its 20 bytes)."""
    out = [Peer(list(p.own), p.ips) for p in peers]
    for i in rng.sample(range(len(out)), round(len(out) * share)):
        own = [a for a in out[i].own if a[0] != PEER_ENDPOINT]
        own.append((PEER_ENDPOINT, _endpoint(f"203.0.113.{rng.randrange(1, 255)}", rng.randrange(1024, 65535))))
        out[i].own = own
    return out


def dumps(n: int, steps: int, share: float, seed: int = 5) -> list[list[bytes]]:
    rng = random.Random(seed)
    device, _ = parse_dump(nl_messages("kernel-dump-2000-peers.nl"))
    peers = synthetic_peers(n, rng)
    out = [build_dump(device, peers, MESSAGE_LIMIT)]
    for _ in range(steps):
        peers = moved(peers, share, rng)
        out.append(build_dump(device, peers, MESSAGE_LIMIT))
    return out


class _Replay:
    """A backend that decodes the dump of the current step, timing each decode."""

    kind = "kernel"

    def __init__(self, answers: list[list[bytes]]) -> None:
        self.answers, self.step, self.reads = answers, 0, [0.0]
        self.decoder = DumpDecoder()

    def interfaces(self) -> list[str]:
        return ["wgbench0"]

    def read(self, ifname: str) -> InterfaceState:
        started = time.process_time()
        try:
            return self.decoder.decode(self.answers[self.step], ifname)
        finally:
            self.reads.append(time.process_time() - started)


def _cpu(fn: Callable[[], object]) -> float:
    started = time.process_time()
    fn()
    return time.process_time() - started


def run_host(n: int = 10_000, steps: int = 10, runs: int = 4, share: float = 0.05) -> list[Result]:
    """bench_poll's kernel sequence on the host: per step an unchanged poll twice, then a tick with the monitor."""
    answers = dumps(n, steps, share)
    best: dict[str, float] = {}

    def note(name: str, seconds: float) -> None:
        best[name] = min(best.get(name, seconds), seconds)

    for _ in range(runs):
        note("cold", _cpu(lambda: DumpDecoder().decode(answers[0], "wgbench0")))
        backend, clock = _Replay(answers), Clock()
        monitor = Monitor(backend, interfaces=["wgbench0"], clock=clock)
        monitor.poll_once()
        clock.tick()
        monitor.poll_once()
        read = partial(backend.read, "wgbench0")
        for step in range(1, steps + 1):
            note("unchanged, first after a change", _cpu(read))
            note("unchanged", _cpu(read))
            backend.step = step
            clock.tick()
            tick = _cpu(monitor.poll_once)
            note("tick", tick)
            note("tick: read", backend.reads[-1])
            note("tick: monitor", tick - backend.reads[-1])
    return [Result(BENCH, f"{name}, {n:,} peers ({share:.0%} changed per tick)", seconds * 1000, "ms",
                   note=f"CPU time, best of {runs} runs × {steps} steps")
            for name, seconds in best.items()]


if __name__ == "__main__":
    main_for(run_host)
