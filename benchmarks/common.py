"""Provides what the benchmarks share: result rows and their table, timing helpers, a fake clock, and a synthetic
wireguard-go source that speaks the real UAPI text format for any number of peers."""

from __future__ import annotations

import base64
import gc
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.fakes import Clock  # noqa: E402,F401  (re-exported: the benchmarks drive time with it too)
from wgtui.backends.uapi import UapiBackend  # noqa: E402


@dataclass
class Result:
    """One figure of one benchmark run, with the target it is judged against."""

    bench: str
    metric: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None
    """None when the figure has no target (context) or the benchmark was skipped."""
    note: str = ""

    def cell(self) -> str:
        if self.unit == "skipped":
            return "skipped"
        if self.unit == "yes/no":
            return "yes" if self.value else "no"
        if self.unit == "×":
            return f"{self.value:.2f}×"
        if self.unit in ("B/s", "B"):
            return f"{self.value:,.0f} {self.unit}"
        if self.unit == "ms":
            return f"{self.value:.1f} ms" if self.value < 100 else f"{self.value:,.0f} ms"
        if self.unit == "s":
            return f"{self.value:.2f} s"
        if self.unit == "MB":
            return f"{self.value:.1f} MB"
        return f"{self.value:g} {self.unit}".strip()


def skipped(bench: str, why: str) -> Result:
    return Result(bench, "(not run)", 0.0, "skipped", note=why)


def verdict(met: bool | None) -> str:
    return "—" if met is None else ("met" if met else "NOT met")


def table(results: Iterable[Result]) -> str:
    """A Markdown table, the same one benchmarks/README.md holds."""
    lines = ["| benchmark | figure | measured | target | verdict | note |", "|---|---|---|---|---|---|"]
    for r in results:
        note = r.note.replace("|", "/")
        lines.append(f"| {r.bench} | {r.metric} | {r.cell()} | {r.target} | {verdict(r.met)} | {note} |")
    return "\n".join(lines)


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{platform.node()}: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def reference_ms(repeat: int = 5) -> float:
    """Milliseconds this machine takes, now, for a fixed workload of the kind wgtui does (no wgtui code in it: it must
    not change when wgtui does): split, classify with a regex and count the lines of a 10,000-block text, then build
    and sort 100,000 tuples; median of `repeat`. This VM's speed moves by a third from one hour to the next, and this
    figure, printed with a run, says how fast the machine was while it ran."""
    text = "\n".join(f"# friendly_name = peer-{i}\n[Peer]\nPublicKey = {i:043d}=\n"
                     f"AllowedIPs = 10.0.{i >> 8 & 255}.{i & 255}/32\n" for i in range(10_000))
    setting = re.compile(r"([A-Za-z]+)[ \t]*=[ \t]*(.*)")
    samples = []
    collecting = gc.isenabled()
    gc.disable()  # the collector's passes would walk whatever the process holds (after a run: much): not the machine
    try:
        for _ in range(repeat):
            started = time.perf_counter()
            found = Counter(m[1] for m in map(setting.match, text.split("\n")) if m is not None)
            rows = sorted((i % 977, str(i), -i) for i in range(100_000))
            samples.append(time.perf_counter() - started)
            assert found["PublicKey"] == 10_000 and len(rows) == 100_000
            del rows
    finally:
        if collecting:
            gc.enable()
    return statistics.median(samples) * 1000


def report(results: list[Result], as_json: bool = False) -> None:
    if as_json:
        print(json.dumps([asdict(r) for r in results], indent=1))
    else:
        print(table(results))


def main_for(run: Callable[[], list[Result]]) -> None:
    """The `__main__` of a benchmark script: run it with its full-size defaults and print the table."""
    results = run()
    report(results, as_json="--json" in sys.argv[1:])


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def p95_ms(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000


def rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB, from /proc/self/status."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            name, value = line.split(":", 1)
            fields[name] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


def random_key(rng: random.Random) -> bytes:
    return rng.randbytes(32)


class UapiSource:
    """The `get=1` answer of a wireguard-go interface with `n` peers, in wireguard-go's own line format.

    At each `tick()`, `share` of the peers carry traffic: a steady active set (counters move every second, the
    handshake renews every two minutes as WireGuard's does), of which a tenth is swapped for other peers each tick
    (sessions start and end). Only those peers' text is rendered again, so the source stays cheap at 50,000 peers.
    """

    def __init__(self, n: int, seed: int = 1, now: float = 1_800_000_000.0) -> None:
        rng = self.rng = random.Random(seed)
        self.private_hex = bytes([248 & rng.randrange(256)] + [rng.randrange(256) for _ in range(31)]).hex()
        self.keys: list[bytes] = []
        self.fields: list[list[int]] = []
        """Per peer: [handshake, rx, tx]."""
        self.static: list[tuple[bytes, bytes]] = []
        """Per peer: the text before the handshake line and after the counters."""
        self.chunks: list[bytes] = []
        self.names: dict[str, str] = {}
        self.active: list[int] = []
        for i in range(n):
            key = random_key(rng)
            self.keys.append(key)
            psk = rng.randbytes(32).hex() if i % 3 == 0 else "0" * 64
            endpoint = (f"endpoint=198.51.{100 + i % 2}.{i % 250 + 1}:{1024 + i % 60000}\n" if i % 7 else "")
            head = f"public_key={key.hex()}\npreshared_key={psk}\nprotocol_version=1\n{endpoint}".encode()
            ips = f"allowed_ip=10.{64 + i // 65536}.{i // 256 % 256}.{i % 256}/32\n"
            if i % 4 == 1:
                ips += f"allowed_ip=fd00:64::{i:x}/128\n"
            tail = f"persistent_keepalive_interval={25 if i % 3 == 0 else 0}\n{ips}".encode()
            self.static.append((head, tail))
            handshake = int(now - rng.uniform(1, 7200)) if endpoint and i % 5 else 0
            self.fields.append([handshake, rng.randrange(10**4, 10**10) if handshake else 0,
                                rng.randrange(10**4, 10**9) if handshake else 0])
            self.chunks.append(self._render(i))
            self.names[base64.b64encode(key).decode()] = f"peer-{i:05d}"

    def _render(self, i: int) -> bytes:
        head, tail = self.static[i]
        hs, rx, tx = self.fields[i]
        return b"%slast_handshake_time_sec=%d\nlast_handshake_time_nsec=%d\ntx_bytes=%d\nrx_bytes=%d\n%s" % (
            head, hs, 0 if not hs else 123456789, tx, rx, tail)

    def tick(self, now: float, share: float) -> list[int]:
        """Move `share` of the peers; returns their indexes."""
        rng = self.rng
        n = len(self.keys)
        want = round(n * share)
        if len(self.active) != want:
            self.active = rng.sample(range(n), want)
        else:
            for j in rng.sample(range(want), want // 10):
                self.active[j] = rng.randrange(n)
        for i in self.active:
            f = self.fields[i]
            if now - f[0] >= 120:
                f[0] = int(now)
            f[1] += rng.randrange(100, 2_000_000)
            f[2] += rng.randrange(100, 200_000)
            self.chunks[i] = self._render(i)
        return self.active

    def answer(self) -> bytes:
        return b"".join((b"private_key=%s\nlisten_port=51820\n" % self.private_hex.encode(), *self.chunks,
                         b"errno=0\n\n"))

    def config(self) -> str:
        """A wg-quick file naming every peer (`# friendly_name =`), so that names come from where wgtui reads them."""
        key = base64.b64encode(bytes.fromhex(self.private_hex)).decode()
        lines = ["[Interface]", f"PrivateKey = {key}", "ListenPort = 51820", ""]
        for i, raw in enumerate(self.keys):
            # The same peers as the interface has (no drift to show): an up-to-date server config.
            public = base64.b64encode(raw).decode()
            ips = f"10.{64 + i // 65536}.{i // 256 % 256}.{i % 256}/32"
            if i % 4 == 1:
                ips += f", fd00:64::{i:x}/128"
            lines += [f"# friendly_name = {self.names[public]}", "[Peer]", f"PublicKey = {public}",
                      f"AllowedIPs = {ips}"]
            if i % 3 == 0:
                lines += [f"PresharedKey = {public}", "PersistentKeepalive = 25"]
            lines.append("")
        return "\n".join(lines)


class SyntheticUapi(UapiBackend):
    """The real UAPI backend (its parser and its unchanged-peer cache) reading a UapiSource instead of a socket."""

    kind = "userspace"

    def __init__(self, source: UapiSource, ifname: str = "wgbench0") -> None:
        super().__init__()
        self.source = source
        self.ifname = ifname

    def interfaces(self) -> list[str]:
        return [self.ifname]

    def _transact(self, ifname: str, request: bytes, doing: str) -> bytes:
        return self.source.answer()


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


@dataclass
class PtyCapture:
    """What a process wrote to a pseudo-terminal: every chunk with the time it arrived (seconds after spawn)."""

    chunks: list[tuple[float, bytes]]
    exit_code: int | None

    def bytes_between(self, start: float, stop: float) -> int:
        return sum(len(data) for t, data in self.chunks if start <= t < stop)

    def first_time(self, predicate: Callable[[str], bool]) -> float | None:
        """When the accumulated output (escape sequences removed) first satisfied `predicate`."""
        text = ""
        for t, data in self.chunks:
            text += strip_escapes(data.decode(errors="replace"))
            if predicate(text):
                return t
        return None


_ESCAPE = re.compile(r"\x1b(\[[0-9;?<=>]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78cDEHM])")


def strip_escapes(text: str) -> str:
    return _ESCAPE.sub("", text)


def run_in_pty(argv: list[str], seconds: float, size: tuple[int, int] = (24, 80), env: dict[str, str] | None = None,
               until: Callable[[str], bool] | None = None) -> PtyCapture:
    """Run `argv` on a fresh pseudo-terminal of `size` (rows, columns) for `seconds` (or until `until` holds for
    its output), reading everything it writes, then end it (SIGTERM, then SIGKILL) and reap it."""
    import fcntl
    import pty
    import select
    import signal
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))
    full_env = {k: v for k, v in os.environ.items() if k not in ("COLORTERM", "NO_COLOR", "TEXTUAL")}
    full_env.update({"TERM": "xterm-256color", "COLUMNS": str(size[1]), "LINES": str(size[0])})
    full_env.update(env or {})
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=full_env, start_new_session=True,
                            close_fds=True)
    os.close(slave)
    chunks: list[tuple[float, bytes]] = []
    text = ""
    try:
        while (now := time.monotonic() - started) < seconds:
            ready, _, _ = select.select([master], [], [], min(0.05, seconds - now))
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 1 << 16)
            except OSError:  # EIO: the child closed the terminal
                break
            chunks.append((time.monotonic() - started, data))
            if until is not None:
                text += strip_escapes(data.decode(errors="replace"))
                if until(text):
                    break
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=3)
        os.close(master)
    return PtyCapture(chunks, proc.returncode)
