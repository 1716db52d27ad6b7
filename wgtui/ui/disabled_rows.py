"""Provides the rows of disabled peers: the config file's `#[disabled]` blocks, listed beside the live peers."""

# Plain Python (no Textual). The monitor reports what the interface and the file's live blocks say; a disabled peer is
# in neither, so the dashboard adds its rows itself from the same ConfigView the monitor polled with (see
# RecordingConfig): greyed, state `disabled`, never drift and never counted.

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from wgtui import fmt
from wgtui.conf import PeerView
from wgtui.config_source import ConfigView
from wgtui.ipalloc import network
from wgtui.model import PeerState, PeerStatus
from wgtui.monitor import PeerRow

DISABLED_GLYPH = fmt.DISABLED_GLYPH
"""A disabled peer: the glyph `wgtui show` prints, a shape none of ● ◐ ○ has (NO_COLOR included)."""


@dataclass(frozen=True, slots=True)
class DisabledRow(PeerRow):
    """A peer commented out in the file: what its block says, no handshake, no traffic. Its status field is NEVER
    for code that only knows the three live states; everything the dashboard shows asks `is_disabled` first."""


def is_disabled(row: PeerRow) -> bool:
    return type(row) is DisabledRow


def _state(view: PeerView) -> PeerState:
    ips = []
    for ip in view.allowed_ips:
        try:
            ips.append(str(network(ip)))
        except ValueError:
            ips.append(ip)  # shown as written: enabling it is refused with the reason
    return PeerState(public_key=view.public_key or "", endpoint=view.endpoint, allowed_ips=tuple(ips),
                     persistent_keepalive=view.persistent_keepalive or 0, has_preshared_key=bool(view.preshared_key))


class DisabledRows:
    """Rows per ConfigView, built once per view: the view is the same object while the file is unchanged."""

    def __init__(self) -> None:
        self._built: dict[str, tuple[ConfigView, dict[str, PeerRow]]] = {}

    def of(self, ifname: str, view: ConfigView) -> dict[str, PeerRow]:
        cached = self._built.get(ifname)
        if cached is not None and cached[0] is view:
            return cached[1]
        rows: dict[str, PeerRow] = {
            key: DisabledRow(_state(peer), view.names.get(key) or peer.name or "", PeerStatus.NEVER, None, None,
                             meta=view.meta.get(key))
            for key, peer in view.disabled.items()}
        self._built[ifname] = (view, rows)
        return rows

    def forget(self, ifname: str) -> None:
        self._built.pop(ifname, None)


ConfigFor = Callable[[str], ConfigView]


class RecordingConfig:
    """Wraps the monitor's config source and keeps the latest view per interface, so that the rows of one poll and
    the disabled peers of the same reading of the file reach the dashboard together."""

    def __init__(self, source: ConfigFor) -> None:
        self.source = source
        self._latest: dict[str, ConfigView] = {}
        self._lock = threading.Lock()

    def __call__(self, ifname: str) -> ConfigView:
        view = self.source(ifname)
        with self._lock:
            self._latest[ifname] = view
        return view

    def latest(self) -> Mapping[str, ConfigView]:
        """A copy: taken in the poll thread right after a poll, read in the UI thread."""
        with self._lock:
            return dict(self._latest)
