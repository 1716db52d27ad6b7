"""The dashboard driven with Pilot on the demo and fake backends: navigate, sort, filter, detail, switch."""

from __future__ import annotations

from pathlib import Path

from tests.fakes import Clock, FakeBackend
from tests.ui.helpers import app_for, demo_app, screen_text
from wgtui.keys import short_key
from wgtui.model import PeerStatus
from wgtui.ui.screens.help import HelpScreen
from wgtui.ui.screens.peer_detail import PeerDetailScreen


async def test_rows_render_and_cursor_moves(tmp_path: Path) -> None:
    app, _clock = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.poll_now()
        await pilot.pause()
        table = app.dashboard.table
        # 40 live peers plus the demo's one peer that is only in its config file (drift, shown not counted).
        assert len(table.model) == 41 and table.cursor == 0
        first = table.cursor_key
        await pilot.press("down", "down")
        assert table.cursor == 2 and table.cursor_key == table.model.key_at(2) != first
        await pilot.press("pagedown")
        assert table.cursor > 2
        await pilot.press("end")
        assert table.cursor == 40 and table.model[40].file_only
        await pilot.press("home")
        assert table.cursor == 0
        text = screen_text(app)
        # The highlighted peer's short key is in the detail pane, and the header counts peers.
        assert short_key(first or "") in text
        assert "/40 online" in text


async def test_sort_cycles_and_reverses(tmp_path: Path) -> None:
    app, clock = demo_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        app.poll_now()
        clock.tick()
        app.poll_now()
        await pilot.pause()
        dash = app.dashboard
        model = dash.table.model
        statuses = [model[i].status for i in range(len(model))]
        assert statuses == sorted(statuses, key=[PeerStatus.ONLINE, PeerStatus.STALE, PeerStatus.NEVER].index)
        await pilot.press("s")  # -> name
        assert dash.sort == "name"
        names = [model[i].name.casefold() for i in range(len(model)) if model[i].name]
        assert names == sorted(names)
        await pilot.press("s")  # -> handshake: most recent first
        handshakes = [model[i].peer.latest_handshake for i in range(len(model))]
        nonzero = [h for h in handshakes if h]
        assert nonzero == sorted(nonzero, reverse=True) and handshakes[-1] == 0
        await pilot.press("S")
        assert dash.reverse and next(model[i].peer.latest_handshake for i in range(len(model))) == 0
        assert "handshake ▼" in screen_text(app)


async def test_filter_narrows_and_escape_clears(tmp_path: Path) -> None:
    backend, clock = FakeBackend(), Clock()
    keys = backend.add_peers("wg0", 30, endpoint="192.0.2.1:51820")
    backend.bump("wg0", keys[5], endpoint="198.51.100.77:4242")
    app = app_for(backend, clock, config_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.poll_now()
        await pilot.pause()
        await pilot.press("slash", *"198.51.100.77")
        await pilot.pause()
        table = app.dashboard.table
        assert len(table.model) == 1 and table.cursor_key == keys[5]
        await pilot.press("enter")  # keep the filter, back to the table
        assert table.has_focus and len(table.model) == 1
        # New polls keep the filter applied to new and changed peers.
        backend.add_peers("wg0", 1, endpoint="198.51.100.77:1")
        clock.tick()
        app.poll_now()
        assert len(table.model) == 2
        await pilot.press("escape")
        assert len(table.model) == 31


async def test_detail_screen_shows_every_field_but_no_secret(tmp_path: Path) -> None:
    backend, clock = FakeBackend(), Clock()
    (k,) = backend.add_peers("wg0", 1, allowed_ips=tuple(f"10.0.0.{i}/32" for i in range(12)),
                             has_preshared_key=True, persistent_keepalive=25,
                             latest_handshake=int(clock.now) - 42)
    app = app_for(backend, clock, config_dir=tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        app.poll_now()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PeerDetailScreen)
        text = screen_text(app)
        assert k in text  # the full public key
        assert "10.0.0.11/32" in text  # every allowed IP, not a shortened list
        assert "42 seconds ago" in text and "every 25 s" not in text and "25 s" in text
        assert "(hidden)" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, PeerDetailScreen)


async def test_full_keys_toggle(tmp_path: Path) -> None:
    backend, clock = FakeBackend(), Clock()
    (k,) = backend.add_peers("wg0", 1)
    app = app_for(backend, clock, config_dir=tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        app.poll_now()
        await pilot.pause()
        assert k not in screen_text(app)
        await pilot.press("k")
        await pilot.pause()
        assert k in screen_text(app)


async def test_switch_interface_with_key_and_palette_command(tmp_path: Path) -> None:
    app, _clock = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.poll_now()
        await pilot.pause()
        dash = app.dashboard
        assert dash.current == "wg0"  # the busiest interface first
        await pilot.press("i")
        assert dash.current == "wg-site" and len(dash.table.model) == 3
        await pilot.press("i")
        assert dash.current == "wg0"
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Switch to interface wg-site" in titles and "Sort by name" in titles


async def test_help_and_vanishing_interface(tmp_path: Path) -> None:
    backend, clock = FakeBackend(), Clock()
    backend.add_peers("wg0", 2)
    app = app_for(backend, clock, config_dir=tmp_path, interfaces=["wg0"])
    async with app.run_test(size=(80, 24)) as pilot:
        app.poll_now()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "--online-after" in app.screen.plain
        await pilot.press("escape")
        backend.gone.add("wg0")
        clock.tick()
        app.poll_now()
        await pilot.pause()
        text = screen_text(app)
        assert "down" in text and "does not exist" in text
        backend.gone.clear()
        clock.tick()
        app.poll_now()
        await pilot.pause()
        assert "2 online" in screen_text(app) or "0/2 online" in screen_text(app)
