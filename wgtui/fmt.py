"""Provides the human-readable formatting of sizes, rates, handshake ages and peer states (via humanize)."""

from __future__ import annotations

import datetime as dt

import humanize

from wgtui.model import PeerStatus

STATUS_GLYPH = {PeerStatus.ONLINE: "●", PeerStatus.STALE: "◐", PeerStatus.NEVER: "○"}
"""Shapes differ as well as colours, so the state reads without colour (NO_COLOR, monochrome terminals)."""
DISABLED_GLYPH = "⊘"
"""A peer commented out in the file and off the interface (`wgtui peer disable`, PiVPN's `-off`)."""


def size(n: int) -> str:
    """`1.2 MB`, `88.0 kB`, `476 B` — decimal units, as network tools print them."""
    return str(humanize.naturalsize(n, format="%.1f")).replace("Bytes", "B").replace("Byte", "B")


def rate(bytes_per_second: float | None) -> str:
    """A transfer rate; `–` when there is no measurement yet (first poll, or a counter reset)."""
    if bytes_per_second is None:
        return "–"
    if bytes_per_second <= 0:
        return "0 B/s"
    return f"{size(round(bytes_per_second))}/s"


def handshake_ago(latest_handshake: int, now: float) -> str:
    """`42 seconds ago`; `never` for 0. A handshake in the future (clock skew) reads as `just now`."""
    if latest_handshake <= 0:
        return "never"
    delta = max(0.0, now - latest_handshake)
    return str(humanize.naturaltime(dt.timedelta(seconds=delta)))


def keepalive(seconds: int) -> str:
    return f"{seconds} s" if seconds else "off"


def allowed_ips(ips: tuple[str, ...], limit: int = 0) -> str:
    """Comma-separated; with a limit, the first few and `+N` for the rest."""
    if not ips:
        return "(none)"
    if limit and len(ips) > limit:
        return ", ".join(ips[:limit]) + f" +{len(ips) - limit}"
    return ", ".join(ips)
