"""Provides the full peer detail screen: every field, every allowed IP, and larger traffic history."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from wgtui import fmt
from wgtui.drift import describe as describe_drift
from wgtui.history import BUCKET_SECONDS, HISTORY_SECONDS
from wgtui.ui.key_age import key_facts
from wgtui.ui.widgets.sparkline import Sparkline

if TYPE_CHECKING:
    from wgtui.ui.screens.dashboard import DashboardScreen


class PeerDetailScreen(ModalScreen[None]):
    """Refreshes once a second from the dashboard's rows; closing it returns to the same peer."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "dismiss", "Close", id="detail.close"),
    ]

    def __init__(self, dashboard: DashboardScreen, ifname: str, key: str) -> None:
        super().__init__()
        self.dashboard = dashboard
        self.ifname = ifname
        self.key = key

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
        model = self.dashboard.models.get(self.ifname)
        row = model.rows.get(self.key) if model else None
        box = self.query_one("#detail-box")
        # Content, not a str: a str border title is markup, and a name like "[b]x" must show as written.
        box.border_title = Content(f"{self.ifname} · {row.name or 'unnamed peer'}" if row else self.ifname)
        body = self.query_one("#detail-all", Static)
        if row is None:
            body.update(Text("This peer is no longer on the interface.", style="yellow"))
            return
        dash = self.dashboard
        now = dash.clock()
        peer = row.peer
        text = Text()
        max_age = dash.policies.get(self.ifname, 0.0)
        facts = [(label, value) for label, value, _style in key_facts(row, now, max_age, dash.counterpart(row))]
        for label, value in (
            ("name", row.name or "(none: add a name comment in the config file)"),
            ("public key", peer.public_key),
            ("preshared key", "(hidden)" if peer.has_preshared_key else "(none)"),
            ("state", f"{fmt.STATUS_GLYPH[row.status]} {row.status.value}"),
            ("latest handshake", fmt.handshake_ago(peer.latest_handshake, now)),
            ("endpoint", peer.endpoint or "(none)"),
            ("persistent keepalive", fmt.keepalive(peer.persistent_keepalive)),
            ("transfer", f"↓ {fmt.size(peer.rx_bytes)} received · ↑ {fmt.size(peer.tx_bytes)} sent"),
            ("rate", f"↓ {fmt.rate(row.rx_rate)} · ↑ {fmt.rate(row.tx_rate)}"),
            (f"allowed ips ({len(peer.allowed_ips)})", "\n".join(peer.allowed_ips) or "(none)"),
            ("drift", describe_drift(row.drift) if row.drift else "none: the file and the interface agree"),
            *(facts or [("key created", "unknown (the file does not say)")]),
        ):
            text.append(f"{label:>22}  ", style="dim")
            text.append(value.replace("\n", "\n" + " " * 24))
            text.append("\n")
        body.update(text)
        rx, tx = dash.history(self.ifname, self.key, now)
        for spark, label, values in (("#detail-spark-rx", "↓", rx), ("#detail-spark-tx", "↑", tx)):
            widget = self.query_one(spark, Sparkline)
            widget.label = label
            widget.values = tuple(values)
            widget.suffix = (f"last {HISTORY_SECONDS // 60} min, peak "
                             f"{fmt.rate(max(values, default=0) / BUCKET_SECONDS)}")
