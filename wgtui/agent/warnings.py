"""Provides the agent's warnings: which threshold is due before an expiry or in a quota period, sent once per cycle."""

# A cycle is what re-arms a warning: for an expiry, the expiry instant itself (extending it starts a new cycle);
# for a quota, the period and the limit (a new period, or a changed quota). The marks of what was sent live in the
# state database (a table of the agent's own), so a restarted agent does not warn again. When several thresholds
# are crossed at once (an agent that was down, an expiry set to two days from now) one warning goes out, for the
# nearest threshold, and all of them are marked: a receiver gets no burst of stale warnings.

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from wgtui.lifecycle import db

DEFAULT_WARN_BEFORE = (7 * 86400, 3 * 86400, 86400)
DEFAULT_WARN_AT = (80, 100)
EXPIRY = "expiry"
QUOTA = "quota"
KEEP_MARKS = 400 * 86400
"""Seconds marks are kept: longer than any cycle they could belong to (a month period, a warning 7 days ahead)."""

_SCHEMA = ("CREATE TABLE IF NOT EXISTS agent_warnings (peer_id TEXT NOT NULL, kind TEXT NOT NULL, cycle TEXT NOT NULL,"
           " threshold INTEGER NOT NULL, at REAL NOT NULL, PRIMARY KEY (peer_id, kind, cycle, threshold))"
           " WITHOUT ROWID")


def expiry_threshold(expires_at: float, now: float, before: Sequence[int]) -> tuple[int | None, list[int]]:
    """(the threshold to warn for now, or None; every threshold crossed) of an expiry not yet reached: crossed means
    `now >= expires_at - threshold`, and the one to warn for is the nearest (smallest) crossed."""
    if now >= expires_at:
        return None, []
    crossed = sorted(t for t in before if now >= expires_at - t)
    return (crossed[0] if crossed else None), crossed


def quota_threshold(used: int, limit: int, percents: Sequence[int]) -> tuple[int | None, list[int]]:
    """(the highest percentage crossed, or None; every percentage crossed): crossed means `used >= limit * p / 100`,
    compared in integers."""
    crossed = sorted(p for p in percents if used * 100 >= limit * p)
    return (crossed[-1] if crossed else None), crossed


class WarningMarks:
    """What was sent, per (peer id, kind, cycle): kept in memory and in the agent's table."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        with db.write(conn):
            conn.execute(_SCHEMA)
        self._sent: dict[tuple[str, str, str], set[int]] = {}
        for peer_id, kind, cycle, threshold in conn.execute(
                "SELECT peer_id, kind, cycle, threshold FROM agent_warnings"):
            self._sent.setdefault((str(peer_id), str(kind), str(cycle)), set()).add(int(threshold))

    def sent(self, peer_id: str, kind: str, cycle: str) -> set[int]:
        return self._sent.get((peer_id, kind, cycle), set())

    def mark(self, peer_id: str, kind: str, cycle: str, thresholds: Sequence[int], now: float) -> None:
        new = [t for t in thresholds if t not in self.sent(peer_id, kind, cycle)]
        if not new:
            return
        with db.write(self.conn):
            self.conn.executemany("INSERT OR IGNORE INTO agent_warnings (peer_id, kind, cycle, threshold, at) "
                                  "VALUES (?, ?, ?, ?, ?)", [(peer_id, kind, cycle, t, now) for t in new])
        self._sent.setdefault((peer_id, kind, cycle), set()).update(new)

    def due(self, peer_id: str, kind: str, cycle: str, chosen: int | None) -> bool:
        """Whether a warning for threshold `chosen` is still to be sent in this cycle."""
        return chosen is not None and chosen not in self.sent(peer_id, kind, cycle)

    def prune(self, now: float) -> None:
        with db.write(self.conn):
            self.conn.execute("DELETE FROM agent_warnings WHERE at < ?", (now - KEEP_MARKS,))
        self._sent.clear()
        for peer_id, kind, cycle, threshold in self.conn.execute(
                "SELECT peer_id, kind, cycle, threshold FROM agent_warnings"):
            self._sent.setdefault((str(peer_id), str(kind), str(cycle)), set()).add(int(threshold))
