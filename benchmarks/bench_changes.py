"""Provides the change benchmark: whole `wgtui peer add|remove|edit --file-only` processes (applied with --yes, and
their --dry-run) on wg-quick files of 1,000 / 10,000 / 100,000 named peers, and `wgtui --demo 10000` from process
start to the first frame with peers (in a pseudo-terminal, as bench_startup measures it)."""

from __future__ import annotations

import base64
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_startup import first_frame
from benchmarks.common import ROOT, Result, main_for

BENCH = "changes"
TARGETS_S = {10_000: 0.35, 100_000: 3.0}
"""Whole process, median: < 0.35 s at 10,000 peers, < 3 s at 100,000 (issue 11). Other sizes are context."""
DEMO_TARGET_S = 1.0
COMMANDS: dict[str, list[str]] = {
    "add": ["peer", "add", "wg0", "--name", "x"],
    "remove": ["peer", "remove", "wg0", "peer-7"],
    "edit": ["peer", "edit", "wg0", "peer-7", "--allowed-ips", "10.200.0.1/32"],
}


def write_config(path: Path, n: int) -> None:
    """A wg-quick file of `n` named peers: `# friendly_name = peer-N`, `[Peer]`, PublicKey, AllowedIPs, a blank line."""
    private = base64.b64encode(bytes([8] * 31 + [72])).decode()
    out = ["[Interface]", f"PrivateKey = {private}", "Address = 10.0.0.1/8, fd00::1/64", "ListenPort = 51820", ""]
    for i in range(1, n + 1):
        key = base64.b64encode(i.to_bytes(4, "big") * 8).decode()
        host = i + 1
        out += [f"# friendly_name = peer-{i}", "[Peer]", f"PublicKey = {key}",
                f"AllowedIPs = 10.{host >> 16 & 255}.{host >> 8 & 255}.{host & 255}/32", ""]
    path.write_text("\n".join(out))
    path.chmod(0o600)


def time_command(base: Path, words: list[str]) -> float:
    """Seconds from spawning `python -m wgtui WORDS --config-dir DIR` to its exit, on a fresh copy of `base`."""
    with tempfile.TemporaryDirectory(prefix="wgtui-bench-") as tmp:
        directory = Path(tmp)
        directory.chmod(0o700)
        shutil.copyfile(base, directory / "wg0.conf")
        (directory / "wg0.conf").chmod(0o600)
        argv = [sys.executable, "-m", "wgtui", *words, "--file-only", "--config-dir", str(directory)]
        started = time.perf_counter()
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=tmp, timeout=600)
        seconds = time.perf_counter() - started
    if proc.returncode:
        raise RuntimeError(f"`wgtui {' '.join(words)}` failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return seconds


def run(sizes: tuple[int, ...] = (1_000, 10_000, 100_000), repeat: int = 3, demo: int = 10_000,
        commands: tuple[str, ...] = ("add", "remove", "edit")) -> list[Result]:
    results = []
    with tempfile.TemporaryDirectory(prefix="wgtui-bench-base-") as tmp:
        for n in sizes:
            base = Path(tmp) / f"wg0-{n}.conf"
            write_config(base, n)
            target = TARGETS_S.get(n)
            for command in commands:
                for mode in ("--yes", "--dry-run"):
                    times = [time_command(base, [*COMMANDS[command], mode]) for _ in range(repeat)]
                    median = statistics.median(times)
                    results.append(Result(
                        BENCH, f"`wgtui peer {command} … --file-only {mode}`, {n:,} peers", median, "s",
                        f"< {target:g} s" if target else "", median < target if target else None,
                        f"whole process, median of {repeat} (best {min(times):.2f} s, worst {max(times):.2f} s); "
                        f"file of {base.stat().st_size / 1e6:.1f} MB"))
    if demo:
        frames = [first_frame(demo) for _ in range(repeat)]
        median = statistics.median(frames)
        results.append(Result(BENCH, f"`wgtui --demo {demo}`: process start → first frame with peers", median, "s",
                              f"< {DEMO_TARGET_S:g} s", median < DEMO_TARGET_S,
                              f"median of {repeat} (best {min(frames):.2f} s, worst {max(frames):.2f} s); 80x24 pty"))
    return results


if __name__ == "__main__":
    main_for(run)
