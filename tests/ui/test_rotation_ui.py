"""Staged key rotation in the dashboard, for real on the demo backend: sessions of one peer or several, left and
re-entered, cancelled peer by peer, finished by whoever sees the new key's handshake (key ages and marks:
test_key_age_ui.py)."""

from __future__ import annotations

import itertools
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import RadioButton, Static

from tests.ui.helpers import body, demo, done, first_poll, screen, screen_text, started, until
from wgtui.backends.demo import CONNECT_DELAY
from wgtui.changes import Planner
from wgtui.changes.rotation import RotationSession, StagedRotation, Step
from wgtui.conf import Document
from wgtui.keys import short_key
from wgtui.model import PeerUpdate
from wgtui.ui.app import WgtuiApp
from wgtui.ui.dialogs.client_config import ClientConfigScreen
from wgtui.ui.dialogs.confirm import ConfirmScreen
from wgtui.ui.dialogs.diff_preview import DiffPreview
from wgtui.ui.dialogs.leave_rotations import LeaveRotations
from wgtui.ui.dialogs.rotate_choice import RotateChoice
from wgtui.ui.dialogs.rotation_session import RotationSessionScreen
from wgtui.ui.rotation_flows import listed
from wgtui.ui.screens.dashboard import DashboardScreen
from wgtui.ui.widgets.rotation_table import STEP_LOOK

SIZE = (80, 24)
DAY = 86400


def footer(app: WgtuiApp) -> str:
    return screen_text(app).splitlines()[-1]


def replaces_comment(old: str) -> re.Pattern[str]:
    """The pending rotation as the file has it: the new key's block says which key it replaces, and since when."""
    return re.compile(rf"# wgtui: replaces={re.escape(old)} since=[0-9TZ:-]+\n")


async def start_session(app: WgtuiApp, pilot: Pilot[None], peers: int = 1) -> RotationSessionScreen:
    """r on the highlighted (or marked) peers → staged → preview → start → the first client config, shown by itself
    and already saved → escape → the session screen."""
    await pilot.press("r")
    choice = await screen(pilot, RotateChoice)
    assert len(choice.query(RadioButton)) == (1 if peers > 1 else 3)  # several peers: staged only
    await pilot.press("enter")
    preview = await screen(pilot, DiffPreview)
    text = body(preview.query_one("#preview-body", Static))
    assert "cut off at once" not in text and "without allowed IPs" in text
    assert str(preview.query_one("#apply").label) == "Start rotation (y)"  # type: ignore[attr-defined]
    await pilot.press("y")
    client = await screen(pilot, ClientConfigScreen)
    assert client.saved is not None and client.saved.read_text() == client.text  # saved before anything changed
    assert oct(client.saved.stat().st_mode & 0o777) == "0o600"
    await pilot.press("escape")  # saved already: closes without asking
    session = await screen(pilot, RotationSessionScreen)
    await until(pilot, lambda: all(r.step is Step.WAITING for r in session.rotations))
    return session


def step_cell(session: RotationSessionScreen, index: int) -> str:
    return str(session.query_one("#session-table").get_row_at(index)[2])  # type: ignore[attr-defined]


async def test_a_staged_rotation_completes_by_itself_after_the_handshake(tmp_path: Path) -> None:
    app, clock, conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        old = app.dashboard.table.cursor_key
        assert old is not None
        row = app.dashboard.models["wg0"].rows[old]
        session = await start_session(app, pilot)
        (rotation,) = session.rotations
        new = rotation.new_key
        # Pending in the file and on the interface: the new key beside the old one, without allowed IPs yet.
        assert replaces_comment(old).search(conf.read_text())
        live = demo(app).read("wg0").peers
        assert live[new].allowed_ips == () and live[old].allowed_ips == row.peer.allowed_ips
        assert f"{STEP_LOOK[Step.WAITING][0]} waiting" in step_cell(session, 0)
        text = footer(app)
        assert "Client config" in text and "Cancel rotation" in text and "Leave" in text

        # The session polls by itself, several times a second, while the rotation waits.
        reads: list[float] = []
        inner = demo(app)
        real_read = inner.read

        def counted(ifname: str) -> Any:
            reads.append(time.monotonic())
            return real_read(ifname)

        inner.read = counted  # type: ignore[method-assign]
        await pilot.pause(1.0)
        gaps = sorted(b - a for a, b in itertools.pairwise(reads))
        assert len(reads) >= 5 and gaps[int(len(gaps) * 0.9)] <= 0.2, gaps

        # The demo client handshakes with its new key: the session finishes the rotation at once, by itself.
        clock.tick(CONNECT_DELAY)
        ticked = time.monotonic()
        await until(pilot, lambda: rotation.step is Step.DONE)
        assert time.monotonic() - ticked < 1.0
        live = demo(app).read("wg0").peers
        assert old not in live and live[new].allowed_ips == row.peer.allowed_ips
        text = conf.read_text()
        assert old not in text and "replaces=" not in text
        assert re.search(rf"# friendly_name = {re.escape(row.name)}\n\[Peer\]\n# wgtui: key-created=[0-9TZ:-]+\n"
                         rf"PublicKey = {re.escape(new)}\n", text)
        await pilot.pause(0.2)
        assert "✓ done" in step_cell(session, 0)
        assert "Cancel rotation" not in footer(app) and "Close" in footer(app)  # finished: nothing to cancel
        await pilot.press("escape")  # finished: closes without asking
        await screen(pilot, DashboardScreen)
        assert app.changes.last_result is not None and app.changes.last_result.ok

        # `c` shows the config saved when the rotation started; it belongs to the new key and still fits.
        clock.tick()
        app.poll_now()
        await pilot.pause()
        assert app.dashboard.table.cursor_key == new
        await pilot.press("c")
        again = await screen(pilot, ClientConfigScreen)
        assert again.saved == tmp_path / "clients" / f"wg0-{row.name}.conf" and not again.warnings
        await pilot.press("escape")
        await screen(pilot, DashboardScreen)
        done(app)


async def test_leaving_asks_keeps_it_pending_and_pending_rotations_reopens_it(tmp_path: Path) -> None:
    app, clock, conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        old = app.dashboard.table.cursor_key
        assert old is not None
        session = await start_session(app, pilot)
        new = session.rotations[0].new_key

        await pilot.press("q")  # q leaves the session (it never quits wgtui here): it asks first
        await screen(pilot, LeaveRotations)
        assert "Keep them pending" in footer(app) and "Cancel them" in footer(app) and "Stay" in footer(app)
        await pilot.press("escape")  # stay
        assert await screen(pilot, RotationSessionScreen) is session
        await pilot.press("escape")
        await screen(pilot, LeaveRotations)
        await pilot.press("enter")  # the default: keep it pending
        await screen(pilot, DashboardScreen)
        await until(pilot, lambda: not app.changes.busy)
        assert any("stays pending" in n.message for n in app._notifications)

        # Still pending: in the file (the new key's block with its comment) and on the interface (both keys).
        assert replaces_comment(old).search(conf.read_text())
        live = demo(app).read("wg0").peers
        assert old in live and new in live and live[new].allowed_ips == ()
        assert session.rotations[0].step is Step.WAITING

        # The table says so: the old key's row carries the rotation and its age, the new key's row what it replaces.
        clock.tick(2)
        app.poll_now()
        await pilot.pause()
        rows = app.dashboard.models["wg0"].rows
        assert rows[old].meta is not None and rows[old].meta.rotating_to == new
        name = rows[old].name
        assert app.dashboard.table.select_key(old)
        await pilot.pause()
        text = screen_text(app)
        assert "↻ 1 rotation pending (R)" in text and "R Pending" in footer(app)
        assert re.search(rf"{re.escape(name)} .* ↻ 2s ", text)
        detail = body(app.dashboard.query_one("#detail-fields", Static))
        assert "↻ rotation pending since" in detail and f"new key {short_key(new)}, no handshake yet" in detail
        assert app.dashboard.table.select_key(new)  # a new peer (`NAME-next`): at the end, never handshaken yet
        await pilot.pause()
        assert re.search(rf"{re.escape(name[:8])}.* ↻ new ", screen_text(app))
        detail = body(app.dashboard.query_one("#detail-fields", Static))
        assert f"replaces {name} ({short_key(old)}) once it has handshaken" in detail

        # R reopens it (a new session object, from the file) and it completes there.
        await pilot.press("R")
        again = await screen(pilot, RotationSessionScreen)
        assert again is not session and [r.new_key for r in again.rotations] == [new]
        await until(pilot, lambda: "saved" in str(again.query_one("#session-table").get_row_at(0)[4]))  # type: ignore[attr-defined]
        clock.tick(CONNECT_DELAY)
        await until(pilot, lambda: again.rotations[0].step is Step.DONE)
        live = demo(app).read("wg0").peers
        assert old not in live and live[new].allowed_ips != ()
        assert old not in conf.read_text() and "replaces=" not in conf.read_text()
        await pilot.press("escape")
        await screen(pilot, DashboardScreen)

        # Nothing pending any more: R says so.
        clock.tick()
        app.poll_now()
        await pilot.press("R")
        await until(pilot, lambda: any("No rotation is pending on wg0" in n.message for n in app._notifications))
        assert isinstance(app.screen, DashboardScreen)
        done(app)


async def test_three_peers_in_one_session_one_cancelled_the_others_complete(tmp_path: Path) -> None:
    app, clock, conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        table = app.dashboard.table
        chosen = [table.model.key_at(i) for i in range(3)]
        await pilot.press("space", "space", "space")  # each marks the highlighted peer and moves down
        assert app.dashboard.marks.marked("wg0") == set(chosen)
        lines = screen_text(app).splitlines()
        assert "◆ 3 marked" in lines[0] and all(line.startswith("◆") for line in lines[3:6])
        assert not lines[6].startswith("◆") and "r Rotate marked" in footer(app)

        # r with marks: one staged session for the three (only "staged" is offered), started in one change.
        session = await start_session(app, pilot, peers=3)
        assert [r.old_key for r in session.rotations] == chosen
        assert not app.dashboard.marks.marked("wg0")  # the marks did their job
        text = conf.read_text()
        assert all(replaces_comment(k).search(text) for k in chosen)
        # One client config per peer, saved (0600) in CONFIG_DIR/clients by the start's transaction.
        paths = [r.client_path for r in session.rotations]
        assert sorted(p.name for p in (tmp_path / "clients").iterdir()) == sorted(p.name for p in paths if p)
        for r in session.rotations:
            assert r.client is not None and r.client_path is not None
            assert r.client_path.read_text() == r.client.text() and r.client_path.stat().st_mode & 0o077 == 0
        names = [r.label for r in session.rotations]

        # The client configs one after the other: n and p in the client config screen.
        await pilot.press("enter")
        first = await screen(pilot, ClientConfigScreen)
        assert first.title_text.startswith(f"Client config for {names[0]}") and "1 of 3" in first.title_text
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ClientConfigScreen) and app.screen is not first)
        second = app.screen
        assert isinstance(second, ClientConfigScreen) and "2 of 3" in second.title_text
        assert session.rotations[1].client is not None and second.text == session.rotations[1].client.text()
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, ClientConfigScreen) and app.screen is not second)
        assert "1 of 3" in app.screen.title_text  # type: ignore[attr-defined]
        await pilot.press("escape")
        await screen(pilot, RotationSessionScreen)

        # Cancel the second peer's rotation (it asks first); the other two go on.
        await pilot.press("down", "x")
        confirm = await screen(pilot, ConfirmScreen)
        assert names[1] in confirm.title_text
        await pilot.press("y")
        cancelled = session.rotations[1]
        await until(pilot, lambda: cancelled.step is Step.CANCELLED)
        assert "Cancel rotation" not in footer(app)  # nothing left to cancel on this row
        live = demo(app).read("wg0").peers
        assert cancelled.new_key not in live and cancelled.old_key in live

        clock.tick(CONNECT_DELAY)
        await until(pilot, lambda: all(r.finished for r in session.rotations))
        assert [r.step for r in session.rotations] == [Step.DONE, Step.CANCELLED, Step.DONE]
        live = demo(app).read("wg0").peers
        text = conf.read_text()
        for r in (session.rotations[0], session.rotations[2]):
            assert r.old_key not in live and live[r.new_key].allowed_ips == r.allowed_ips
            assert r.old_key not in text and f"PublicKey = {r.new_key}\n" in text
        assert live[cancelled.old_key].allowed_ips == cancelled.allowed_ips and cancelled.new_key not in text
        assert "replaces=" not in text
        await pilot.pause(0.2)
        assert "1 cancelled" in body(session.query_one("#session-summary", Static))
        await pilot.press("escape")  # everything finished: closes without asking
        await screen(pilot, DashboardScreen)
        done(app)


async def test_a_rotation_started_elsewhere_is_finished_by_the_dashboard(tmp_path: Path) -> None:
    app, clock, conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        old = app.dashboard.table.cursor_key
        assert old is not None
        # Another wgtui (the command line, say) starts a rotation on the same interface.
        outside = RotationSession.new(Planner("wg0", conf, app.backend), [old], clock=clock)
        assert outside.start().ok
        new = outside.rotations[0].new_key
        clock.tick()
        app.poll_now()
        await pilot.pause()
        assert app.dashboard.table.select_key(new)
        await pilot.pause()
        assert "↻ new" in screen_text(app)
        assert old in demo(app).read("wg0").peers  # no handshake yet: nothing finished

        # The first poll that shows the new key's handshake finishes it, in the background, and says so.
        clock.tick(CONNECT_DELAY)
        app.poll_now()
        # The interface changes first, the file right after (one transaction): wait for the change to end.
        await until(pilot, lambda: old not in demo(app).read("wg0").peers and "replaces=" not in conf.read_text())
        live = demo(app).read("wg0").peers
        assert live[new].allowed_ips == outside.rotations[0].allowed_ips
        assert old not in conf.read_text()
        await until(pilot, lambda: any("now uses its new key" in n.message for n in app._notifications))
        clock.tick()
        app.poll_now()
        await pilot.pause()
        assert "↻" not in screen_text(app)
        done(app)


async def test_a_handshake_reported_twice_is_finished_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app, clock, conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        old = app.dashboard.table.cursor_key
        assert old is not None
        outside = RotationSession.new(Planner("wg0", conf, app.backend), [old], clock=clock)
        assert outside.start().ok
        new = outside.rotations[0].new_key
        clock.tick(CONNECT_DELAY)

        flows = app.changes.rotations
        real = flows._finish
        calls: list[str] = []
        release = threading.Event()

        def slow(ifname: str, o: str, n: str) -> StagedRotation | None:
            calls.append(o)
            release.wait(5)
            return real(ifname, o, n)

        monkeypatch.setattr(flows, "_finish", slow)
        app.changes.handshaken("wg0", [(old, new)])
        await until(pilot, lambda: calls)
        app.changes.handshaken("wg0", [(old, new)])  # the next poll, while the first is still at work
        await pilot.pause(0.2)
        release.set()
        await until(pilot, lambda: not flows.finishing)
        app.changes.handshaken("wg0", [(old, new)])  # a late report of the same handshake
        await pilot.pause(0.2)
        assert calls == [old]
        assert old not in demo(app).read("wg0").peers


async def test_read_only_shows_pending_rotations_but_never_finishes_them(tmp_path: Path) -> None:
    app, clock, conf = started(tmp_path, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        old = app.dashboard.table.cursor_key
        assert old is not None
        outside = RotationSession.new(Planner("wg0", conf, app.backend), [old], clock=clock)
        assert outside.start().ok
        clock.tick(CONNECT_DELAY)
        app.poll_now()
        await pilot.pause(0.5)
        assert "↻ new" in screen_text(app) and "R Pending" not in footer(app)
        for key in ("R", "space", "m", "u"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, DashboardScreen), key
        assert old in demo(app).read("wg0").peers and replaces_comment(old).search(conf.read_text())
        assert not app.dashboard.marks.marked("wg0")


async def test_quitting_while_waiting_leaves_the_rotation_pending(tmp_path: Path) -> None:
    app, _clock, conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        old = app.dashboard.table.cursor_key
        assert old is not None
        session = await start_session(app, pilot)
        new = session.rotations[0].new_key
        await pilot.press("ctrl+q")  # quitting wgtui for real: nothing is cancelled
    live = demo(app).read("wg0").peers
    assert old in live and new in live and live[new].allowed_ips == ()
    assert Document.read(conf).find_peer(new) is not None and replaces_comment(old).search(conf.read_text())


async def test_cancelling_them_all_when_leaving(tmp_path: Path) -> None:
    app, _clock, conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        original_peers = set(demo(app).read("wg0").peers)
        await pilot.press("space", "space")
        session = await start_session(app, pilot, peers=2)
        await pilot.press("escape")
        await screen(pilot, LeaveRotations)
        await pilot.press("x")
        await screen(pilot, DashboardScreen)
        assert all(r.step is Step.CANCELLED for r in session.rotations)
        assert set(demo(app).read("wg0").peers) == original_peers and "replaces=" not in conf.read_text()
        await until(pilot, lambda: any("Cancelled 2 rotations" in n.message for n in app._notifications))
        done(app)


async def test_c_warns_about_what_no_longer_fits_the_peer(tmp_path: Path) -> None:
    app, clock, _conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        old = app.dashboard.table.cursor_key
        assert old is not None
        name = app.dashboard.models["wg0"].rows[old].name
        session = await start_session(app, pilot)
        clock.tick(CONNECT_DELAY)
        await until(pilot, lambda: session.rotations[0].step is Step.DONE)
        new = session.rotations[0].new_key
        await pilot.press("escape")
        await screen(pilot, DashboardScreen)
        # Someone moves the peer's address by hand (`wg set`) and the server's public name changes.
        demo(app).apply("wg0", [PeerUpdate(new, allowed_ips=("10.8.0.250/32",))])
        (tmp_path / "wgtui.json").write_text('{"interfaces": {"wg0": {"endpoint": "vpn.example.net:51820"}}}\n')
        clock.tick()
        app.poll_now()
        await pilot.pause()
        assert app.dashboard.table.cursor_key == new
        await pilot.press("c")
        shown = await screen(pilot, ClientConfigScreen)
        assert shown.saved == tmp_path / "clients" / f"wg0-{name}.conf"
        warnings = " ".join(shown.warnings)
        assert "routes 10.8.0.250/32 to this peer" in warnings and "vpn.example.net:51820" in warnings
        assert "⚠" in body(shown.query_one("#client-warnings", Static))
        await pilot.press("escape")
        await screen(pilot, DashboardScreen)
        done(app)


def test_every_step_of_the_core_has_a_look_of_its_own() -> None:
    assert set(STEP_LOOK) == set(Step)
    glyphs = [glyph for glyph, _style in STEP_LOOK.values()]
    assert len(set(glyphs)) == len(glyphs)  # told apart without colour


def test_listed() -> None:
    assert listed(["alice"]) == "alice"
    assert listed(["alice", "bob"]) == "alice and bob"
    assert listed(["a", "b", "c"]) == "a, b and c"
    assert listed(["a", "b", "c", "d", "e"]) == "a, b, c and 2 more"
