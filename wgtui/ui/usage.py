"""Provides a peer's durable usage for the detail screen: its quota period's bytes and a day/week/month of history."""

# Plain Python, blocking: called from a worker thread. The dashboard only reads the ledger the agent writes: it never
# creates the state directory or the database (create=False), never assigns a peer id, never rolls history up.

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from wgtui.lifecycle.db import DatabaseError, DatabaseMissing
from wgtui.lifecycle.ledger import Ledger
from wgtui.lifecycle.periods import Quota, period_bounds
from wgtui.ui.policy_facts import QuotaUse

SPANS = ("day", "week", "month")
"""What the detail screen's sparkline cycles through after the live ten minutes."""
_ALL_TIME = (0, 1 << 62)


@dataclass(frozen=True)
class Usage:
    """What the ledger says about one peer (or why it says nothing)."""

    quota: QuotaUse | None = None
    """None without a quota, or when the ledger has nothing."""
    history: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    """Received and sent bytes per bucket of the asked span, oldest first; None when not asked or not known."""
    problem: str = ""
    """Why there is no usage: no database yet, unreadable, the peer never recorded."""


def read_usage(state_dir: Path, ifname: str, public_key: str, quota: Quota | None, span: str | None,
               now: float) -> Usage:
    """Blocking: the peer's usage from STATE_DIR's ledger."""
    try:
        ledger = Ledger.open(state_dir, create=False, auto_compact=False)
    except DatabaseMissing:
        return Usage(problem=f"no usage recorded: no database in {state_dir} (the agent keeps it)")
    except DatabaseError as exc:
        return Usage(problem=f"usage unknown: {exc}")
    try:
        peer_id = ledger.peer_id(ifname, public_key)
        if peer_id is None:
            return Usage(problem="no usage recorded for this peer yet (the agent records it)")
        use = None
        if quota is not None:
            bounds = period_bounds(quota.period, now)
            rx, tx = ledger.used(peer_id, *(bounds or _ALL_TIME))
            use = QuotaUse(rx + tx, bounds[1] if bounds else None)
        history = None
        if span is not None:
            rows = ledger.history(peer_id, span, now)
            history = (tuple(r[1] for r in rows), tuple(r[2] for r in rows))
        return Usage(use, history)
    except (DatabaseError, sqlite3.Error) as exc:  # a damaged or locked file: said, never a crash of the dashboard
        return Usage(problem=f"usage unknown: {exc}")
    finally:
        ledger.close()
