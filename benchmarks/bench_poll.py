"""Provides the poll benchmark: a full read and decode of a 10,000-peer interface by wgtui against `wg show IF dump`
plus a Python split of its output, on the same interface in the same run; then unchanged and 5%-changed polls.

Userspace: wireguard-go in a namespace of tests/netns.py's Lab (here). Kernel: `--kernel` boots one virtme-ng VM with
the stock kernel's wireguard module and runs `--inside-vm` there (see run_kernel)."""

from __future__ import annotations

import base64
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, Result, main_for, median_ms, skipped, timed
from tests.fakes import Clock
from wgtui.backends.base import Backend
from wgtui.monitor import Monitor

TARGET = 0.5
SPACING = 0.2
"""Seconds between samples."""
VM_OUT = ROOT / ".vm-out"


def peers_config(n: int, rng: random.Random) -> tuple[str, list[str]]:
    """A `wg addconf` text of n peers like a large road-warrior server's, and their public keys."""
    keys = [base64.b64encode(rng.randbytes(32)).decode() for _ in range(n)]
    lines = []
    for i, key in enumerate(keys):
        lines += ["[Peer]", f"PublicKey = {key}"]
        if i % 3 == 0:
            lines.append(f"PresharedKey = {base64.b64encode(rng.randbytes(32)).decode()}")
        if i % 7:
            lines.append(f"Endpoint = 198.51.{100 + i % 2}.{i % 250 + 1}:{1024 + i % 60000}")
        ips = f"10.{64 + i // 65536}.{i // 256 % 256}.{i % 256}/32" + (f", fd00:64::{i:x}/128" if i % 4 == 1 else "")
        lines.append(f"AllowedIPs = {ips}")
        if i % 3 == 0:
            lines.append("PersistentKeepalive = 25")
        lines.append("")
    return "\n".join(lines), keys


def changes_config(keys: list[str], share: float, rng: random.Random) -> str:
    """New endpoints for `share` of the peers: what roaming or a reconnect changes (bytes differ, nothing else)."""
    picked = rng.sample(keys, round(len(keys) * share))
    return "\n".join(f"[Peer]\nPublicKey = {k}\nEndpoint = 203.0.113.{rng.randrange(1, 255)}:"
                     f"{rng.randrange(1024, 65535)}\n" for k in picked)


def wg_dump_split(ifname: str) -> int:
    """The reference path: run `wg show IF dump` and split its output into fields; returns the peer count."""
    out = subprocess.run(["wg", "show", ifname, "dump"], capture_output=True, check=True).stdout
    rows = [line.split(b"\t") for line in out.splitlines()[1:]]
    return len(rows)


@dataclass
class Subject:
    """One interface to measure, and how to reach its raw answer and a decoder for it."""

    kind: str
    ifname: str
    make: Callable[[], Backend]
    """A fresh backend (nothing cached)."""
    raw: Callable[[Any], object]
    """One read of the raw answer through a backend, without decoding: the daemon's or the kernel's share."""
    decoder: Callable[[], Callable[[Any], object]]
    """A fresh decoder (with its own cache of unchanged peers) for raw answers."""
    addconf: Callable[[str], None]


def measure(subject: Subject, n: int, keys: list[str], repeat: int, share: float,
            rng: random.Random) -> list[Result]:
    """Every figure on one interface that already holds the n peers; runs in the interface's namespace."""
    bench, ifname = f"poll ({subject.kind})", subject.ifname
    count = wg_dump_split(ifname)
    if count != n:
        raise RuntimeError(f"{ifname} has {count} peers, not {n}")
    # Interleaved, so that a burst of load on the machine hits every path alike.
    ref: list[float] = []
    full: list[float] = []
    raw: list[float] = []
    reader = subject.make()
    for _ in range(repeat):
        # Spaced like polls a second apart (back to back, a daemon answers faster than it does at 1 Hz).
        for samples, fn in ((ref, lambda: wg_dump_split(ifname)), (full, lambda: subject.make().read(ifname)),
                            (raw, lambda: subject.raw(reader))):
            time.sleep(SPACING)
            samples += timed(fn, 1)
    wg = statistics.median(ref)
    answer = subject.raw(reader)
    cold = timed(lambda: subject.decoder()(answer), repeat)
    warm_decoder = subject.decoder()
    warm_decoder(answer)
    warm = timed(lambda: warm_decoder(answer), repeat)
    backend = subject.make()
    first = backend.read(ifname)
    second = backend.read(ifname)
    same = sum(second.peers[k] is v for k, v in first.peers.items())
    unchanged = []
    for _ in range(repeat):
        time.sleep(SPACING)
        unchanged += timed(lambda: backend.read(ifname), 1)
    clock = Clock()
    monitor = Monitor(backend, interfaces=[ifname], clock=clock)
    monitor.poll_once()
    ticks, deltas = [], []
    for _ in range(repeat):
        subject.addconf(changes_config(keys, share, rng))
        time.sleep(SPACING)  # let the daemon or kernel settle after the change, as a second between polls would
        clock.tick()
        update = monitor.poll_once()
        ticks.append(update.poll_seconds)
        deltas.append(len(update.interfaces[0].upserts))
    tick = statistics.median(ticks)
    floor = statistics.median(raw)
    return [
        Result(bench, f"poll tick, {share:.0%} of {n:,} peers changed (read, decode, monitor) ÷ `wg show dump`+split",
               tick / wg, "×", f"≤ {TARGET}×", tick / wg <= TARGET,
               f"{tick * 1000:.1f} ms vs {wg * 1000:.1f} ms (medians of {repeat}); {statistics.median(deltas):.0f} "
               "rows in the delta"),
        Result(bench, "first poll (fresh backend, nothing cached) ÷ `wg show dump`+split",
               statistics.median(full) / wg, "×", f"≤ {TARGET}×", statistics.median(full) / wg <= TARGET,
               f"{median_ms(full):.1f} ms"),
        Result(bench, "unchanged poll: every peer the same PeerState object", median_ms(unchanged), "ms",
               note=f"{same:,}/{n:,} peers reused; {median_ms(unchanged) / (wg * 1000):.2f}× the wg path"),
        Result(bench, "raw answer alone (no decoding) ÷ `wg show dump`+split", floor / wg, "×",
               note=f"{floor * 1000:.1f} ms: the floor under any reader of this interface"),
        Result(bench, f"decoding alone, {n:,} peers: cold / unchanged", median_ms(cold), "ms",
               note=f"unchanged: {median_ms(warm):.1f} ms"),
    ]


def run_uapi(n: int = 10_000, repeat: int = 7, share: float = 0.05) -> list[Result]:
    from tests import netns
    from wgtui.backends.uapi import UapiBackend, new_cache, parse_get

    why = netns.skip_reason()
    if why:
        return [skipped("poll (wireguard-go)", why)]
    rng = random.Random(5)
    text, keys = peers_config(n, rng)
    lab = netns.Lab()
    try:
        ns = lab.netns()
        daemon = lab.wireguard(ns)
        lab.addconf(daemon, text)
        ifname = daemon.ifname

        def decoder() -> Callable[[Any], object]:
            cache = new_cache()
            return lambda data: parse_get(data, ifname, cache)

        subject = Subject("wireguard-go, UAPI", ifname, UapiBackend,
                          lambda b: b._transact(ifname, b"get=1\n\n", "Reading"), decoder,
                          lambda conf: lab.addconf(daemon, conf))
        with netns.entered(ns):
            return measure(subject, n, keys, repeat, share, rng)
    finally:
        lab.close()


def run_inside_vm(n: int, repeat: int, share: float) -> list[Result]:
    """In the VM: a kernel interface with n peers, read by NetlinkBackend against `wg show dump`."""
    from wgtui.backends.netlink import NetlinkBackend
    from wgtui.backends.nldecode import DumpDecoder

    rng = random.Random(5)
    text, keys = peers_config(n, rng)
    ifname = "wgbench0"
    tmp = Path(tempfile.mkdtemp())

    def addconf(conf: str) -> None:
        path = tmp / "add.conf"
        path.write_text(conf)
        subprocess.run(["wg", "addconf", ifname, str(path)], check=True)

    subprocess.run(["ip", "link", "add", ifname, "type", "wireguard"], check=True)
    key = base64.b64encode(rng.randbytes(32)).decode()
    addconf(f"[Interface]\nPrivateKey = {key}\nListenPort = 51820\n\n{text}")
    subprocess.run(["ip", "link", "set", ifname, "up"], check=True)
    # The interface stays: deleting 10,000 peers costs RCU grace periods, and the VM is thrown away anyway.

    def decoder() -> Callable[[Any], object]:
        decoder = DumpDecoder()
        return lambda messages: decoder.decode(messages, ifname)

    from benchmarks.poll_kernel import measure_interleaved

    subject = Subject("kernel, netlink, in a VM without KVM", ifname, NetlinkBackend,
                      lambda b: b._dump(b._family_id(), ifname), decoder, addconf)
    return measure_interleaved(subject, n, keys, repeat, share, rng)


def run_kernel(n: int = 10_000, repeat: int = 11, share: float = 0.05, timeout: float = 600) -> list[Result]:
    """Boot one virtme-ng VM (no KVM: emulated, ~16x slower Python, and `wg` slower too) and run the kernel variant
    inside; the ratio is what carries over, not the absolute times."""
    import shutil

    bench = "poll (kernel, netlink)"
    venv_bin = Path(sys.executable).parent
    kernels = sorted((p for p in Path("/boot").glob("vmlinuz-*-amd64") if "-rt-" not in p.name),
                     key=lambda p: [int(x) if x.isdigit() else x for x in p.name.replace("-", ".").split(".")])
    if not kernels or not shutil.which("qemu-system-x86_64") or not (venv_bin / "vng").exists():
        return [skipped(bench, "needs qemu-system-x86, linux-image-amd64 and virtme-ng (see scripts/vm-tests)")]
    if os.geteuid() != 0:
        return [skipped(bench, "needs root (the VM shares the host's root filesystem)")]
    VM_OUT.mkdir(exist_ok=True)
    rules = VM_OUT / "udev-rules"
    rules.mkdir(exist_ok=True)
    (rules / "99-virtme.rules").write_text(
        'SUBSYSTEM=="virtio-ports", KERNEL=="vport*", ATTR{name}=="?*", SYMLINK+="virtio-ports/$attr{name}"\n')
    out = VM_OUT / "bench-poll.json"
    out.unlink(missing_ok=True)
    guest = (f"cd {ROOT} && PATH={venv_bin}:$PATH python benchmarks/bench_poll.py --inside-vm {n} {repeat} {share} "
             f"> {out}")
    vng = ["vng", "--run", str(kernels[-1]), "--disable-kvm", "--user", "root", "--cpus", "2", "--memory", "2G",
           f"--rwdir={ROOT}", "--exec", guest]
    # As scripts/vm-tests does: only the udev rule vng needs, in a private mount namespace (saves ~9 s of boot).
    cmd = ["unshare", "--mount", "--propagation", "private", "bash", "-c",
           'mount --bind "$1" /usr/lib/udev/rules.d && shift && exec "$@"', "_", str(rules), *vng]
    env = {**os.environ, "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}"}
    started = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=timeout)
    (VM_OUT / "bench-poll.log").write_bytes(proc.stdout)
    if not out.exists() or not out.read_text().strip():
        raise RuntimeError(f"the VM wrote no results (vng exited {proc.returncode}); see {VM_OUT / 'bench-poll.log'}")
    results = [Result(**r) for r in json.loads(out.read_text())]
    for r in results:
        r.note += f"; VM run {time.monotonic() - started:.0f} s wall incl. boot"
    return results


def run(n: int = 10_000, repeat: int = 7, share: float = 0.05, kernel: bool = False) -> list[Result]:
    results = run_uapi(n, repeat, share)
    if kernel:
        results += run_kernel(n)
    return results


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--inside-vm"]:
        from dataclasses import asdict

        found = run_inside_vm(int(args[1]), int(args[2]), float(args[3]))
        print(json.dumps([asdict(r) for r in found]))
    elif "--kernel-only" in args:
        main_for(run_kernel)
    elif "--host" in args:
        from benchmarks.poll_host import run_host

        main_for(run_host)
    else:
        main_for(lambda: run(kernel="--kernel" in args))
