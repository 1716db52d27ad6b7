"""Provides the sweep of what killed test runs left behind: namespaces of dead PIDs, their temporary directories,
and wireguard-go sockets that nobody answers on any more (tests/netns.py makes them, with names it can find)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import tempfile
import time
from pathlib import Path

from tests.netns import PREFIX, SOCKET_DIR, answers, run


def sweep() -> list[str]:
    """Remove what killed test runs left behind: namespaces of dead PIDs (and the daemons still running in
    them, which only this harness starts there), then our sockets that nobody answers on any more."""
    removed: list[str] = []
    for line in run("ip", "netns", "list", check=False).splitlines():
        match = re.match(rf"({PREFIX}-(\d+)-\S+)", line)
        if match and not Path(f"/proc/{match.group(2)}").exists():
            pids = [int(pid) for pid in run("ip", "netns", "pids", match.group(1), check=False).split()]
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            for pid in pids:
                _wait_dead(pid)
            run("ip", "netns", "del", match.group(1), check=False)
            removed.append(match.group(1))
    for tmp in Path(tempfile.gettempdir()).glob(f"{PREFIX}-*-*"):
        owner = tmp.name.split("-")[1]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(str(tmp))
    # A killed daemon's listening socket closes a moment after its file table empties: give it that moment.
    grace = time.monotonic() + (1 if removed else 0)
    socks = sorted(SOCKET_DIR.glob(f"{PREFIX}*.sock")) if SOCKET_DIR.is_dir() else []
    for sock in socks:
        while answers(sock) and time.monotonic() < grace:
            time.sleep(0.01)
    # Asked twice: a daemon of a concurrent run refuses for an instant between its socket's bind and listen.
    stale = [sock for sock in socks if not answers(sock)]
    time.sleep(0.05 if stale else 0)
    for sock in stale:
        if not answers(sock):
            sock.unlink(missing_ok=True)
            removed.append(str(sock))
    return removed


def _wait_dead(pid: int, timeout: float = 2) -> None:
    """Until the process has closed its files (a zombie we cannot reap counts as dead)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            # Per thread: a Go program's main thread can be a zombie while others still hold the sockets.
            if not any(os.listdir(f"/proc/{pid}/task/{tid}/fd") for tid in os.listdir(f"/proc/{pid}/task")):
                return
        except OSError:
            return
        time.sleep(0.01)
