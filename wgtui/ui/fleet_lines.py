"""Provides the fleet view's lines: one per host (like glances' server browser), one per peer a search found."""

# Plain formatting, no widgets: a tick turns each host's summary into one Line, the table redraws those that differ.
# Columns that do not fit the width are left out, least useful first; the selected host's detail line below the
# table says everything, the error of an unreachable host included.

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wgtui import fmt, keys
from wgtui.durations import short_age
from wgtui.remote.host import Health
from wgtui.remote.watch import Found, HostSummary
from wgtui.ui.columns import fit
from wgtui.ui.disabled_rows import DISABLED_GLYPH, is_disabled
from wgtui.ui.widgets.line_table import Line

HEALTH = {Health.LIVE: ("●", "live"), Health.STALE: ("◐", "stale"), Health.UNREACHABLE: ("✕", "unreachable"),
          Health.CONNECTING: ("…", "connecting")}
"""Glyph and word of each host state: the shapes differ as well as the colours (NO_COLOR)."""


@dataclass(frozen=True)
class Column:
    title: str
    width: int
    """Cells; 0: the flexible column (what the others leave, at least MIN_FLEX)."""
    right: bool = False
    drop: int = 0
    """Left out first when the width runs out: the highest number goes first (0: never)."""


MIN_FLEX = 10
HOST_COLUMNS = (
    Column("Host", 0), Column("State", 13), Column("Latency", 7, True, drop=5), Column("IFs", 3, True, drop=6),
    Column("Online", 9, True, drop=1), Column("↓/s", 10, True, drop=2), Column("↑/s", 10, True, drop=2),
    Column("Drift", 5, True, drop=3), Column("Pending", 7, True, drop=3), Column("Age", 6, True, drop=4),
)
FOUND_COLUMNS = (
    Column("Host", 12), Column("IF", 8, drop=3), Column("", 1), Column("Name", 0), Column("Allowed IPs", 20, drop=1),
    Column("Public key", 10, drop=2), Column("Handshake", 15, drop=4),
)


def fitted(columns: Sequence[Column], width: int) -> tuple[list[Column], int]:
    """The columns that fit `width` (a leading space, one between columns) and the flexible column's width."""
    shown = list(columns)

    def used() -> int:
        return 1 + sum(c.width for c in shown) + len(shown) - 1

    for level in sorted({c.drop for c in columns if c.drop}, reverse=True):
        if used() + MIN_FLEX <= width:
            break
        shown = [c for c in shown if c.drop != level]
    return shown, max(MIN_FLEX, width - used())


def _line(key: str, columns: Sequence[Column], flex: int, cells: dict[str, tuple[str, str]]) -> Line:
    spans: list[tuple[str, str]] = [(" ", "")]
    for i, column in enumerate(columns):
        text, part = cells[column.title]
        spans.append((fit(text, column.width or flex, column.right), part))
        if i < len(columns) - 1:
            spans.append((" ", ""))
    return Line(key, tuple(spans))


def header(columns: Sequence[Column], flex: int) -> Line:
    return _line("", columns, flex, {c.title: (c.title, "") for c in columns})


def state_text(s: HostSummary) -> tuple[str, str]:
    """`● live`, `● read-only` (reachable, no wgtui there), `◐ stale`, `✕ unreachable`, `… connecting`."""
    glyph, word = HEALTH[s.health]
    if s.health is Health.LIVE and s.read_only:
        word = "read-only"
    return f"{glyph} {word}", s.health.value


def host_line(s: HostSummary, columns: Sequence[Column], flex: int) -> Line:
    # Figures of a host that does not answer are its last ones: dim, so that they do not read as live.
    quiet = "" if s.health is Health.LIVE else "dim"
    cells = {
        "Host": (s.name, "bold"),
        "State": state_text(s),
        "Latency": (f"{s.latency * 1000:.0f} ms" if s.latency is not None else "–", quiet),
        "IFs": (str(s.interfaces), quiet),
        "Online": (f"{s.online}/{s.total}", quiet),
        "↓/s": (fmt.rate(s.rx_rate), quiet),
        "↑/s": (fmt.rate(s.tx_rate), quiet),
        "Drift": (str(s.drift) if s.drift else "–", "warn" if s.drift else "dim"),
        "Pending": (f"↻ {s.pending}" if s.pending else "–", "bold" if s.pending else "dim"),
        "Age": (short_age(s.age) if s.age is not None else "–", quiet),
    }
    return _line(s.name, columns, flex, cells)


def host_lines(summaries: Sequence[HostSummary], width: int) -> tuple[Line, list[Line]]:
    columns, flex = fitted(HOST_COLUMNS, width)
    return header(columns, flex), [host_line(s, columns, flex) for s in summaries]


def found_key(found: Found) -> str:
    return f"{found.host}\0{found.ifname}\0{found.row.key}"


def found_lines(found: Sequence[Found], width: int, now: float) -> tuple[Line, list[Line]]:
    columns, flex = fitted(FOUND_COLUMNS, width)
    lines = []
    for f in found:
        row = f.row
        if is_disabled(row):
            glyph, part = DISABLED_GLYPH, "dim"
        else:
            glyph = fmt.STATUS_GLYPH[row.status]
            part = {"online": "live", "stale": "stale"}.get(row.status.value, "dim")
        cells = {"Host": (f.host, "bold"), "IF": (f.ifname, ""), "": (glyph, part),
                 "Name": (row.name or "(no name)", "" if row.name else "dim"),
                 "Allowed IPs": (fmt.allowed_ips(row.peer.allowed_ips, 1), ""),
                 "Public key": (keys.short_key(row.key), "dim"),
                 "Handshake": (fmt.handshake_ago(row.peer.latest_handshake, now), "dim")}
        lines.append(_line(found_key(f), columns, flex, cells))
    return header(columns, flex), lines


def detail_text(s: HostSummary) -> list[tuple[str, str]]:
    """The selected host in full, as (text, part) lines: its figures, then what is wrong there, if anything."""
    glyph, word = HEALTH[s.health]
    figures = [s.name, f"{glyph} {word}" + (", read-only" if s.read_only else "")]
    if s.latency is not None:
        figures.append(f"latency {s.latency * 1000:.0f} ms")
    figures.append(f"{s.interfaces} interface{'s' if s.interfaces != 1 else ''}")
    figures.append(f"{s.online}/{s.total} online")
    if s.drift:
        figures.append(f"drift on {s.drift} peer{'s' if s.drift != 1 else ''}")
    if s.pending:
        figures.append(f"{s.pending} rotation{'s' if s.pending != 1 else ''} pending")
    figures.append("never answered" if s.age is None else f"last answer {short_age(s.age)} ago")
    lines = [(" · ".join(figures), "")]
    if s.error and s.health is not Health.LIVE:
        lines.append((f"{word}: {s.error}", "error"))
    if s.read_only and s.refusal:
        lines.append((s.refusal, "warn"))
    if s.rotation_error:
        lines.append((f"a rotation that is due could not be finished: {s.rotation_error}", "error"))
    return lines
