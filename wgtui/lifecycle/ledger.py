"""Provides durable usage accounting: counter increases per poll, kept per stable peer id in SQLite, downsampled."""

# Design, and why:
# - What is counted is the INCREASE of each key's rx/tx counters since the previous reading, in integers. The
#   kernel's counters are 64-bit and never wrap in practice, so a counter below its previous reading means the peer
#   was re-added, the interface restarted or the host rebooted: then the new readings (rx and tx: both started from
#   0) are the increase (no tolerance factor, no float). A peer that leaves the interface has its reading set to 0,
#   so that coming back (enable, re-add) counts from 0. Optionally an interface `epoch` (boot id, network namespace,
#   ifindex) tells a restart that happened while nobody polled, even when the new counters already passed the old
#   reading (without it, such a restart undercounts by at most the old reading).
# - The previous reading is persisted in the same transaction as the usage it produced: a restart of wgtui, or a
#   crash, then neither loses the traffic in between (the next poll counts from the persisted reading) nor counts
#   it twice. The traffic of a gap is booked in the minute of the poll that sees it.
# - Usage belongs to a stable peer id (8 random base32 characters) assigned when a key is first seen on an
#   interface, never to the key: `link` (or a pending rotation passed to `record`) makes a new key continue the old
#   key's id, so a rotation keeps totals, quotas and history. Lifetime totals are sums per key (merged into the
#   id), kept outside the history so that pruning the history never lowers a total.
# - The first time an interface is recorded, the counters it already has (traffic from before wgtui was installed)
#   go into the lifetime totals but into no time bucket: they would otherwise land in today and use up a quota.
# - History: minutes for a day, local hours for ~90 days, local days for two years (local: a day or month quota
#   period always starts on a bucket boundary, so `used` over a period is exact). A roll-up moves rows to the
#   coarser table in one transaction; every byte is in exactly one row.
# - Cost: the poll path compares readings with an in-memory copy and writes only the keys whose counters changed,
#   all in one transaction. The copy is checked against a per-interface generation number that every writer bumps,
#   so a CLI writing meanwhile (a final reading before a removal) is seen, and never double-counted.

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import socket
import sqlite3
import time
from collections.abc import Iterator, Mapping
from datetime import tzinfo
from pathlib import Path
from typing import NamedTuple

from wgtui.compat import Self
from wgtui.lifecycle import db
from wgtui.lifecycle.history import _ADD, _TABLES, _UPSERT, HistoryBuckets, LedgerError
from wgtui.lifecycle.periods import local_zone
from wgtui.lifecycle.usage import Totals as Totals
from wgtui.lifecycle.usage import UsageQueries
from wgtui.model import PeerState


class Increase(NamedTuple):
    """What one key added in one poll."""

    peer_id: str
    rx: int
    tx: int


class _Key:
    """The in-memory copy of one key's row: ids and its latest persisted reading."""

    __slots__ = ("kid", "pid", "rx", "tx")

    def __init__(self, kid: int, pid: int, rx: int, tx: int) -> None:
        self.kid, self.pid, self.rx, self.tx = kid, pid, rx, tx


class _Interface:
    __slots__ = ("epoch", "generation", "keys", "nonzero", "peer_ids", "recorded")

    def __init__(self, generation: int, epoch: str | None, recorded: bool) -> None:
        self.generation = generation
        self.epoch = epoch
        self.recorded = recorded
        self.keys: dict[str, _Key] = {}
        self.nonzero: set[str] = set()
        """Keys whose persisted reading is not 0/0: the ones that must be zeroed when they leave."""
        self.peer_ids: dict[int, str] = {}


def new_peer_id() -> str:
    """8 characters of lowercase base32 (40 random bits): short enough to read, never key-shaped."""
    return base64.b32encode(secrets.token_bytes(5)).decode().lower()


def interface_epoch(ifname: str) -> str | None:
    """What identifies this instance of an interface, seen from the calling thread's network namespace: the boot id,
    the namespace and the ifindex. It changes when the host reboots or the interface is re-created (wg-quick
    down/up, a restarted wireguard-go), i.e. whenever its counters restart. None when it cannot be told."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        netns = os.stat("/proc/thread-self/ns/net").st_ino
        index = socket.if_nametoindex(ifname)
    except OSError:
        return None
    return f"{boot}/{netns}/{index}"


class Ledger(UsageQueries, HistoryBuckets):
    """Usage accounting in the lifecycle database. One Ledger per thread (it holds a SQLite connection); several
    processes may open the same database at once."""

    def __init__(self, path: Path, *, tz: tzinfo | None = None, create: bool = True, auto_compact: bool = True,
                 timeout: float = db.BUSY_TIMEOUT) -> None:
        self.path = path
        self.tz = tz or local_zone()
        self.auto_compact = auto_compact
        self.conn = db.connect(path, create=create, timeout=timeout)
        self._ifaces: dict[str, _Interface] = {}
        self._next_compact = 0.0
        self.compact_error: str | None = None
        """Why the latest automatic roll-up failed (it is retried a minute later), or None."""

    @classmethod
    def open(cls, state_dir: Path = db.DEFAULT_STATE_DIR, *, tz: tzinfo | None = None, create: bool = True,
             auto_compact: bool = True, timeout: float = db.BUSY_TIMEOUT) -> Self:
        """The ledger of STATE_DIR/wgtui.db (the directory is created 0700 and the file 0600 when missing)."""
        return cls(db.db_path(state_dir), tz=tz, create=create, auto_compact=auto_compact, timeout=timeout)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the poll path -------------------------------------------------------------------------------------------

    def record(self, ifname: str, now: float, peers: Mapping[str, PeerState], *,
               renames: Mapping[str, str] | None = None, epoch: str | None = None,
               complete: bool = True) -> dict[str, Increase]:
        """Add what each peer's counters grew since the previous reading; return the non-zero increases by key.

        `peers` is the interface's state (public key -> PeerState). With `complete` (the default) it is all of the
        interface's peers, and a key missing from it has left: its reading becomes 0. `renames` maps a new key to
        the old key it replaces (pending rotations read from the config file), so the new key continues the old
        key's peer id. `epoch` (see interface_epoch) detects a restart even when the counters grew past the old
        reading meanwhile; pass it only when computed on the interface's own host and namespace.
        """
        try:
            iface = self._ifaces.get(ifname) or self._load(ifname)
        except sqlite3.Error as exc:
            raise LedgerError(f"The usage database {self.path} cannot be read: {exc}.") from None
        increases: dict[str, Increase] = {}
        if self._work(iface, peers, renames, epoch, complete):
            with self._transaction(ifname):
                increases = self._record(ifname, now, peers, renames or {}, epoch, complete)
        self._maybe_compact(now)
        return increases

    def _work(self, iface: _Interface, peers: Mapping[str, PeerState], renames: Mapping[str, str] | None,
              epoch: str | None, complete: bool) -> bool:
        """Whether this poll has anything to write (cheap: no database access)."""
        if not iface.recorded:
            return True
        known = iface.keys
        for key, state in peers.items():
            k = known.get(key)
            if k is None or k.rx != state.rx_bytes or k.tx != state.tx_bytes:
                return True
        if complete and any(key not in peers for key in iface.nonzero):
            return True
        if epoch is not None and epoch != iface.epoch:
            return True
        if renames:
            for new, old in renames.items():
                a, b = known.get(new), known.get(old)
                if a is not None and b is not None and a.pid != b.pid:
                    return True
        return False

    def _record(self, ifname: str, now: float, peers: Mapping[str, PeerState], renames: Mapping[str, str],
                epoch: str | None, complete: bool) -> dict[str, Increase]:
        iface, first = self._fresh(ifname)
        if first:
            self.conn.execute("UPDATE interfaces SET recorded = 1 WHERE name = ?", (ifname,))
            iface.recorded = True
        if epoch is not None and epoch != iface.epoch:
            if iface.epoch is not None:
                self._zero(ifname, iface, list(iface.nonzero))  # restarted since the last reading
            self.conn.execute("UPDATE interfaces SET epoch = ? WHERE name = ?", (epoch, ifname))
            iface.epoch = epoch
        # New keys: plain ones first, then those of a rotation, which take the peer id of their old key.
        for key in [k for k in peers if k not in iface.keys and k not in renames]:
            self._add_key(ifname, iface, key, None, now)
        for key in [k for k in peers if k not in iface.keys]:
            old = iface.keys.get(renames[key])
            self._add_key(ifname, iface, key, old.pid if old else None, now)
        for new, old_key in renames.items():
            a, b = iface.keys.get(new), iface.keys.get(old_key)
            if a is not None and b is not None and a.pid != b.pid:
                self._merge(iface, b.pid, a.pid)
        updates: list[tuple[int, int, int, int, int]] = []
        buckets: dict[int, list[int]] = {}
        increases: dict[str, Increase] = {}
        for key, state in peers.items():
            k = iface.keys[key]
            rx, tx = state.rx_bytes, state.tx_bytes
            if k.rx == rx and k.tx == tx:
                continue
            drx, dtx = _increase(k, rx, tx)
            updates.append((rx, tx, drx, dtx, k.kid))
            k.rx, k.tx = rx, tx
            if rx or tx:
                iface.nonzero.add(key)
            else:
                iface.nonzero.discard(key)
            if (drx or dtx) and not first:
                increases[key] = Increase(iface.peer_ids[k.pid], drx, dtx)
                bucket = buckets.setdefault(k.pid, [0, 0])
                bucket[0] += drx
                bucket[1] += dtx
        self.conn.executemany("UPDATE counters SET rx_last = ?, tx_last = ?, rx_sum = rx_sum + ?, "
                              "tx_sum = tx_sum + ? WHERE kid = ?", updates)
        minute = int(now // 60 * 60)
        self.conn.executemany(_UPSERT.format(table="usage_minute"),
                              [(pid, minute, rx, tx) for pid, (rx, tx) in buckets.items()])
        if complete:
            self._zero(ifname, iface, [key for key in iface.nonzero if key not in peers])
        self._bump(ifname, iface)
        return increases

    def final_reading(self, ifname: str, public_key: str, state: PeerState, now: float | None = None) -> Increase:
        """Count a peer's last counters before wgtui removes it from the interface (then call `peer_removed`)."""
        when = time.time() if now is None else now
        with self._transaction(ifname):
            iface, first = self._fresh(ifname)
            k = iface.keys.get(public_key)
            if k is None:
                k = self._add_key(ifname, iface, public_key, None, when)
            rx, tx = state.rx_bytes, state.tx_bytes
            drx, dtx = _increase(k, rx, tx)
            self.conn.execute("UPDATE counters SET rx_last = ?, tx_last = ?, rx_sum = rx_sum + ?, "
                              "tx_sum = tx_sum + ? WHERE kid = ?", (rx, tx, drx, dtx, k.kid))
            k.rx, k.tx = rx, tx
            if rx or tx:
                iface.nonzero.add(public_key)
            if (drx or dtx) and not first:
                self.conn.execute(_UPSERT.format(table="usage_minute"), (k.pid, int(when // 60 * 60), drx, dtx))
            self._bump(ifname, iface)
        return Increase(iface.peer_ids[k.pid], drx, dtx)

    def peer_removed(self, ifname: str, public_key: str) -> None:
        """The peer is off the interface now (wgtui removed or disabled it): if it comes back, it counts from 0.
        (A poll that misses the key does the same; this covers a removal and re-adding between two polls.)"""
        with self._transaction(ifname):
            iface, _ = self._fresh(ifname)
            if public_key in iface.keys:
                self._zero(ifname, iface, [public_key])
                self._bump(ifname, iface)

    # -- identity ------------------------------------------------------------------------------------------------

    def link(self, ifname: str, old_key: str, new_key: str) -> str:
        """Make `new_key` continue `old_key`'s peer id (a key rotation); return that id. When the new key already has
        an id of its own (it was polled before the link), its usage is merged into the old key's id."""
        with self._transaction(ifname):
            iface, _ = self._fresh(ifname)
            now = time.time()
            old = iface.keys.get(old_key)
            new = iface.keys.get(new_key)
            if old is None:
                old = self._add_key(ifname, iface, old_key, new.pid if new else None, now)
            if new is None:
                new = self._add_key(ifname, iface, new_key, old.pid, now)
            elif new.pid != old.pid:
                self._merge(iface, old.pid, new.pid)
            self._bump(ifname, iface)
        return iface.peer_ids[old.pid]

    def peer_id(self, ifname: str, public_key: str, *, create: bool = False) -> str | None:
        """The stable id of a key (None if it was never seen); with `create`, one is assigned if needed (for the
        event of a peer that was just added, before any poll)."""
        row = self.conn.execute("SELECT p.peer_id FROM keys k JOIN peers p ON p.pid = k.pid "
                                "WHERE k.interface = ? AND k.public_key = ?", (ifname, public_key)).fetchone()
        if row is not None or not create:
            return None if row is None else str(row[0])
        with self._transaction(ifname):
            iface, _ = self._fresh(ifname)
            k = iface.keys.get(public_key) or self._add_key(ifname, iface, public_key, None, time.time())
            self._bump(ifname, iface)
        return iface.peer_ids[k.pid]

    # -- roll-up and pruning -------------------------------------------------------------------------------------

    def _maybe_compact(self, now: float) -> None:
        if not self.auto_compact or now < self._next_compact:
            return
        try:
            self.compact(now)
        except LedgerError as exc:
            # The poll itself is committed; a roll-up that failed (another process held the lock too long) loses
            # nothing and is tried again in a minute. The agent can report the reason.
            self.compact_error = str(exc)
            self._next_compact = now + 60
        else:
            self.compact_error = None

    # -- internals -----------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self, ifname: str) -> Iterator[None]:
        """A write transaction on the interface's rows; on any failure the in-memory copy is dropped (it may be
        half-updated) and read again next time, and SQLite's errors become LedgerError."""
        try:
            with db.write(self.conn):
                yield
        except sqlite3.Error as exc:
            self._ifaces.pop(ifname, None)
            raise LedgerError(f"The usage database {self.path} could not be updated: {exc}.") from None
        except BaseException:
            self._ifaces.pop(ifname, None)
            raise

    def _load(self, ifname: str) -> _Interface:
        """The in-memory copy of an interface's keys and readings, as the database has them now."""
        row = self.conn.execute("SELECT generation, epoch, recorded FROM interfaces WHERE name = ?",
                                (ifname,)).fetchone()
        iface = _Interface(-1, None, False) if row is None else _Interface(int(row[0]), row[1], bool(row[2]))
        rows = self.conn.execute("SELECT k.public_key, k.kid, k.pid, c.rx_last, c.tx_last, p.peer_id FROM keys k "
                                 "JOIN counters c ON c.kid = k.kid JOIN peers p ON p.pid = k.pid "
                                 "WHERE k.interface = ?", (ifname,))
        for key, kid, pid, rx, tx, peer_id in rows:
            iface.keys[key] = _Key(kid, pid, rx, tx)
            iface.peer_ids[pid] = peer_id
            if rx or tx:
                iface.nonzero.add(key)
        self._ifaces[ifname] = iface
        return iface

    def _fresh(self, ifname: str) -> tuple[_Interface, bool]:
        """Inside a write transaction: the interface's copy, re-read if another process wrote since; and whether no
        full poll of the interface was recorded yet (its counters then hold traffic from before wgtui)."""
        row = self.conn.execute("SELECT generation, recorded FROM interfaces WHERE name = ?", (ifname,)).fetchone()
        if row is None:
            self.conn.execute("INSERT INTO interfaces (name, generation) VALUES (?, 0)", (ifname,))
            row = (0, 0)
        iface = self._ifaces.get(ifname)
        if iface is None or iface.generation != int(row[0]):
            iface = self._load(ifname)
        return iface, not row[1]

    def _bump(self, ifname: str, iface: _Interface) -> None:
        iface.generation += 1
        self.conn.execute("UPDATE interfaces SET generation = ? WHERE name = ?", (iface.generation, ifname))

    def _zero(self, ifname: str, iface: _Interface, keys: list[str]) -> None:
        if not keys:
            return
        self.conn.executemany("UPDATE counters SET rx_last = 0, tx_last = 0 WHERE kid = ?",
                              [(iface.keys[key].kid,) for key in keys])
        for key in keys:
            k = iface.keys[key]
            k.rx = k.tx = 0
            iface.nonzero.discard(key)

    def _add_key(self, ifname: str, iface: _Interface, key: str, pid: int | None, now: float) -> _Key:
        if pid is None:
            pid, peer_id = self._new_peer(ifname, now)
            iface.peer_ids[pid] = peer_id
        cur = self.conn.execute("INSERT INTO keys (interface, public_key, pid, first_seen) VALUES (?, ?, ?, ?)",
                                (ifname, key, pid, int(now)))
        kid = int(cur.lastrowid or 0)
        self.conn.execute("INSERT INTO counters (kid, rx_last, tx_last, rx_sum, tx_sum) VALUES (?, 0, 0, 0, 0)",
                          (kid,))
        k = iface.keys[key] = _Key(kid, pid, 0, 0)
        return k

    def _new_peer(self, ifname: str, now: float) -> tuple[int, str]:
        for _ in range(20):
            peer_id = new_peer_id()
            with contextlib.suppress(sqlite3.IntegrityError):
                cur = self.conn.execute("INSERT INTO peers (peer_id, interface, created_at) VALUES (?, ?, ?)",
                                        (peer_id, ifname, int(now)))
                return int(cur.lastrowid or 0), peer_id
        raise LedgerError("Could not find a free peer id (20 random ids in a row were taken).")  # pragma: no cover

    def _merge(self, iface: _Interface, survivor: int, victim: int) -> None:
        """Move everything of peer `victim` (usage, keys) to peer `survivor`, and drop `victim`."""
        for table in _TABLES:
            self.conn.execute(f"INSERT INTO {table} (pid, t, rx, tx) SELECT ?, t, rx, tx FROM {table} WHERE pid = ? "
                              f"{_ADD}", (survivor, victim))
            self.conn.execute(f"DELETE FROM {table} WHERE pid = ?", (victim,))
        self.conn.execute("UPDATE keys SET pid = ? WHERE pid = ?", (survivor, victim))
        self.conn.execute("DELETE FROM peers WHERE pid = ?", (victim,))
        for k in iface.keys.values():
            if k.pid == victim:
                k.pid = survivor
        iface.peer_ids.pop(victim, None)



def _increase(k: _Key, rx: int, tx: int) -> tuple[int, int]:
    """What a key's counters grew since its previous reading. Either counter below its previous value means the
    peer was re-created (both counters started again from 0): then the new readings are the increase."""
    if rx < k.rx or tx < k.tx:
        return rx, tx
    return rx - k.rx, tx - k.tx

