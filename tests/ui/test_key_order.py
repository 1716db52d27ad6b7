"""Keys that arrive together (a fast typist over SSH) are applied in the order they were typed: letters, backspace,
arrows, tab to the next field, a paste; in the peer form, the filter box and the fleet's search; keys typed while
a dialog opens are kept for it, and a question takes no key typed before it was shown."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input

from tests.fakes import Clock
from tests.ui.fleet_fakes import fleet_app
from tests.ui.helpers import done, first_poll, screen, started, until
from wgtui.ui import key_order
from wgtui.ui.dialogs.confirm import ConfirmScreen
from wgtui.ui.dialogs.diff_preview import DiffPreview
from wgtui.ui.dialogs.peer_form import PeerForm
from wgtui.ui.screens.dashboard import DashboardScreen
from wgtui.ui.screens.fleet_search import FleetSearchScreen
from wgtui.ui.screens.peer_detail import PeerDetailScreen

SIZE = (100, 30)
CHARACTERS = {"backspace": None, "left": None, "right": None, "home": None, "end": None, "tab": "\t",
              "shift+tab": None, "minus": "-", "full_stop": ".", "slash": "/", "space": " "}


def burst(app: App[Any], *keys: str | events.Paste) -> None:
    """Post keys as the terminal driver does when they arrive in one read: all of them before any is handled."""
    for key in keys:
        if isinstance(key, events.Paste):
            app.post_message(key)
            continue
        character = CHARACTERS.get(key, key if len(key) == 1 else None)
        app.post_message(events.Key(key, character))


async def turns(pilot: Pilot[None], n: int) -> None:
    """Let the app take `n` turns: a burst's keys are handled over several, one at a time."""
    for _ in range(n):
        await pilot.pause()


def letters(text: str) -> list[str]:
    names = {"-": "minus", ".": "full_stop", "/": "slash", " ": "space"}
    return [names.get(c, c) for c in text]


async def test_backspace_and_arrows_keep_their_place_among_letters(tmp_path: Path) -> None:
    app, _clock, _conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        await pilot.press("a")
        form = await screen(pilot, PeerForm)
        name = form.query_one("#name", Input)
        assert app.focused is name
        # bob → bo → box → (two left) b|ox → baox → (end) baoxy → bao → baoz → (home) qbaoz
        burst(app, "b", "o", "b", "backspace", "x", "left", "left", "a", "end", "y", "backspace", "backspace",
              "z", "home", "q")
        await turns(pilot, 2)
        assert name.value == "qbaoz"


async def test_tab_moves_on_before_the_next_letters(tmp_path: Path) -> None:
    app, _clock, _conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        await pilot.press("a")
        form = await screen(pilot, PeerForm)
        ips = form.query_one("#allowed_ips", Input)
        before = ips.value
        # name, tab past the key choice to Allowed IPs (whose text tab selects), a new address over it; then tab
        # on past the preshared-key box to the keepalive.
        burst(app, *letters("carol-laptop"), "tab", "tab", *letters("10.8.0.77/32"), "tab", "tab", "2", "5")
        await turns(pilot, 2)
        assert form.query_one("#name", Input).value == "carol-laptop"
        assert ips.value == "10.8.0.77/32" != before
        assert form.query_one("#keepalive", Input).value == "25"
        assert app.focused is form.query_one("#keepalive", Input)


async def test_a_paste_keeps_its_place_among_letters(tmp_path: Path) -> None:
    app, _clock, _conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        await pilot.press("a")
        form = await screen(pilot, PeerForm)
        name = form.query_one("#name", Input)
        burst(app, "d", "a", events.Paste("ve-"), "p", "c", "backspace", "backspace", *letters("laptop"))
        await turns(pilot, 2)
        assert name.value == "dave-laptop"


async def test_the_filter_takes_the_keys_in_order(tmp_path: Path) -> None:
    app, _clock, _conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        burst(app, "slash", *letters("alicx"), "backspace", "e")
        await turns(pilot, 2)
        dashboard = await screen(pilot, DashboardScreen)
        box = dashboard.query_one("#filter", Input)
        assert box.value == "alice"


async def test_keys_typed_while_the_form_opens_are_for_the_form(tmp_path: Path) -> None:
    """'a' and a name at once: the form is worked out in a thread, and the name's letters used to reach the
    dashboard's own keys meanwhile ('e' started an edit, 's' re-sorted)."""
    app, _clock, _conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        dashboard = app.dashboard
        sort = dashboard.sort
        burst(app, "a", *letters("steve"), "backspace", "e", "tab")
        form = await screen(pilot, PeerForm)
        await until(pilot, lambda: form.query_one("#name", Input).value == "steve")
        await pilot.pause()
        assert form.query_one("#name", Input).value == "steve"
        assert app.focused is not form.query_one("#name", Input)  # the tab was given on too
        assert dashboard.sort == sort
        assert not [n for n in app._notifications if "still open" in n.message]
        await pilot.press("escape")
        await screen(pilot, DashboardScreen)
        done(app)


async def test_keys_kept_for_a_dialog_that_never_opens_are_dropped(tmp_path: Path) -> None:
    """A refused change opens no form: what was typed for it does not fall through to the dashboard."""
    app, _clock, conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        dashboard = app.dashboard
        sort = dashboard.sort
        conf.write_text(conf.read_text() + "\n[Peer]\nPublicKey = not a key\n")  # the planner refuses this file
        burst(app, "a", "s", "s", "p")
        await until(pilot, lambda: not app.changes.busy and app.key_order.held is None)
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        assert [n for n in app._notifications if n.title == "Not possible"]
        assert dashboard.sort == sort
        # Keys typed after the refusal reach the dashboard again.
        await pilot.press("s")
        assert dashboard.sort != sort


async def test_a_flow_that_waits_long_gives_the_keys_back(tmp_path: Path, monkeypatch: Any) -> None:
    """Keys are kept for a dialog HOLD_S at most: a flow that waits longer must not swallow `q` and the rest."""
    monkeypatch.setattr(key_order, "HOLD_S", 0.2)
    app, _clock, _conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        dashboard = app.dashboard
        sort = dashboard.sort
        gate = threading.Event()
        real = app.changes.thread

        async def slow(fn: Any, name: str) -> Any:
            await asyncio.get_running_loop().run_in_executor(None, gate.wait, 5)
            return await real(fn, name)

        monkeypatch.setattr(app.changes, "thread", slow)
        burst(app, "a", "s")
        await until(pilot, lambda: dashboard.sort != sort)  # given back to the dashboard while the flow waits
        assert app.changes.busy
        gate.set()
        form = await screen(pilot, PeerForm)
        assert form.query_one("#name", Input).value == ""
        await pilot.press("escape")
        await screen(pilot, DashboardScreen)


async def test_a_question_is_answered_only_by_keys_typed_after_it_was_shown(tmp_path: Path) -> None:
    """'d', 'y', 'y' at once: the first y would confirm the removal and the second apply its diff, never seen."""
    app, _clock, conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        before = conf.read_text()
        burst(app, "d", "y", "y", "y")
        confirm = await screen(pilot, ConfirmScreen)
        await turns(pilot, 2)
        assert app.screen is confirm  # the y's arrived before it was shown: not answers
        await pilot.press("y")  # seen, then answered
        await screen(pilot, DiffPreview)
        burst(app, "y")  # typed after the preview opened: applies
        await until(pilot, lambda: conf.read_text() != before)
        await screen(pilot, DashboardScreen)
        done(app)


async def test_a_preview_takes_no_key_typed_before_it_opened(tmp_path: Path) -> None:
    """'x' (disable: its diff preview is the first dialog) and a y at once: the y came before the diff was shown."""
    app, _clock, conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        before = conf.read_text()
        burst(app, "x", "y")
        preview = await screen(pilot, DiffPreview)
        await turns(pilot, 5)
        assert app.screen is preview and conf.read_text() == before
        await pilot.press("n")
        await screen(pilot, DashboardScreen)
        done(app)


async def test_screens_that_only_look_around_take_keys_typed_ahead(tmp_path: Path) -> None:
    """Enter and escape at once: the details open and close again (a question would have ignored the escape)."""
    app, _clock, _conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        opened: list[object] = []
        app.screen_change_signal.subscribe(app, opened.append, immediate=True)
        burst(app, "enter", "escape")
        await until(pilot, lambda: any(isinstance(s, PeerDetailScreen) for s in opened))
        await screen(pilot, DashboardScreen)
        await turns(pilot, 3)
        assert isinstance(app.screen, DashboardScreen)


async def test_the_fleet_search_takes_what_is_typed_with_its_slash(tmp_path: Path) -> None:
    """In the fleet view `/` opens the search screen; the query typed with it lands in its field."""
    clock = Clock()
    app, _hosts = fleet_app(clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.tick_now()
        await pilot.pause()
        burst(app, "slash", *letters("10.2.5.77"))
        search = await screen(pilot, FleetSearchScreen)
        await until(pilot, lambda: search.query_one("#fleet-query", Input).value == "10.2.5.77")
        await until(pilot, lambda: len(search.found) == 1)


async def test_a_flow_wgtui_starts_by_itself_takes_no_keys(tmp_path: Path, monkeypatch: Any) -> None:
    """The recovery of an interrupted change runs at start-up without being asked: keys typed meanwhile are the
    dashboard's, not kept for a dialog."""
    monkeypatch.setattr(key_order, "HOLD_S", 30.0)  # kept keys would stay kept for the whole wait below
    app, _clock, _conf = started(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await first_poll(app, pilot)
        dashboard = app.dashboard
        sort = dashboard.sort
        gate = asyncio.Event()

        async def recovering(_configs: object, _read_only: bool) -> None:
            await gate.wait()

        monkeypatch.setattr(app.changes, "_recover", recovering)
        app.changes.recover_interrupted([], False)
        assert app.changes.busy
        burst(app, "s")
        await until(pilot, lambda: dashboard.sort != sort)
        gate.set()
        await until(pilot, lambda: not app.changes.busy)
