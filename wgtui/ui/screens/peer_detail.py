"""Provides the full peer detail screen: every field, every allowed IP, and larger traffic history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from wgtui import fmt
from wgtui.drift import describe as describe_drift
from wgtui.monitor import PeerRow
from wgtui.ui.disabled_rows import DISABLED_GLYPH, is_disabled
from wgtui.ui.key_age import key_facts
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


def detail_fields(facts: PeerFacts) -> Text:
    row, now = facts.row, facts.now
    peer = row.peer
    text = Text()
    state = (f"{DISABLED_GLYPH} disabled (commented out in the file, off the interface)" if is_disabled(row)
             else f"{fmt.STATUS_GLYPH[row.status]} {row.status.value}")
    facts_rows = [(label, value) for label, value, _style in key_facts(row, now, facts.max_key_age, facts.other)]
    for label, value in (
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
        *(facts_rows or [("key created", "unknown (the file does not say)")]),
    ):
        text.append(f"{label:>22}  ", style="dim")
        text.append(value.replace("\n", "\n" + " " * 24))
        text.append("\n")
    return text


class PeerDetailScreen(ModalScreen[None]):
    """Refreshes once a second from what `lookup` gives (the dashboard's rows); closing returns to the same peer."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "dismiss", "Close", id="detail.close", tooltip="close the details"),
    ]

    def __init__(self, ifname: str, lookup: Lookup) -> None:
        super().__init__()
        self.ifname = ifname
        self.lookup = lookup

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-box"):
            yield Static(id="detail-all")
            yield Sparkline(id="detail-spark-rx")
            yield Sparkline(id="detail-spark-tx")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_fields()
        self.set_interval(1.0, self.refresh_fields)

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
        body.update(detail_fields(facts))
        for spark_id, label, values in (("#detail-spark-rx", "↓", facts.history[0]),
                                        ("#detail-spark-tx", "↑", facts.history[1])):
            widget = self.query_one(spark_id, Sparkline)
            widget.label = label
            widget.values = tuple(complete(values))
            widget.suffix = traffic_suffix(values)
