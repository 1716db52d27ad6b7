"""Provides one peer's durable usage for the detail screen: its quota period's bytes and a day/week/month of history,
read from this host's ledger or asked of a remote host's agent (the same answer, as JSON)."""

# Plain Python, blocking: called from a worker thread. The dashboard only reads the ledger the agent writes: it never
# creates the state directory or the database (create=False), never assigns a peer id, never rolls history up.

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wgtui.lifecycle.db import DatabaseError, DatabaseMissing
from wgtui.lifecycle.ledger import Ledger
from wgtui.lifecycle.periods import Quota, period_bounds

SPANS = ("day", "week", "month")
"""What the detail screen's sparkline cycles through after the live ten minutes."""
_ALL_TIME = (0, 1 << 62)


@dataclass(frozen=True)
class QuotaUse:
    """How much of a quota the peer used in its current period, from the usage ledger."""

    used: int
    period_end: int | None
    """When the period starts anew (None: a lifetime quota)."""


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


UsageReader = Callable[[str, str, Quota | None, str | None, float], Usage]
"""(interface, public key, the peer's quota, span or None, now) -> its Usage; blocking. A remote host's reader asks
its agent, which reads the quota from its own file."""


def usage_to_json(usage: Usage) -> dict[str, Any]:
    quota = usage.quota
    return {"quota": None if quota is None else {"used": quota.used, "period_end": quota.period_end},
            "history": None if usage.history is None else [list(usage.history[0]), list(usage.history[1])],
            "problem": usage.problem}


def usage_from_json(data: Mapping[str, Any]) -> Usage:
    quota, history = data.get("quota"), data.get("history")
    end = quota.get("period_end") if quota else None
    return Usage(QuotaUse(int(quota["used"]), None if end is None else int(end)) if quota else None,
                 (tuple(int(v) for v in history[0]), tuple(int(v) for v in history[1])) if history else None,
                 str(data.get("problem") or ""))
