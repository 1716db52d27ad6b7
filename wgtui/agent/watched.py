"""Provides what the resident agent keeps of one interface between polls: its config's policies and names, peer ids,
quota usage per period, and the metrics records built from them."""

# The config file is parsed again only when it changes on disk (inode, size, mtime). Quota usage is read from the
# ledger once per period and interface (one query for every peer), then kept current by adding each poll's
# increases, and read again every USAGE_REFRESH seconds to take in what other processes booked meanwhile.

from __future__ import annotations

import os
from pathlib import Path

from wgtui.conf import ConfError, Document
from wgtui.conf.disabled import disabled_peers
from wgtui.conf.meta import rotation_marks
from wgtui.lifecycle.ledger import Increase, Ledger, Totals
from wgtui.lifecycle.metrics import PeerMetrics
from wgtui.lifecycle.periods import Quota, period_bounds
from wgtui.lifecycle.policy import Policy, policies
from wgtui.model import InterfaceState

USAGE_REFRESH = 60.0
LIFETIME = (0, 1 << 62)
"""The bounds of a lifetime quota: everything the peer ever used."""


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


class Watched:
    """One interface as the agent follows it."""

    def __init__(self, ifname: str, config_path: Path) -> None:
        self.ifname = ifname
        self.config_path = config_path
        self.stamp: tuple[int, int, int] | bool | None = False
        """The config file's (inode, size, mtime) when it was read; None: no file; False: not looked yet."""
        self.has_config = False
        self.config_error: str | None = None
        self.policies: dict[str, Policy] = {}
        self.names: dict[str, str] = {}
        self.file_ips: dict[str, tuple[str, ...]] = {}
        self.renames: dict[str, str] = {}
        """Pending rotations: new key -> the old key it replaces (the ledger gives the new key the old one's id)."""
        self.state: InterfaceState | None = None
        self.totals: dict[str, Totals] = {}
        self._ids: dict[str, str] = {}
        self._usage: dict[tuple[int, int], dict[str, int]] = {}
        self._usage_at = 0.0

    # -- the config file ---------------------------------------------------------------------------------------

    def load_config(self) -> bool:
        """Read the file again if it changed on disk; whether it did."""
        stamp = _stamp(self.config_path)
        if stamp == self.stamp:
            return False
        self.stamp = stamp
        self.policies, self.names, self.file_ips, self.renames = {}, {}, {}, {}
        self.has_config, self.config_error = False, None
        if stamp is None:
            return True
        try:
            doc = Document.read(self.config_path)
        except (OSError, ConfError) as exc:
            self.config_error = f"{self.config_path} cannot be read: {exc}"
            return True
        self.has_config = True
        self.policies = policies(doc)
        self.names = dict(doc.names)
        self.file_ips = {v.public_key: v.allowed_ips for v in doc.peers if v.public_key}
        for found in disabled_peers(doc):
            key = found.view.public_key
            if key:
                self.file_ips.setdefault(key, found.view.allowed_ips)
                if found.view.name:
                    self.names.setdefault(key, found.view.name)
        self.renames = {new: mark.old_key for new, mark in rotation_marks(doc).items()}
        return True

    # -- ids and usage -----------------------------------------------------------------------------------------

    def refresh_totals(self, ledger: Ledger) -> None:
        self.totals = ledger.totals(self.ifname)
        self._ids = {key: t.peer_id for key, t in self.totals.items()}

    def peer_id(self, ledger: Ledger, public_key: str) -> str:
        """The key's stable id (assigned now if the key was never polled: a peer known only from the file)."""
        ident = self._ids.get(public_key)
        if ident is None:
            ident = ledger.peer_id(self.ifname, public_key, create=True) or ""
            self._ids[public_key] = ident
        return ident

    @staticmethod
    def bounds(quota: Quota, now: float) -> tuple[int, int]:
        return period_bounds(quota.period, now) or LIFETIME

    def used(self, ledger: Ledger, peer_id: str, quota: Quota, now: float) -> tuple[int, tuple[int, int]]:
        """Bytes received + sent by the peer in the quota's current period, and the period's bounds."""
        if now - self._usage_at >= USAGE_REFRESH or now < self._usage_at:
            self._usage.clear()
            self._usage_at = now
        bounds = self.bounds(quota, now)
        cached = self._usage.get(bounds)
        if cached is None:
            rows = ledger.used_by_peer(self.ifname, *bounds)
            cached = self._usage[bounds] = {pid: rx + tx for pid, (rx, tx) in rows.items()}
        return cached.get(peer_id, 0), bounds

    def add_increases(self, increases: dict[str, Increase], now: float) -> None:
        """A poll's increases, booked at `now`, into the usage of every cached period that contains `now`."""
        for (start, end), cached in self._usage.items():
            if start <= now < end:
                for inc in increases.values():
                    cached[inc.peer_id] = cached.get(inc.peer_id, 0) + inc.rx + inc.tx

    def forget_usage(self) -> None:
        """After a change wgtui made (a final reading, a rotation's link): read usage from the ledger again."""
        self._usage.clear()
        self._ids.clear()

    # -- metrics -----------------------------------------------------------------------------------------------

    def metrics(self, ledger: Ledger, now: float) -> list[PeerMetrics]:
        """One record per key on the interface or in the file (a deleted peer has none: its series go)."""
        live = self.state.peers if self.state is not None else {}
        out: list[PeerMetrics] = []
        for key in sorted({*live, *self.policies}):
            peer = live.get(key)
            policy = self.policies.get(key)
            peer_id = self.peer_id(ledger, key)
            totals = self.totals.get(key)
            quota = policy.quota if policy else None
            expires = policy.expires.timestamp() if policy and policy.expires else None
            used: int | None = None
            end: int | None = None
            if quota is not None:
                used, bounds = self.used(ledger, peer_id, quota, now)
                end = None if bounds == LIFETIME else bounds[1]
            out.append(PeerMetrics(
                interface=self.ifname, peer_id=peer_id, public_key=key, name=self.names.get(key),
                allowed_ips=peer.allowed_ips if peer is not None else self.file_ips.get(key, ()),
                enabled=peer is not None, rx_total=totals.rx_total if totals else 0,
                tx_total=totals.tx_total if totals else 0, last_handshake=peer.latest_handshake if peer else 0,
                expires=expires, quota_bytes=quota.bytes if quota else None, quota_used=used,
                quota_period_end=end))
        return out
