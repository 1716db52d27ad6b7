"""Provides the full peer detail screen: every field, every allowed IP, and larger traffic history."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from wgtui import fmt
from wgtui.drift import describe as describe_drift
from wgtui.lifecycle.history import SPANS as SPAN_LENGTHS
from wgtui.lifecycle.peer_usage import SPANS, Usage, UsageReader
from wgtui.lifecycle.periods import Quota
from wgtui.monitor import PeerRow
from wgtui.ui import keymap
from wgtui.ui.disabled_rows import DISABLED_GLYPH, is_disabled
from wgtui.ui.key_age import key_facts
from wgtui.ui.policy_facts import Fact, disabled_words, expiry_fact, quota_fact
from wgtui.ui.widgets.peer_detail import complete, traffic_suffix
from wgtui.ui.widgets.sparkline import Sparkline


@dataclass(frozen=True)
class PeerFacts:
    """What the screen shows of one peer at one moment, as the dashboard knows it."""

    row: PeerRow
    now: float
    history: tuple[list[int], list[int]]
    max_key_age: float = 0.0
    other: PeerRow | None = None
    """The other row of a rotation the peer takes part in."""


Lookup = Callable[[], PeerFacts | None]
"""The peer as the dashboard has it now; None when it left the interface."""
LIVE = "live"
SPAN_CYCLE = (LIVE, *SPANS)
"""What `h` cycles the sparklines through: the monitor's live ten minutes, then the ledger's spans."""
SPAN_STEPS = {span: step for span, (_length, step) in SPAN_LENGTHS.items()}
SPARKS = (("#detail-spark-rx", "↓"), ("#detail-spark-tx", "↑"))
VALUE_COLUMN = 24
"""Where values start: labels are right-aligned in the 22 columns before, then two spaces."""
USAGE_REFRESH = 10.0
"""Seconds between two reads of the usage ledger while the screen stays open (the agent writes it every poll)."""


def _policy_rows(row: PeerRow, now: float, usage: Usage | None) -> list[Fact]:
    meta = row.meta
    expiry = expiry_fact(meta, now) or ("expires", "never", "")
    quota = meta.quota if meta is not None else None
    unknown = usage.problem if usage is not None else ""
    fact = quota_fact(quota, usage.quota if usage is not None else None, now, unknown) or ("quota", "none", "")
    return [expiry, fact]


def _lines(value: str, room: int) -> list[str]:
    """A value's lines, each wrapped at `room` columns (0: as they are) so that a continuation stays in the value's
    column; words longer than that (keys) are kept whole."""
    if room <= 0:
        return value.split("\n")
    out: list[str] = []
    for line in value.split("\n"):  # paths and keys are never cut, at a hyphen or anywhere
        out += textwrap.wrap(line, room, break_long_words=False, break_on_hyphens=False) or [""]
    return out


def detail_fields(facts: PeerFacts, usage: Usage | None = None, width: int = 0) -> Text:
    """Every field, one a line; `usage` is what the ledger says (None: not read, or no ledger here); `width`: the
    columns the text has (0: unknown, long values are left to wrap at the edge)."""
    row, now = facts.row, facts.now
    peer = row.peer
    text = Text()
    why = disabled_words(row.meta)
    state = (f"{DISABLED_GLYPH} disabled ({why + '; ' if why else ''}commented out in the file, off the interface)"
             if is_disabled(row) else f"{fmt.STATUS_GLYPH[row.status]} {row.status.value}")
    facts_rows = key_facts(row, now, facts.max_key_age, facts.other)
    rows: list[Fact] = [(label, value, "") for label, value in (
        ("name", row.name or "(none: add a name comment in the config file)"),
        ("public key", peer.public_key),
        ("preshared key", "(hidden)" if peer.has_preshared_key else "(none)"),
        ("state", state),
        ("latest handshake", fmt.handshake_ago(peer.latest_handshake, now)),
        ("endpoint", peer.endpoint or "(none)"),
        ("persistent keepalive", fmt.keepalive(peer.persistent_keepalive)),
        ("transfer", f"↓ {fmt.size(peer.rx_bytes)} received · ↑ {fmt.size(peer.tx_bytes)} sent"),
        ("rate, last poll", f"↓ {fmt.rate(row.rx_rate)} · ↑ {fmt.rate(row.tx_rate)}"),
        (f"allowed ips ({len(peer.allowed_ips)})", "\n".join(peer.allowed_ips) or "(none)"),
        ("drift", describe_drift(row.drift) if row.drift else "none: the file and the interface agree"),
    )]
    rows += _policy_rows(row, now, usage)
    rows += facts_rows or [("key created", "unknown (the file does not say)", "")]
    room = width - VALUE_COLUMN if width > VALUE_COLUMN + 20 else 0
    for label, value, style in rows:
        text.append(f"{label:>22}  ", style="dim")
        text.append(("\n" + " " * VALUE_COLUMN).join(_lines(value, room)), style=style)
        text.append("\n")
    return text


def ledger_suffix(span: str, values: tuple[int, ...]) -> str:
    """`last day: 1.2 GB · peak 30.0 MB/min`: the span's total and its busiest bucket."""
    unit = "min" if SPAN_STEPS[span] == 60 else "h"
    return f"last {span}: {fmt.size(sum(values))} · peak {fmt.size(max(values, default=0))}/{unit}"


class PeerDetailScreen(ModalScreen[None]):
    """Refreshes once a second from what `lookup` gives (the dashboard's rows); closing returns to the same peer.
    Quota usage and the day/week/month history come from the usage ledger, through `usage` (this host's ledger, or
    a remote host's agent), asked in a thread every USAGE_REFRESH seconds (None: no ledger to ask)."""

    ACCEPTS_TYPE_AHEAD = True
    """Its keys only look around (ui/key_order.py): keys typed before it appeared still count."""

    BINDINGS: ClassVar[list[BindingType]] = keymap.bindings(keymap.DETAIL)

    def __init__(self, ifname: str, lookup: Lookup, usage: UsageReader | None = None) -> None:
        super().__init__()
        self.ifname = ifname
        self.lookup = lookup
        self.reader = usage
        self.span = LIVE
        self.usage: Usage | None = None
        self._asked: tuple[object, ...] | None = None
        """What the latest ledger read was for (key, span, quota), and when: a new one is started when it changes."""
        self._asked_at = 0.0

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-box"):
            yield Static(id="detail-all")
            yield Sparkline(id="detail-spark-rx")
            yield Sparkline(id="detail-spark-tx")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_fields()
        self.call_after_refresh(self.refresh_fields)  # again once laid out: long values wrap in their column
        self.set_interval(1.0, self.refresh_fields)

    def action_next_span(self) -> None:
        if self.reader is None:
            self.notify("Only the live ten minutes here: the usage ledger is not read for this interface.",
                        timeout=4, markup=False)
            return
        self.span = SPAN_CYCLE[(SPAN_CYCLE.index(self.span) + 1) % len(SPAN_CYCLE)]
        self.refresh_fields()

    def refresh_fields(self) -> None:
        facts = self.lookup()
        box = self.query_one("#detail-box")
        row = facts.row if facts is not None else None
        # Content, not a str: a str border title is markup, and a name like "[b]x" must show as written.
        box.border_title = Content(f"{self.ifname} · {row.name or 'unnamed peer'}" if row else self.ifname)
        body = self.query_one("#detail-all", Static)
        if facts is None:
            body.update(Text("This peer is no longer on the interface.", style="yellow"))
            for spark in self.query(Sparkline):
                spark.values, spark.label, spark.suffix = (), "", ""
            return
        self._ask_usage(facts)
        body.update(detail_fields(facts, self.usage, body.content_region.width))
        if self.span == LIVE:
            series = [(tuple(complete(values)), traffic_suffix(values)) for values in facts.history]
        else:
            series = self._ledger_series()
        for (values, suffix), (spark_id, label) in zip(series, SPARKS, strict=True):
            widget = self.query_one(spark_id, Sparkline)
            widget.label = label
            widget.values = values
            widget.suffix = suffix

    def _ledger_series(self) -> list[tuple[tuple[int, ...], str]]:
        usage = self.usage
        if usage is None or usage.history is None or self._asked is None or self._asked[1] != self.span:
            note = usage.problem if usage is not None and usage.problem else "reading the usage ledger…"
            return [((), note), ((), note)]
        return [(values, ledger_suffix(self.span, values)) for values in usage.history]

    def _ask_usage(self, facts: PeerFacts) -> None:
        if self.reader is None:
            return
        meta = facts.row.meta
        quota = meta.quota if meta is not None else None
        span = None if self.span == LIVE else self.span
        wanted: tuple[object, ...] = (facts.row.key, span, quota)
        if wanted == self._asked and facts.now - self._asked_at < USAGE_REFRESH:
            return
        if wanted != self._asked:
            self.usage = None  # never another peer's or another span's figures, even for a moment
        self._asked, self._asked_at = wanted, facts.now
        self._read_usage(self.reader, facts.row.key, quota, span, facts.now, wanted)

    @work(group="usage", exclusive=True, exit_on_error=False)
    async def _read_usage(self, reader: UsageReader, key: str, quota: Quota | None, span: str | None, now: float,
                          wanted: tuple[object, ...]) -> None:
        usage = await asyncio.to_thread(reader, self.ifname, key, quota, span, now)
        if wanted == self._asked:
            self.usage = usage
            self.refresh_fields()
