"""Provides the start-up benchmark: process start to the first frame showing peers (`wgtui --demo 50` on an 80x24
pseudo-terminal), and a check that `wgtui show` and `wgtui peer … --dry-run` never import Textual."""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, Result, main_for, run_in_pty

BENCH = "start-up"
TARGET_S = 0.6
ENV = {"PYTHONPATH": str(ROOT)}


def first_frame(peers: int, timeout: float = 20.0) -> float:
    """Seconds from spawning `python -m wgtui --demo N` to the first output that shows `M/N online`."""
    shown = re.compile(rf"\d+/{peers} online")
    capture = run_in_pty([sys.executable, "-m", "wgtui", "--demo", str(peers)], timeout, (24, 80), ENV,
                         until=lambda text: shown.search(text) is not None)
    when = capture.first_time(lambda text: shown.search(text) is not None)
    if when is None:
        raise RuntimeError(f"wgtui --demo {peers} showed no peers within {timeout:g} s")
    return when


def imported_textual(*args: str) -> tuple[bool, int, str]:
    """(Textual or Rich imported, exit code, stderr tail) of `python -X importtime -m wgtui ARGS`."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "wgtui", *args], capture_output=True, text=True,
                          env={**ENV, "PATH": "/usr/bin:/bin"}, timeout=60)
    modules = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    ui = any(m.split(".")[0] in ("textual", "rich") for m in modules)
    rest = "\n".join(line for line in proc.stderr.splitlines() if not line.startswith("import time:"))
    return ui, proc.returncode, rest[-300:]


def run(peers: int = 50, repeat: int = 5, big: int = 10_000) -> list[Result]:
    times = [first_frame(peers) for _ in range(repeat)]
    results = [Result(BENCH, f"`wgtui --demo {peers}`: process start → first frame with peers",
                      statistics.median(times), "s", f"< {TARGET_S:g} s", statistics.median(times) < TARGET_S,
                      f"median of {repeat}; best {min(times):.2f} s, worst {max(times):.2f} s; 80x24 pty")]
    if big:
        results.append(Result(BENCH, f"`wgtui --demo {big}`: process start → first frame with peers",
                              first_frame(big), "s", note="context: includes building the simulated interface"))
    ui, code, _ = imported_textual("show", "--demo", "5")
    results.append(Result(BENCH, "`wgtui show --demo 5` imports Textual/Rich", float(ui), "yes/no", "no",
                          not ui and code == 0, f"exit {code}"))
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "wg0.conf"
        conf.write_text("[Interface]\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n\n"
                        "# friendly_name = a\n[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
                        "AllowedIPs = 10.0.0.2/32\n")
        conf.chmod(0o600)
        ui, code, err = imported_textual("peer", "remove", "wg0", "a", "--dry-run", "--file-only", "--config",
                                         str(conf))
    exists = not (code == 2 and "invalid choice" in err)
    results.append(Result(BENCH, "`wgtui peer remove … --dry-run` imports Textual/Rich", float(ui), "yes/no", "no",
                          (not ui and code == 0) if exists else None,
                          f"exit {code}" if exists else "the `peer` command does not exist yet (exit 2)"))
    return results


if __name__ == "__main__":
    main_for(run)
