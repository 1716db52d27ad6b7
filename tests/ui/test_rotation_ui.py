"""Staged key rotation in the dashboard, for real on the demo backend: sessions of one peer or several, left and
re-entered, cancelled peer by peer, finished by whoever sees the new key's handshake; marks and key ages."""

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
from wgtui.conf.meta import KEY_CREATED, stamp
from wgtui.config_source import PeerMeta
from wgtui.drift import Drift
from wgtui.keys import short_key
from wgtui.model import InterfaceState, PeerState, PeerStatus, PeerUpdate
from wgtui.monitor import InterfaceDelta, InterfaceSummary, PeerRow
from wgtui.ui.app import WgtuiApp
from wgtui.ui.columns import COLUMNS, GLYPH_WIDTH, CellContext, layout
from wgtui.ui.dialogs.client_config import ClientConfigScreen
from wgtui.ui.dialogs.confirm import ConfirmScreen
from wgtui.ui.dialogs.diff_preview import DiffPreview
from wgtui.ui.dialogs.leave_rotations import LeaveRotations
from wgtui.ui.dialogs.rotate_choice import RotateChoice
from wgtui.ui.dialogs.rotation_session import RotationSessionScreen
from wgtui.ui.key_age import is_overdue, key_age_cell
from wgtui.ui.marks import PeerMarks
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


def write_key_ages(conf: Path, ages: dict[str, float], now: float) -> None:
    """Exactly these peers have a recorded key age (the demo's own ages are cleared first)."""
    doc = Document.read(conf)
    for peer in doc.peers:
        if peer.public_key:
            doc = doc.set_peer_meta(peer.public_key, {KEY_CREATED: None})
    for key, age in ages.items():
        doc = doc.set_peer_meta(key, {KEY_CREATED: stamp(now - age)})
    conf.write_text(doc.render())


async def test_key_ages_overdue_filter_and_marking_what_it_shows(tmp_path: Path) -> None:
    app, clock, conf = started(tmp_path, max_key_age=90 * DAY)
    keys = [p.public_key for p in Document.read(conf).peers if p.public_key][:6]
    old_ones, young_ones = keys[:3], keys[3:5]
    write_key_ages(conf, {**dict.fromkeys(old_ones, 200 * DAY), **dict.fromkeys(young_ones, 10 * DAY)}, clock.now)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        dash, table = app.dashboard, app.dashboard.table
        table.select_key(old_ones[0])
        await pilot.pause()
        text = screen_text(app)
        # The key age column, at 80 columns, beside the rates; overdue reads without colour (`!`).
        header = text.splitlines()[2]
        assert "key age" in header and "↓/s" in header and "↑/s" in header and "handshake" in header
        assert "! 28w" in text and "10d" in text
        assert "key created" in text and "(200 days ago) ! overdue" in text

        await pilot.press("slash", *"overdue", "enter")
        assert sorted(table.model.keys()) == sorted(old_ones)
        await pilot.press("m")  # marks what the filter shows
        assert dash.marks.marked("wg0") == set(old_ones)
        await pilot.press("escape")  # the filter goes, the marks stay
        assert len(table.model) == 41 and dash.marks.marked("wg0") == set(old_ones)

        # Sorting by key age: oldest first, keys of unknown age last; the marked ones lead, marked in the table.
        dash.set_sort("key_age")
        await pilot.pause()
        order = list(table.model.keys())
        assert set(order[:3]) == set(old_ones) and set(order[3:5]) == set(young_ones)
        assert [line[0] for line in screen_text(app).splitlines()[3:7]] == ["◆", "◆", "◆", " "]
        await pilot.press("u")
        assert not dash.marks.marked("wg0") and "marked" not in screen_text(app).splitlines()[0]


async def test_the_overdue_policy_comes_from_wgtui_json_without_max_key_age(tmp_path: Path) -> None:
    app, clock, conf = started(tmp_path)
    key = next(p.public_key for p in Document.read(conf).peers if p.public_key)
    write_key_ages(conf, {key: 40 * DAY}, clock.now)
    (tmp_path / "wgtui.json").write_text('{"interfaces": {"wg0": {"max_key_age": "30d"}}}\n')
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        await until(pilot, lambda: app.dashboard.table.max_key_age == 30 * DAY)
        await pilot.pause()
        assert "! 5w" in screen_text(app)
        app.dashboard.action_filter("overdue")
        await pilot.pause()
        assert list(app.dashboard.table.model.keys()) == [key]


async def test_marks_refuse_what_cannot_be_rotated(tmp_path: Path) -> None:
    app, _clock, _conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        table = app.dashboard.table
        await pilot.press("end")  # the demo's peer that is only in the file
        assert table.model[table.cursor].file_only
        await pilot.press("space")
        assert not app.dashboard.marks.marked("wg0")
        await until(pilot, lambda: any("only in the config file" in n.message for n in app._notifications))
        await pilot.press("m")  # everything shown: all but those that cannot be rotated
        assert len(app.dashboard.marks.marked("wg0")) == len(table.model) - 2  # file-only, live-only


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


def row(key: str = "k" * 43 + "=", *, name: str = "", meta: PeerMeta | None = None, handshake: int = 0,
        drift: tuple[Drift, ...] = ()) -> PeerRow:
    return PeerRow(PeerState(public_key=key, latest_handshake=handshake), name, PeerStatus.NEVER, None, None, drift,
                   meta)


def test_the_key_age_cell_says_age_overdue_and_pending_rotations() -> None:
    now = 1_800_000_000.0
    ctx = CellContext(now, max_key_age=90 * DAY)
    old_key, new_key = "o" * 43 + "=", "n" * 43 + "="
    assert key_age_cell(row(), now, 0) == "–"
    assert key_age_cell(row(meta=PeerMeta(key_created=int(now - 10 * DAY))), now, 90 * DAY) == "10d"
    overdue = row(meta=PeerMeta(key_created=int(now - 200 * DAY)))
    assert key_age_cell(overdue, now, 90 * DAY) == "! 28w" and is_overdue(overdue, now, 90 * DAY)
    assert key_age_cell(overdue, now, 0) == "28w" and not is_overdue(overdue, now, 0)  # no policy: never overdue
    rotating = row(old_key, meta=PeerMeta(int(now - 200 * DAY), rotating_to=new_key, rotation_started=int(now - 180)))
    assert key_age_cell(rotating, now, 90 * DAY) == "↻ 3m" and not is_overdue(rotating, now, 90 * DAY)
    replacing = row(new_key, meta=PeerMeta(replaces=old_key, rotation_started=int(now - 180)))
    assert key_age_cell(replacing, now, 90 * DAY) == "↻ new"
    name = next(c for c in COLUMNS if c.id == "name")
    assert name.text(replacing, ctx) == f"↻ {short_key(old_key)}"  # unnamed: which key it replaces
    assert name.text(row(name="alice-next", meta=replacing.meta), ctx) == "alice-next"
    assert name.text(row(), ctx) == "(unnamed)"


def test_the_80_column_layout_keeps_the_rates_beside_the_key_age() -> None:
    lay = layout(79, widest=(15, 21, 12))  # 80 columns, less the table's scrollbar; names up to 15 characters
    assert [c.id for c in lay.columns] == ["name", "key", "endpoint", "handshake", "key_age", "rx_rate", "tx_rate"]
    assert GLYPH_WIDTH + sum(lay.widths) + len(lay.widths) - 1 == 79  # the spare room went to the names
    widths = dict(zip((c.id for c in lay.columns), lay.widths, strict=True))
    assert widths["name"] == 14 and widths["key_age"] == len("key age")
    handshake = lay.texts[[c.id for c in lay.columns].index("handshake")]
    assert handshake(row(handshake=1_800_000_000 - 24), CellContext(1_800_000_000.0)) == "24s ago"
    wide = layout(139)  # wide enough: nothing squeezed, every column
    assert len(wide.columns) == len(COLUMNS) and "seconds ago" in wide.texts[4](
        row(handshake=1_800_000_000 - 24), CellContext(1_800_000_000.0))


def test_marks_follow_the_deltas_and_report_handshaken_new_keys() -> None:
    marks = PeerMarks()
    old, new, other = "o" * 43 + "=", "n" * 43 + "=", "x" * 43 + "="
    summary = InterfaceSummary(InterfaceState(name="wg0", backend="fake"))
    assert marks.toggle("wg0", row(other)) is None and marks.marked("wg0") == {other}
    assert marks.toggle("wg0", row(other)) is None and not marks.marked("wg0")  # a second time unmarks
    assert "only in the config file" in (marks.toggle("wg0", row(drift=(Drift.FILE_ONLY,))) or "")
    assert marks.mark_all("wg0", [row(other), row(old, meta=PeerMeta(rotating_to=new))]) == 1
    assert marks.marked("wg0") == {other}
    pending = {old: row(old, meta=PeerMeta(rotating_to=new, rotation_started=1)),
               new: row(new, meta=PeerMeta(replaces=old, rotation_started=1))}
    assert marks.track(InterfaceDelta(summary, pending)) == () and marks.pending("wg0") == {old}
    seen = {new: row(new, meta=PeerMeta(replaces=old, rotation_started=1), handshake=5)}
    assert marks.track(InterfaceDelta(summary, seen)) == ((old, new),)
    assert marks.track(InterfaceDelta(summary, {}, removed=(old, other))) == ()
    assert not marks.pending("wg0") and not marks.marked("wg0")
