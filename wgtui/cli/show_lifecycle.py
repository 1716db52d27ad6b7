"""Provides the lifecycle part of `wgtui show`: expiry, quota and its use, why a peer is disabled, lifetime totals."""

# `show` only reads: the ledger is opened without creating anything (no /var/lib/wgtui appears because someone
# looked), and a missing, unreadable or locked database gives nulls, never an error. Usage is read per interface in
# a few queries (totals, and the use of each distinct quota period), whatever the number of peers.

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wgtui import fmt
from wgtui.config_source import PeerMeta
from wgtui.durations import short_age
from wgtui.lifecycle.periods import Period, Quota, period_bounds

ALL_TIME = (0, 1 << 62)
"""The bounds a lifetime quota counts over (every bucket of the peer id, as the agent counts it)."""


@dataclass
class InterfaceUsage:
    """What the ledger knows of one interface's peers; `known` False when there is no database to ask."""

    ifname: str
    known: bool = False
    totals: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    """Public key -> (rx_total, tx_total, peer_id), for every key the ledger has seen (rotated ones included)."""
    _used: dict[tuple[int, int], dict[str, int]] = field(default_factory=dict)

    def used(self, peer_id: str, bounds: tuple[int, int]) -> int:
        return self._used.get(bounds, {}).get(peer_id, 0)


class UsageReader:
    """The ledger of a state directory, opened read-only in spirit (nothing is created); None-safe throughout."""

    def __init__(self, state_dir: Path | None) -> None:
        self.ledger: Any = None
        self.problem: str | None = None
        if state_dir is None:
            return
        from wgtui.lifecycle.db import DatabaseError, DatabaseMissing
        from wgtui.lifecycle.ledger import Ledger

        try:
            self.ledger = Ledger.open(state_dir, create=False, auto_compact=False)
        except DatabaseMissing:
            pass  # nothing was recorded on this host yet (no agent): nulls, and nothing to say
        except (DatabaseError, sqlite3.Error) as exc:
            self.problem = str(exc)

    def close(self) -> None:
        if self.ledger is not None:
            self.ledger.close()

    def read(self, ifname: str, metas: dict[str, PeerMeta], now: float) -> InterfaceUsage:
        usage = InterfaceUsage(ifname)
        if self.ledger is None:
            return usage
        try:
            usage.totals = {k: (t.rx_total, t.tx_total, t.peer_id) for k, t in self.ledger.totals(ifname).items()}
            for bounds in {_bounds(m.quota, now) for m in metas.values() if m.quota is not None}:
                rows = self.ledger.used_by_peer(ifname, *bounds)
                usage._used[bounds] = {pid: rx + tx for pid, (rx, tx) in rows.items()}
        except sqlite3.Error as exc:  # a damaged or locked file: nulls, and the reason on stderr by the caller
            self.problem = f"the usage database cannot be read: {exc}"
            return InterfaceUsage(ifname)
        usage.known = True
        return usage


def _bounds(quota: Quota, now: float) -> tuple[int, int]:
    return period_bounds(quota.period, now) or ALL_TIME


def lifecycle_json(key: str, meta: PeerMeta | None, usage: InterfaceUsage, now: float) -> dict[str, Any]:
    """The lifecycle fields of one peer in `show --json` (documented in the README)."""
    total = usage.totals.get(key)
    quota = meta.quota if meta is not None else None
    quota_json = None
    if quota is not None:
        bounds = _bounds(quota, now)
        lifetime = quota.period is Period.LIFETIME
        used = usage.used(total[2], bounds) if total is not None else 0
        quota_json = {"bytes": quota.bytes, "period": None if lifetime else quota.period.value,
                      "used": used if usage.known else None, "period_end": None if lifetime else bounds[1]}
    return {"expires": meta.expires if meta is not None else None, "quota": quota_json,
            "disabled_reason": meta.disabled_reason if meta is not None else None,
            "rx_total": total[0] if total is not None else (0 if usage.known else None),
            "tx_total": total[1] if total is not None else (0 if usage.known else None)}


def read_lifecycle(state_dir: Path | None, interfaces: Mapping[str, tuple[Iterable[str], Mapping[str, PeerMeta]]],
                   now: float) -> tuple[dict[str, dict[str, Any]], str | None]:
    """Per interface (name -> (public keys, the file's meta)): whether the ledger in STATE_DIR knows its usage, and
    lifecycle_json of each named peer; and why usage is unknown when it is. The agent answers `show --host` with
    this: quota periods are the host's, in its zone, and its ledger is the one that counts."""
    reader = UsageReader(state_dir)
    try:
        out = {}
        for ifname, (keys, metas) in interfaces.items():
            usage = reader.read(ifname, dict(metas), now)
            out[ifname] = {"known": usage.known,
                           "peers": {key: lifecycle_json(key, metas.get(key), usage, now) for key in keys}}
        return out, reader.problem
    finally:
        reader.close()


def usage_from(ifname: str, answer: Mapping[str, Any], metas: Mapping[str, PeerMeta], now: float) -> InterfaceUsage:
    """A host's read_lifecycle answer for one interface as an InterfaceUsage, for the text view: its totals and
    quota use (each under the quota period this side works out, which the text view asks for)."""
    usage = InterfaceUsage(ifname, known=bool(answer.get("known")))
    for key, info in answer.get("peers", {}).items():
        if info.get("rx_total") is not None:
            usage.totals[key] = (int(info["rx_total"]), int(info["tx_total"] or 0), key)
        meta, quota = metas.get(key), info.get("quota")
        if meta is not None and meta.quota is not None and quota and quota.get("used") is not None:
            usage._used.setdefault(_bounds(meta.quota, now), {})[key] = int(quota["used"])
    return usage


def lifecycle_lines(key: str, meta: PeerMeta | None, usage: InterfaceUsage, now: float) -> list[str]:
    """The same as short lines of the text view: "expires: 2026-12-31 (in 3d 2h)", "quota: 12.0 GB of 50.0 GB …"."""
    info = lifecycle_json(key, meta, usage, now)
    out = []
    if meta is not None and meta.expires is not None:
        left = meta.expires - now
        when = f"in {short_age(left)}" if left > 0 else f"{short_age(-left)} ago"
        out.append(f"  {'expires' if left > 0 else 'expired'}: {meta.expires_text} ({when})")
    quota = info["quota"]
    if quota is not None:
        period = quota["period"] or "lifetime"
        used = fmt.size(quota["used"]) if quota["used"] is not None else "unknown (no usage recorded)"
        until = "" if quota["period_end"] is None else \
            f", until {time.strftime('%Y-%m-%d %H:%M', time.localtime(quota['period_end']))}"
        out.append(f"  quota: {used} of {fmt.size(quota['bytes'])} ({period}{until})")
    if info["rx_total"] is not None and (info["rx_total"] or info["tx_total"]):
        out.append(f"  total: {fmt.size(info['rx_total'])} received, {fmt.size(info['tx_total'])} sent (lifetime)")
    return out
