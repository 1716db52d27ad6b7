"""The dashboard and signals: SIGTERM and a terminal hangup end it cleanly with 128+N; a signal during a change in
its worker thread waits until the change is done, then ends it."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.fakes import Clock
from tests.ui.helpers import app_for
from wgtui import interrupts
from wgtui.backends.demo import DemoBackend
from wgtui.conf import Document
from wgtui.model import PeerUpdate
from wgtui.ui.dialogs.diff_preview import DiffPreview
from wgtui.ui.dialogs.peer_form import PeerForm
from wgtui.ui.widgets.peer_table import PeerTable

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.parametrize("how", ["SIGTERM", "hangup"])
def test_the_dashboard_ends_cleanly_on_a_signal(how: str, tmp_path: Path) -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, b"\x18\x00\x50\x00\x00\x00\x00\x00")  # 24 rows, 80 columns

    def controlling_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen([sys.executable, "-m", "wgtui", "--demo", "20"], stdin=slave, stdout=slave, stderr=slave,
                            preexec_fn=controlling_terminal, cwd=ROOT,
                            env={**os.environ, "TERM": "xterm-256color", "TMPDIR": str(tmp_path)})
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 20
    while b"online" not in seen and time.monotonic() < deadline:  # the header has drawn
        if select.select([master], [], [], 0.2)[0]:
            try:
                seen += os.read(master, 65536)
            except OSError:
                break  # the program ended: what it printed is in `seen`
    assert b"online" in seen
    assert list(tmp_path.glob("wgtui-demo-*"))  # the demo keeps its config files there while it runs
    if how == "hangup":
        os.close(master)  # the SSH connection drops
    else:
        proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=20)
    finally:
        if how != "hangup":
            os.close(master)
    assert code == 128 + (signal.SIGHUP if how == "hangup" else signal.SIGTERM)
    assert not list(tmp_path.glob("wgtui-demo-*"))  # the demo's config directory went with it


class SignalledBackend(DemoBackend):
    """Someone sends SIGTERM while the runtime half of a change is being applied."""

    def apply(self, ifname: str, updates: Sequence[PeerUpdate]) -> None:
        if any(u.allowed_ips for u in updates if not u.remove):
            os.kill(os.getpid(), signal.SIGTERM)
        super().apply(ifname, updates)


async def test_a_signal_during_a_dashboard_change_waits_for_it(tmp_path: Path) -> None:
    clock = Clock()
    backend = SignalledBackend(20, seed=7, clock=clock, config_dir=tmp_path)
    app = app_for(backend, clock, config_dir=tmp_path)
    interrupts.install(app.signal_from_handler, after_change=app.signal_after_change)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            app.poll_now()
            await pilot.pause()
            assert isinstance(app.screen.query_one(PeerTable), PeerTable)
            await pilot.press("a")
            deadline = time.monotonic() + 5
            while not isinstance(app.screen, PeerForm):
                assert time.monotonic() < deadline
                await pilot.pause(0.01)
            app.screen.query_one("#name").value = "carol"  # type: ignore[attr-defined]
            await pilot.press("enter")
            while not isinstance(app.screen, DiffPreview):
                assert time.monotonic() < deadline
                await pilot.pause(0.01)
            await pilot.press("y")
            while app.is_running and time.monotonic() < deadline + 5:
                await pilot.pause(0.01)
        assert app.stopped_by == signal.SIGTERM
        assert interrupts.wait_idle(5)
        names = Document.read(tmp_path / "wg0.conf").names
        key = next(k for k, n in names.items() if n == "carol")  # the change was completed, then wgtui stopped
        assert key in backend.read("wg0").peers and (tmp_path / "clients" / "wg0-carol.conf").exists()
    finally:
        interrupts.uninstall()
        interrupts.take()
