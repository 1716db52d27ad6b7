"""Provides the Ledger's read-side usage queries: lifetime totals, usage over a period, and a peer id's keys."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import NamedTuple

from wgtui.lifecycle.history import _TABLES


class Totals(NamedTuple):
    """Lifetime bytes of a peer id (every key it ever had), and the id."""

    rx_total: int
    tx_total: int
    peer_id: str


class UsageQueries:
    """The reading half of the Ledger: queries over the counters and the history buckets, no writes."""

    conn: sqlite3.Connection

    def totals(self, ifname: str) -> dict[str, Totals]:
        """Lifetime totals of every key ever seen on the interface (a rotated key shares its successor's totals)."""
        rows = self.conn.execute(
            "WITH sums AS (SELECT k.pid AS pid, sum(c.rx_sum) AS rx, sum(c.tx_sum) AS tx FROM keys k "
            "JOIN counters c ON c.kid = k.kid WHERE k.interface = ?1 GROUP BY k.pid) "
            "SELECT k.public_key, s.rx, s.tx, p.peer_id FROM keys k JOIN sums s ON s.pid = k.pid "
            "JOIN peers p ON p.pid = k.pid WHERE k.interface = ?1", (ifname,))
        return {str(key): Totals(int(rx), int(tx), str(pid)) for key, rx, tx, pid in rows}

    def peer_totals(self, peer_id: str) -> tuple[int, int]:
        row = self.conn.execute("SELECT coalesce(sum(c.rx_sum), 0), coalesce(sum(c.tx_sum), 0) FROM peers p "
                                "JOIN keys k ON k.pid = p.pid JOIN counters c ON c.kid = k.kid WHERE p.peer_id = ?",
                                (peer_id,)).fetchone()
        return int(row[0]), int(row[1])

    def used(self, peer_id: str, since: float, until: float) -> tuple[int, int]:
        """(rx, tx) booked in buckets starting in [since, until): exact for a quota period, whose bounds are local
        midnights (bucket boundaries at every resolution)."""
        pid = self._pid(peer_id)
        if pid is None:
            return 0, 0
        rx = tx = 0
        for table in _TABLES:
            row = self.conn.execute(f"SELECT coalesce(sum(rx), 0), coalesce(sum(tx), 0) FROM {table} "
                                    "WHERE pid = ? AND t >= ? AND t < ?", (pid, int(since), _ceil(until))).fetchone()
            rx += int(row[0])
            tx += int(row[1])
        return rx, tx

    def used_by_peer(self, ifname: str, since: float, until: float) -> dict[str, tuple[int, int]]:
        """`used` for every peer id of the interface at once (the agent's start, with thousands of quotas)."""
        out: dict[str, list[int]] = {}
        for table in _TABLES:
            rows = self.conn.execute(
                f"SELECT p.peer_id, sum(u.rx), sum(u.tx) FROM peers p CROSS JOIN {table} u "
                "WHERE p.interface = ? AND u.pid = p.pid AND u.t >= ? AND u.t < ? GROUP BY p.pid",
                (ifname, int(since), _ceil(until)))
            for peer_id, rx, tx in rows:
                acc = out.setdefault(str(peer_id), [0, 0])
                acc[0] += int(rx)
                acc[1] += int(tx)
        return {peer_id: (rx, tx) for peer_id, (rx, tx) in out.items()}

    def keys_of(self, peer_id: str) -> Iterator[tuple[str, str]]:
        """(interface, public key) of every key a peer id has had."""
        for ifname, key in self.conn.execute("SELECT k.interface, k.public_key FROM keys k JOIN peers p "
                                             "ON p.pid = k.pid WHERE p.peer_id = ?", (peer_id,)):
            yield str(ifname), str(key)

    def _pid(self, peer_id: str) -> int | None:
        row = self.conn.execute("SELECT pid FROM peers WHERE peer_id = ?", (peer_id,)).fetchone()
        return None if row is None else int(row[0])


def _ceil(value: float) -> int:
    whole = int(value)
    return whole if whole == value else whole + 1
