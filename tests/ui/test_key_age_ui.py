"""Keys in the dashboard: key ages and the overdue filter from wgtui.json, marks that refuse what cannot be
rotated and follow the polls, and the key-age cell in every layout."""

from __future__ import annotations

from pathlib import Path

from tests.ui.helpers import first_poll, screen_text, started, until
from wgtui.conf import Document
from wgtui.conf.meta import KEY_CREATED, stamp
from wgtui.config_source import PeerMeta
from wgtui.drift import Drift
from wgtui.keys import short_key
from wgtui.model import InterfaceState, PeerState, PeerStatus
from wgtui.monitor import InterfaceDelta, InterfaceSummary, PeerRow
from wgtui.ui.columns import COLUMNS, GLYPH_WIDTH, CellContext, layout
from wgtui.ui.key_age import is_overdue, key_age_cell
from wgtui.ui.marks import PeerMarks

SIZE = (80, 24)
DAY = 86400


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
