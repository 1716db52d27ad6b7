"""Provides the detail pane under the table: the highlighted peer's fields and its ten-minute traffic history."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from wgtui import fmt
from wgtui.drift import describe as describe_drift
from wgtui.history import BUCKET_SECONDS, HISTORY_SECONDS
from wgtui.keys import short_key
from wgtui.monitor import PeerRow
from wgtui.ui.disabled_rows import DISABLED_GLYPH, is_disabled
from wgtui.ui.key_age import key_facts
from wgtui.ui.policy_facts import pane_facts
from wgtui.ui.widgets.sparkline import Sparkline

_STATUS_STYLE = {"online": "green", "stale": "yellow", "never": "dim"}


def complete(series: Sequence[int]) -> list[int]:
    """The buckets of a history series that are complete (its last one is still filling): what the sparkline draws
    and its figures are computed from, so that the bars, `now` and `peak` always agree."""
    return list(series[:-1])


def now_and_peak(series: Sequence[int]) -> tuple[float | None, float]:
    """Bytes per second now and at the peak of one history series, both from the same samples: the averages of its
    complete BUCKET_SECONDS buckets, so the peak is never below the rate now (nor below any bar drawn)."""
    done = complete(series)
    if not done:
        return None, 0.0
    return done[-1] / BUCKET_SECONDS, max(done) / BUCKET_SECONDS


def traffic_suffix(series: Sequence[int]) -> str:
    now, peak = now_and_peak(series)
    return f"now {fmt.rate(now)} · peak {fmt.rate(peak)} ({BUCKET_SECONDS} s avg, {HISTORY_SECONDS // 60} min)"


def detail_text(row: PeerRow, now: float, full_keys: bool, max_key_age: float = 0.0,
                other: PeerRow | None = None) -> Text:
    """Every field of the peer in three short lines, and a fourth when the file says how old its key is, that it
    is being rotated (`other`: the rotation's other row), or when it expires and its quota. Built from Text, never
    markup: names are user data."""
    peer = row.peer
    status = row.status.value
    text = Text()
    disabled = is_disabled(row)

    def field(label: str, value: str, style: str = "", first: bool = False) -> None:
        if not first:
            text.append(" · ", style="dim")
        if label:
            text.append(f"{label} ", style="dim")
        text.append(value, style=style)

    if disabled:
        field("", f"{DISABLED_GLYPH} disabled", "dim italic", first=True)
        field("", "off the interface, kept in the file (x enables it)", "dim")
    else:
        field("", f"{fmt.STATUS_GLYPH[row.status]} {status}", _STATUS_STYLE[status], first=True)
        field("handshake", fmt.handshake_ago(peer.latest_handshake, now))
    field("", peer.endpoint or "no endpoint")
    field("", short_key(peer.public_key, full_keys))
    text.append("\n")
    field("allowed", fmt.allowed_ips(peer.allowed_ips, 3), first=True)
    field("keepalive", fmt.keepalive(peer.persistent_keepalive))
    field("psk", "yes" if peer.has_preshared_key else "no")
    text.append("\n")
    field("total", f"↓ {fmt.size(peer.rx_bytes)} ↑ {fmt.size(peer.tx_bytes)}", first=True)
    if row.drift:
        field("drift", describe_drift(row.drift) + " (y syncs)", "yellow")
    facts = key_facts(row, now, max_key_age, other) + pane_facts(row.meta, now)
    if facts:
        text.append("\n")
        for i, (label, value, style) in enumerate(facts):
            field(label, value, style, first=i == 0)
    return text


class PeerDetail(Vertical):
    """Compact: three or four lines of fields and two sparklines (received, sent) over the last ten minutes."""

    DEFAULT_CSS = """
    PeerDetail { height: auto; max-height: 9; border-top: solid $primary; padding: 0 1; }
    PeerDetail > #detail-fields { height: auto; max-height: 5; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: Text | None = None
        self._shown_lines = -1
        self._title: str | None = None
        """Lines of the text on screen when none of them wraps, else -1: then a new text may change the height."""

    def compose(self) -> ComposeResult:
        yield Static(id="detail-fields")
        yield Sparkline(id="spark-rx")
        yield Sparkline(id="spark-tx")

    def show(self, row: PeerRow | None, history: tuple[list[int], list[int]], now: float, full_keys: bool,
             max_key_age: float = 0.0, other: PeerRow | None = None) -> None:
        fields = self.query_one("#detail-fields", Static)
        rx_line = self.query_one("#spark-rx", Sparkline)
        tx_line = self.query_one("#spark-tx", Sparkline)
        if row is None:
            # Nothing of the previous peer may stay: its history, its peak, its name.
            self._set_title("no peer selected")
            self._set_fields(fields, Text("Move the cursor onto a peer to see its details.", style="dim"))
            rx_line.values = tx_line.values = ()
            rx_line.label = tx_line.label = rx_line.suffix = tx_line.suffix = ""
            return
        self._set_title(row.name or short_key(row.peer.public_key))
        self._set_fields(fields, detail_text(row, now, full_keys, max_key_age, other))
        rx, tx = history
        rx_line.label, tx_line.label = "↓", "↑"
        rx_line.values, tx_line.values = tuple(complete(rx)), tuple(complete(tx))
        rx_line.suffix, tx_line.suffix = traffic_suffix(rx), traffic_suffix(tx)

    def _set_title(self, title: str) -> None:
        # Assigning border_title repaints the whole pane, border and sparklines included, even when it is the same.
        if title != self._title:
            self._title = title
            self.border_title = title

    def _set_fields(self, fields: Static, text: Text) -> None:
        """Update the fields, asking for a layout pass only when the height may change.

        Called once per poll: a layout pass re-arranges the whole screen and repaints the pane's border, while an
        unchanged text needs nothing and a same-height text needs only its own lines redrawn.
        """
        if text == self._shown:
            return
        lines = text.plain.split("\n")
        width = fields.content_region.width
        unwrapped = len(lines) if width > 0 and all(cell_len(line) <= width for line in lines) else -1
        fields.update(text, layout=unwrapped < 0 or unwrapped != self._shown_lines)
        self._shown, self._shown_lines = text, unwrapped
