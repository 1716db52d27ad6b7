"""The peer table: columns by priority in the width there is, visible cuts, sort and column choosers whose choice is
remembered, the header's arrows, Ctrl+L and the periodic full redraw, help made from the bindings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.segment import Segment

from tests.fakes import Clock, FakeBackend
from tests.ui.helpers import app_for, demo_app, first_poll, screen, screen_text, until
from wgtui import fmt
from wgtui.keys import short_key
from wgtui.ui import base_app as app_module
from wgtui.ui import keymap
from wgtui.ui.columns import CUT, GLYPH_WIDTH, allowed_cell, fit_cell, layout
from wgtui.ui.dialogs.choosers import ColumnChooser, SortChooser
from wgtui.ui.peer_rows import Sort, arrow, descending
from wgtui.ui.prefs import ViewPrefs, default_path
from wgtui.ui.prefs import load as load_prefs
from wgtui.ui.screen_diff import ScreenDiff
from wgtui.ui.screens.help import HelpScreen

LONG_ENDPOINT = "[2001:db8:1234:5678:9abc:def0:1234:5678]:51820"  # 47 characters
IPS = ("10.0.0.2/32", "fd00::2/128", "192.168.10.0/24", "192.168.11.0/24")


def fake_app(tmp_path: Path, **options: object) -> tuple[object, FakeBackend, Clock, list[str]]:
    backend, clock = FakeBackend(), Clock()
    keys = backend.add_peers("wg0", 3, endpoint="192.0.2.1:51820", allowed_ips=("10.0.0.9/32",),
                             latest_handshake=int(clock.now) - 5)
    backend.bump("wg0", keys[0], endpoint=LONG_ENDPOINT, allowed_ips=IPS)
    (tmp_path / "peers").write_text(f"{keys[0]} mallory-phone-laptop\n{keys[1]} mallory-phone-2\n{keys[2]} x\n")
    return app_for(backend, clock, config_dir=tmp_path, **options), backend, clock, keys


async def test_at_200_columns_nothing_is_cut_that_has_room(tmp_path: Path) -> None:
    app, _backend, _clock, _keys = fake_app(tmp_path)
    async with app.run_test(size=(200, 50)) as pilot:  # type: ignore[attr-defined]
        await first_poll(app, pilot)  # type: ignore[arg-type]
        text = screen_text(app)  # type: ignore[arg-type]
        assert LONG_ENDPOINT in text  # not cut at 19 characters
        assert ", ".join(IPS) in text  # every allowed IP, not two and `+2`
        assert "mallory-phone-laptop " in text and "mallory-phone-2 " in text
        header = text.splitlines()[2]
        for title in ("↓ total", "↑ total", "key age", "allowed IPs"):
            assert title in header
        footer = text.splitlines()[-1]
        assert all(f" {word}" in footer for word in ("Undo", "Sync", "Columns", "Sort by…"))  # the room is used


async def test_at_80_columns_a_cut_value_is_marked_and_an_exact_fit_is_not(tmp_path: Path) -> None:
    app, _backend, _clock, keys = fake_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:  # type: ignore[attr-defined]
        await first_poll(app, pilot)  # type: ignore[arg-type]
        table = app.dashboard.table  # type: ignore[attr-defined]
        lay = table.columns
        name_width = lay.widths[0]
        assert name_width == len("mallory-phone-2")  # the names get the room 80 columns leave: not all of it
        cells = {key: table._texts(table.model.rows[key], table._line_pass().cells, lay) for key in keys}
        cut_name, cut_at = cells[keys[0]][0][0], cells[keys[0]][1]
        exact_name, exact_at = cells[keys[1]][0][0], cells[keys[1]][1]
        assert cut_name == "mallory-phone-" + CUT
        assert name_width - 1 in cut_at  # the CUT is drawn in a style of its own (reverse video)
        assert exact_name == "mallory-phone-2" and name_width - 1 not in exact_at  # fits exactly: no mark
        # Drawn: the CUT's segment has the reverse style, nothing else on the line does.
        table.select_key(keys[1])
        await pilot.pause()
        strip = table.render_line(1 + table.model.index_of(keys[0]))
        marked = [s for s in strip if isinstance(s, Segment) and s.style is not None and s.style.reverse]
        assert [s.text for s in marked] == [CUT, CUT]  # the name and the endpoint
        strip = table.render_line(1 + table.model.index_of(keys[2]))
        assert not [s for s in strip if s.style is not None and s.style.reverse]


def test_cells_say_how_much_is_missing() -> None:
    assert fit_cell("mallory-phone", 13) == ("mallory-phone", False)
    assert fit_cell("mallory-phone-2", 13) == ("mallory-phon" + CUT, True)
    assert fit_cell("name…", 5) == ("name…", False)  # a value ending in … is not a cut one
    assert allowed_cell(IPS, 80) == ", ".join(IPS)
    assert allowed_cell(IPS, 30) == "10.0.0.2/32, fd00::2/128 +2"
    lay = layout(200, widest=(15, 47, len(", ".join(IPS))))
    widths = dict(zip((c.id for c in lay.columns), lay.widths, strict=True))
    assert widths[Sort.ENDPOINT] == 47 and widths[Sort.ALLOWED] == len(", ".join(IPS)) and widths[Sort.NAME] == 15
    assert GLYPH_WIDTH + sum(lay.widths) + len(lay.widths) - 1 <= 200


def test_the_header_arrow_means_what_it_says() -> None:
    def header(sort: Sort, reverse: bool, width: int = 139) -> str:
        return layout(width, sort=sort).header(sort, reverse)

    assert "handshake ▲" in header(Sort.HANDSHAKE, False)  # most recent first: `N seconds ago` goes up
    assert "▼ ↓/s" in header(Sort.RX_RATE, False)  # busiest first: the rates go down the table
    assert "▲ ↓/s" in header(Sort.RX_RATE, True)
    assert header(Sort.STATE, False).startswith("●▲ ")  # the default sort is marked too
    assert "key age ▼" in header(Sort.KEY_AGE, False)  # oldest key first: the ages go down
    assert "handshake ▲" in header(Sort.HANDSHAKE, False, 79)  # squeezed, it keeps room for its arrow
    assert descending(Sort.RX, False) and not descending(Sort.NAME, False) and arrow(Sort.NAME, True) == "▼"
    # The sorted column is shown even where the width would drop it (or the user hid it): the header says the order.
    narrow = layout(79, shown=frozenset({Sort.NAME, Sort.KEY}), sort=Sort.RX)
    assert [c.id for c in narrow.columns] == [Sort.NAME, Sort.KEY, Sort.RX]


async def test_sort_and_columns_are_chosen_directly_and_remembered(tmp_path: Path) -> None:
    prefs = tmp_path / "config" / "wgtui" / "dashboard.json"
    app, _clock = demo_app(tmp_path, remember=prefs)
    async with app.run_test(size=(120, 40)) as pilot:
        await first_poll(app, pilot)
        await pilot.press("o")
        await screen(pilot, SortChooser)
        assert "(•) state" in screen_text(app)
        await pilot.press("down", "down", "down", "down", "down", "r")  # handshake, reversed
        await until(pilot, lambda: app.dashboard.sort is Sort.HANDSHAKE)
        assert app.dashboard.reverse
        header = screen_text(app).splitlines()[2]
        assert "handshake ▼" in header and "●▲" not in header
        await pilot.press("f2")
        await screen(pilot, ColumnChooser)
        assert "[x] endpoint" in screen_text(app)
        await pilot.press("down", "space", "down", "down", "down", "down", "down", "space", "enter")  # key, ↓/s
        await until(pilot, lambda: app.dashboard.hidden == frozenset({Sort.KEY, Sort.RX_RATE}))
        shown = [c.id for c in app.dashboard.table.columns.columns]
        assert Sort.KEY not in shown and Sort.RX_RATE not in shown and Sort.TX_RATE in shown
        header = screen_text(app).splitlines()[2]
        assert "↓/s" not in header and "↑/s" in header
        await until(pilot, lambda: prefs.exists() and load_prefs(prefs)[0].hidden)
    saved = json.loads(prefs.read_text())
    assert saved == {"version": 1, "sort": "handshake", "reverse": True, "hidden": ["key", "rx_rate"]}
    assert oct(prefs.stat().st_mode & 0o777) == "0o600"
    # The next run starts as the last one was left.
    (tmp_path / "again").mkdir()
    again, _clock = demo_app(tmp_path / "again", remember=prefs)
    async with again.run_test(size=(120, 40)) as pilot:
        await first_poll(again, pilot)
        assert again.dashboard.sort is Sort.HANDSHAKE and again.dashboard.reverse
        header = screen_text(again).splitlines()[2]
        assert "handshake ▼" in header and "↓/s" not in header


def test_remembered_view_lives_with_the_user_and_is_read_like_input(tmp_path: Path) -> None:
    assert default_path({"XDG_CONFIG_HOME": "/x/conf", "HOME": "/h"}) == Path("/x/conf/wgtui/dashboard.json")
    assert default_path({"HOME": "/h"}) == Path("/h/.config/wgtui/dashboard.json")
    assert default_path({"XDG_CONFIG_HOME": "relative", "HOME": "/h"}) == Path("/h/.config/wgtui/dashboard.json")
    bad = tmp_path / "dashboard.json"
    bad.write_text('{"sort": "colour", "reverse": "yes", "hidden": ["name", "key", "nope"]}')
    view, problem = load_prefs(bad)
    assert view == ViewPrefs(Sort.STATE, False, frozenset({Sort.KEY}))
    assert problem is not None and "colour" in problem and "nope" in problem
    bad.write_text("not json")
    assert load_prefs(bad)[0] == ViewPrefs() and "not JSON" in (load_prefs(bad)[1] or "")


def test_tests_and_benchmarks_never_touch_the_users_file(tmp_path: Path) -> None:
    app, _clock = demo_app(tmp_path)
    assert app.prefs_path is None  # autostart off: nothing read, nothing written


async def test_s_cycles_through_the_columns_shown_only(tmp_path: Path) -> None:
    app, _clock = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await first_poll(app, pilot)
        shown = {c.id for c in app.dashboard.table.columns.columns} | {Sort.STATE}
        seen = []
        for _ in range(len(shown)):
            await pilot.press("s")
            seen.append(app.dashboard.sort)
        assert set(seen) == shown and seen[-1] is Sort.STATE and Sort.RX not in seen


async def test_ctrl_l_and_the_periodic_redraw_write_every_cell_again(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "FULL_REDRAW_SECONDS", 0.2)
    app, _clock = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await first_poll(app, pilot)
        diff = app.screen_diff
        diff.resize(80, 24)
        diff.feed("\x1b[1;1Hwgtui")
        assert diff.chars[0][0] == "w"
        before = app.full_redraws
        await pilot.press("ctrl+l")
        assert app.full_redraws >= before + 1
        assert diff.chars[0][0] is None and not diff.attributes_known  # the next frame goes out whole
        await until(pilot, lambda: app.full_redraws >= before + 3)  # and every FULL_REDRAW_SECONDS


def test_a_full_redraw_rewrites_what_another_program_wrote_over() -> None:
    diff = ScreenDiff()
    diff.resize(20, 2)
    frame = "\x1b[1;1Hwgtui \x1b[1mdashboard\x1b[0m\x1b[2;1Hsecond line"
    whole = "\x1b[1;1Hwgtui \x1b[0;1mdashboard\x1b[2;1H\x1b[0msecond line"
    assert diff.feed(frame) == whole
    # `wall` writes over the screen: the diff cannot know, so the same frame again writes nothing at all.
    assert diff.feed(frame) == ""
    diff.invalidate()
    # Every cell again, after an attribute reset (what wrote meanwhile may have left a colour set).
    assert diff.feed(frame) == "\x1b[1;1H\x1b[0mwgtui \x1b[0;1mdashboard\x1b[2;1H\x1b[0msecond line"
    assert diff.feed(frame) == ""


async def test_help_lists_every_key_the_dashboard_has(tmp_path: Path) -> None:
    app, _clock = demo_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await first_poll(app, pilot)
        dash = app.dashboard
        chain = keymap.live_bindings(dash)
        rows = keymap.help_rows(dash)
        shown = " ".join(r.keys for r in rows).split(" ")
        for _node, binding in chain:
            assert app.get_key_display(binding) in shown, binding
        # Every wgtui binding carries its sentence (a key cannot be bound without being explained).
        ours = [b for _node, b in chain if b.id and b.id.split(".")[0] in ("dashboard", "table", "app")]
        assert ours and all(b.tooltip for b in ours)
        await pilot.press("question_mark")
        help_screen = await screen(pilot, HelpScreen)
        for sentence in ("disable the highlighted peer", "undo the last change", "redraw the whole screen",
                         "choose the columns shown", "write IF.conf"):
            assert sentence in help_screen.plain
        await pilot.press("escape")
        # The palette offers the same actions, by the same sentences.
        titles = [c.title for c in app.get_system_commands(dash)]
        assert "Undo the last change wgtui made to this interface (diff preview first)" in titles


async def test_the_detail_pane_forgets_the_previous_peer_and_its_peak_is_never_below_now(tmp_path: Path) -> None:
    from wgtui.ui.widgets.peer_detail import now_and_peak
    from wgtui.ui.widgets.sparkline import Sparkline

    assert now_and_peak([0, 5000, 2500, 99999]) == (500.0, 1000.0)  # the bucket still filling is left out
    assert now_and_peak([7]) == (None, 0.0)
    backend, clock = FakeBackend(), Clock()
    (key,) = backend.add_peers("wg0", 1, rx_bytes=0, latest_handshake=int(clock.now))
    app = app_for(backend, clock, config_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await first_poll(app, pilot)
        for step in range(12):
            clock.tick()
            backend.bump("wg0", key, rx_bytes=(step + 1) * 10_000 * (1 + step % 3))
            app.poll_now()
        await pilot.pause()
        spark = app.dashboard.query_one("#spark-rx", Sparkline)
        assert "peak" in spark.suffix and spark.values
        now = float(spark.suffix.split("now ")[1].split(" B/s")[0].split(" kB/s")[0])
        peak = float(spark.suffix.split("peak ")[1].split(" B/s")[0].split(" kB/s")[0])
        assert peak >= now
        assert fmt.rate(now_and_peak(app.monitor.history("wg0", key, clock.now)[0])[1]) in spark.suffix
        backend.ifaces["wg0"].clear()  # the interface is left without peers
        clock.tick()
        app.poll_now()
        await pilot.pause()
        assert spark.values == () and spark.suffix == "" and spark.label == ""
        assert "peak" not in screen_text(app) and short_key(key) not in screen_text(app)
