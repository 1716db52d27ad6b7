"""Provides the usage history's buckets: minutes for a day, local hours for ~90 days, local days for two years."""

# A roll-up moves rows to the coarser table in one short transaction; every byte is in exactly one row, and a day or
# month quota period always starts on a bucket boundary (hours and days are local), so usage over a period is exact.

from __future__ import annotations

import sqlite3
import time
from bisect import bisect_right
from datetime import tzinfo
from pathlib import Path

from wgtui.lifecycle import db
from wgtui.lifecycle.periods import day_start, hour_start, next_day_start

MINUTE_KEEP = 86400
"""Seconds of per-minute history kept before it is rolled up into hours."""
HOUR_KEEP = 90 * 86400
"""Seconds of per-hour history kept before it is rolled up into days."""
DAY_KEEP = 731 * 86400
"""Seconds of per-day history kept; older buckets are deleted (lifetime totals are kept apart and stay)."""
ROLLUP_HOURS_PER_TRANSACTION = 6
"""Hours of minutes rolled up per transaction: bounds how long a roll-up holds the write lock."""
SPANS: dict[str, tuple[int, int]] = {
    "day": (86400, 60),
    "week": (7 * 86400, 3600),
    "month": (30 * 86400, 3600),
    "year": (365 * 86400, 86400),
    "2y": (730 * 86400, 86400),
}
"""History views: span -> (length in seconds, bucket step in seconds; 86400 means local days)."""

_TABLES = ("usage_minute", "usage_hour", "usage_day")
_ADD = "ON CONFLICT (pid, t) DO UPDATE SET rx = rx + excluded.rx, tx = tx + excluded.tx"
_UPSERT = f"INSERT INTO {{table}} (pid, t, rx, tx) VALUES (?, ?, ?, ?) {_ADD}"
# Roll-ups walk peers and seek each one's range in the (pid, t) primary key (CROSS JOIN fixes that order).
_ROLL_MINUTES = ("INSERT INTO usage_hour (pid, t, rx, tx) "
                 "SELECT m.pid, m.t - ((m.t + ?1) % 3600) AS h, sum(m.rx), sum(m.tx) "
                 "FROM peers AS p CROSS JOIN usage_minute AS m WHERE m.pid = p.pid AND m.t >= ?2 AND m.t < ?3 "
                 f"GROUP BY m.pid, h {_ADD}")
_ROLL_HOURS = ("INSERT INTO usage_day (pid, t, rx, tx) SELECT u.pid, ?1, sum(u.rx), sum(u.tx) "
               "FROM peers AS p CROSS JOIN usage_hour AS u WHERE u.pid = p.pid AND u.t >= ?1 AND u.t < ?2 "
               f"GROUP BY u.pid {_ADD}")
_DELETE_RANGE = "DELETE FROM {table} WHERE pid IN (SELECT pid FROM peers) AND t >= ? AND t < ?"


class LedgerError(db.DatabaseError):
    """A ledger operation was refused; the message is a sentence for the user."""


class HistoryBuckets:
    """The history half of the Ledger: views over the buckets, and their roll-up and pruning."""

    conn: sqlite3.Connection
    tz: tzinfo
    path: Path
    _next_compact: float

    def _pid(self, peer_id: str) -> int | None:
        raise NotImplementedError

    def history(self, peer_id: str, span: str = "day", now: float | None = None,
                step: int | None = None) -> list[tuple[int, int, int]]:
        """(bucket start, rx, tx) for every bucket of a view ending with the current bucket, oldest first: "day"
        (1440 minutes), "week" (168 hours), "month" (720 hours), "year"/"2y" (local days). Empty buckets are 0."""
        length, default_step = SPANS[span]
        size = step or default_step
        when = time.time() if now is None else now
        bounds = self._bounds(when, length, size)
        rx = [0] * (len(bounds) - 1)
        tx = [0] * (len(bounds) - 1)
        pid = self._pid(peer_id)
        if pid is not None:
            for table in _TABLES:
                for t, r, x in self.conn.execute(f"SELECT t, rx, tx FROM {table} WHERE pid = ? AND t >= ? AND t < ?",
                                                 (pid, bounds[0], bounds[-1])):
                    i = bisect_right(bounds, t) - 1
                    rx[i] += r
                    tx[i] += x
        return [(bounds[i], rx[i], tx[i]) for i in range(len(rx))]

    def _bounds(self, now: float, length: int, step: int) -> list[int]:
        """Bucket boundaries, the last one the end of the bucket that holds `now`; days are local days."""
        if step == 86400:
            end = next_day_start(now, self.tz)
            bounds = [end]
            while bounds[-1] > end - length:
                bounds.append(day_start(bounds[-1] - 1, self.tz))
            return bounds[::-1]
        end = hour_start(now, self.tz) + 3600 if step == 3600 else int(now // step * step) + step
        n = max(1, length // step)
        return [end - (n - i) * step for i in range(n + 1)]

    # -- roll-up and pruning -------------------------------------------------------------------------------------

    def compact(self, now: float) -> None:
        """Roll minutes older than a day into local hours and hours older than MINUTE…HOUR_KEEP into local days;
        delete days older than two years. Each step is its own short transaction; idempotent across processes."""
        try:
            self._roll_minutes(hour_start(now - MINUTE_KEEP, self.tz))
            self._roll_hours(day_start(now - HOUR_KEEP, self.tz))
            with db.write(self.conn):
                self.conn.execute("DELETE FROM usage_day WHERE pid IN (SELECT pid FROM peers) AND t < ?",
                                  (int(now) - DAY_KEEP,))
        except sqlite3.Error as exc:
            raise LedgerError(f"Rolling up the usage history in {self.path} failed: {exc}.") from None
        self._next_compact = hour_start(now, self.tz) + 3600 + 5

    def _oldest(self, table: str) -> int | None:
        row = self.conn.execute(f"SELECT min((SELECT min(t) FROM {table} u WHERE u.pid = p.pid)) FROM peers p"
                                ).fetchone()
        return None if row[0] is None else int(row[0])

    def _roll_minutes(self, cutoff: int) -> None:
        done = db.get_meta(self.conn, "minutes_rolled_before")
        start = int(done) if isinstance(done, int) else self._oldest("usage_minute")
        if start is None:
            start = cutoff
        start = hour_start(start, self.tz)
        while start < cutoff:
            # One transaction for up to a few local hours that share their phase against UTC (the same for all
            # hours in most zones; +05:30 has 1800; a DST switch by 30 minutes changes it).
            phase = (-start) % 3600  # a local hour start h satisfies (h + phase) % 3600 == 0
            end = start
            for _ in range(ROLLUP_HOURS_PER_TRANSACTION):
                nxt = hour_start(end + 3600, self.tz)
                end = nxt if nxt > end else end + 3600
                if end >= cutoff or (-end) % 3600 != phase:
                    break
            end = min(end, cutoff)
            with db.write(self.conn):
                self.conn.execute(_ROLL_MINUTES, (phase, start, end))
                self.conn.execute(_DELETE_RANGE.format(table="usage_minute"), (start, end))
                db.set_meta(self.conn, "minutes_rolled_before", end)
            start = end
        if not isinstance(done, int):
            with db.write(self.conn):
                db.set_meta(self.conn, "minutes_rolled_before", max(start, cutoff))

    def _roll_hours(self, cutoff: int) -> None:
        done = db.get_meta(self.conn, "hours_rolled_before")
        start = int(done) if isinstance(done, int) else self._oldest("usage_hour")
        if start is None:
            start = cutoff
        start = day_start(start, self.tz)
        while start < cutoff:
            with db.write(self.conn):
                for _ in range(31):
                    if start >= cutoff:
                        break
                    end = next_day_start(start, self.tz)
                    self.conn.execute(_ROLL_HOURS, (start, end))
                    self.conn.execute(_DELETE_RANGE.format(table="usage_hour"), (start, end))
                    start = end
                db.set_meta(self.conn, "hours_rolled_before", start)
        if not isinstance(done, int):
            with db.write(self.conn):
                db.set_meta(self.conn, "hours_rolled_before", max(start, cutoff))
