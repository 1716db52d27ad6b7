"""Provides lifecycle events: the envelope, a guard that keeps all but public keys out, and a durable outbox."""

# Why: a webhook receiver is another system, often logged and backed up in plain text. Other tools have sent private
# and preshared keys in their webhooks; here every string in an event (keys of mappings included) is checked against
# the shape of a WireGuard key, base64 (44 characters) or hex (64), and the event is refused if one appears anywhere
# except the envelope's `public_key` and data fields whose names say they hold public keys (`public_key`,
# `old_public_key`, `public_keys`, …). The guard cannot tell a public key from a private one by its shape, so it
# refuses all of them elsewhere; fields named like private or preshared keys are refused whatever their value.
#
# The outbox keeps the exact bytes that are POSTed (serialized once): a retry sends, and signs, the same body, and
# the event id (the idempotency key) never changes. Delivery state is a cursor per target (events go out in order);
# a target added to the configuration starts with the events appended after it was added.

from __future__ import annotations

import json
import re
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from wgtui.compat import UTC, StrEnum
from wgtui.lifecycle import db


class EventType(StrEnum):
    PEER_CREATED = "peer.created"
    PEER_UPDATED = "peer.updated"
    PEER_DELETED = "peer.deleted"
    PEER_ENABLED = "peer.enabled"
    PEER_DISABLED = "peer.disabled"
    PEER_EXPIRING = "peer.expiring"
    PEER_EXPIRED = "peer.expired"
    PEER_QUOTA_WARNING = "peer.quota_warning"
    PEER_QUOTA_EXCEEDED = "peer.quota_exceeded"
    PEER_ROTATION_STARTED = "peer.rotation_started"
    PEER_ROTATION_COMPLETED = "peer.rotation_completed"
    AGENT_STARTED = "agent.started"
    AGENT_STOPPED = "agent.stopped"


class EventError(ValueError):
    """An event that must not be sent (it holds something key-shaped, or is malformed); nothing was enqueued."""


KEY_B64_RE = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{43}=")
"""A WireGuard key in base64 (32 bytes: 43 characters and one '='), anywhere inside a string."""
KEY_HEX_RE = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{64}(?![0-9A-Fa-f])")
"""A key as UAPI writes it (64 hex digits), anywhere inside a string. A SHA-256 digest has the same shape: events
carry none."""
_SECRET_NAME_RE = re.compile(r"private|preshared|psk|secret", re.IGNORECASE)


def is_public_key_field(name: str) -> bool:
    """Data fields allowed to hold keys: named `public_key`, `…_public_key`, `public_keys` or `…_public_keys`."""
    return name in ("public_key", "public_keys") or name.endswith(("_public_key", "_public_keys"))


def check_no_keys(value: object, path: str = "data") -> None:
    """Raise EventError if a key-shaped string is anywhere in `value` (mappings, sequences, strings) except in
    fields named as public keys, or if a field is named like a private or preshared key and holds a string."""
    if isinstance(value, str):
        if KEY_B64_RE.search(value) or KEY_HEX_RE.search(value):
            raise EventError(f"{path} holds a WireGuard key (private or preshared keys must never leave the host; a "
                             "public key goes in the envelope's public_key or a field named …public_key).")
        return
    if isinstance(value, Mapping):
        for name, item in value.items():
            if not isinstance(name, str):
                raise EventError(f"{path} has a field name that is not a string: {name!r}.")
            check_no_keys(name, f"{path} (a field name)")
            where = f"{path}.{name}"
            if is_public_key_field(name):
                _check_public_keys(item, where)
            elif _SECRET_NAME_RE.search(name) and not isinstance(item, (bool, int, float, type(None))):
                raise EventError(f"{where}: a field named like a secret may only say whether there is one "
                                 "(true/false), never hold it.")
            else:
                check_no_keys(item, where)
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            check_no_keys(item, f"{path}[{i}]")
        return
    if value is None or isinstance(value, (bool, int, float)):
        return
    raise EventError(f"{path} is a {type(value).__name__}, which an event cannot carry (JSON values only).")


def _check_public_keys(value: object, path: str) -> None:
    """A field named as public keys: a key, a list of keys, or null; nothing else may hide there."""
    items = value if isinstance(value, (list, tuple)) else [value]
    for item in items:
        if item is not None and not (isinstance(item, str) and len(item) == 44 and KEY_B64_RE.fullmatch(item)):
            raise EventError(f"{path} must hold public keys (44 characters of base64) or null, not {item!r}.")


def _rfc3339(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Event:
    """One event: the envelope receivers get as JSON."""

    type: EventType
    interface: str | None = None
    peer_id: str | None = None
    public_key: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    occurred_at: float = field(default_factory=time.time)
    host: str = field(default_factory=socket.gethostname)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def envelope(self) -> dict[str, Any]:
        return {"id": self.id, "type": str(self.type), "occurred_at": _rfc3339(self.occurred_at), "host": self.host,
                "interface": self.interface, "peer_id": self.peer_id, "public_key": self.public_key,
                "data": dict(self.data)}

    def body(self) -> bytes:
        """The exact bytes that are POSTed and signed; refused (EventError) if a key could leak through them."""
        self.check()
        return json.dumps(self.envelope(), ensure_ascii=False, separators=(",", ":"), sort_keys=False,
                          allow_nan=False).encode()

    def check(self) -> None:
        if not isinstance(self.type, EventType):
            raise EventError(f"{self.type!r} is not an event type.")
        if self.public_key is not None and not (len(self.public_key) == 44 and KEY_B64_RE.fullmatch(self.public_key)):
            raise EventError("The envelope's public_key must be a public key (44 characters of base64) or null.")
        envelope = self.envelope()
        envelope.pop("public_key")
        data = envelope.pop("data")
        check_no_keys(envelope, "event")
        check_no_keys(data, "data")


@dataclass(frozen=True)
class Pending:
    """The next event a target has to receive."""

    seq: int
    id: str
    type: str
    body: bytes
    attempts: int


@dataclass(frozen=True)
class TargetState:
    url: str
    cursor: int
    queued: int
    attempts: int
    next_at: float
    last_error: str | None
    delivered: int
    failures: int


class Outbox:
    """The durable event queue in the lifecycle database. One Outbox per thread (it holds a SQLite connection)."""

    def __init__(self, path: Path, *, create: bool = True, timeout: float = db.BUSY_TIMEOUT) -> None:
        self.path = path
        self.conn = db.connect(path, create=create, timeout=timeout)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- producing -----------------------------------------------------------------------------------------------

    def append(self, event: Event) -> int:
        """Enqueue an event (refused with EventError if it holds something key-shaped); return its sequence number."""
        body = event.body()
        try:
            with db.write(self.conn):
                cur = self.conn.execute("INSERT INTO events (id, type, occurred_at, body) VALUES (?, ?, ?, ?)",
                                        (event.id, str(event.type), event.occurred_at, body))
        except sqlite3.IntegrityError:
            raise EventError(f"An event with id {event.id} is already in the outbox.") from None
        except sqlite3.Error as exc:
            raise db.DatabaseError(f"Could not store the event in {self.path}: {exc}.") from None
        return int(cur.lastrowid or 0)

    def emit(self, type: EventType, *, interface: str | None = None, peer_id: str | None = None,
             public_key: str | None = None, data: Mapping[str, Any] | None = None, host: str | None = None,
             occurred_at: float | None = None) -> Event:
        """Build an event and append it."""
        event = Event(type, interface, peer_id, public_key, dict(data or {}),
                      time.time() if occurred_at is None else occurred_at, host or socket.gethostname())
        self.append(event)
        return event

    # -- targets -------------------------------------------------------------------------------------------------

    def sync_targets(self, urls: Sequence[str]) -> None:
        """Make the configured targets the ones served: a new target starts after the events already queued (it
        gets what happens from now on), a target no longer configured is forgotten. Call it before appending when
        the configuration may have changed (the CLI and the agent both read wgtui.json)."""
        with db.write(self.conn):
            known = {row[0] for row in self.conn.execute("SELECT url FROM webhook_targets")}
            last = self.conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
            for url in urls:
                if url not in known:
                    self.conn.execute("INSERT INTO webhook_targets (url, cursor) VALUES (?, ?)", (url, last))
            for url in known - set(urls):
                self.conn.execute("DELETE FROM webhook_targets WHERE url = ?", (url,))
                self.conn.execute("DELETE FROM webhook_rejections WHERE url = ?", (url,))

    def next_for(self, url: str) -> Pending | None:
        """The oldest event the target has not received yet, or None."""
        row = self.conn.execute("SELECT e.seq, e.id, e.type, e.body, t.attempts FROM webhook_targets t "
                                "JOIN events e ON e.seq > t.cursor WHERE t.url = ? ORDER BY e.seq LIMIT 1",
                                (url,)).fetchone()
        return None if row is None else Pending(int(row[0]), str(row[1]), str(row[2]), bytes(row[3]), int(row[4]))

    def delivered(self, url: str, seq: int, now: float) -> None:
        """The receiver took event `seq`: the target moves on."""
        with db.write(self.conn):
            self.conn.execute("UPDATE webhook_targets SET cursor = max(cursor, ?), attempts = 0, next_at = 0, "
                              "last_error = NULL, last_attempt = ?, delivered = delivered + 1 WHERE url = ?",
                              (seq, now, url))

    def failed(self, url: str, seq: int, now: float, error: str, retry_at: float) -> None:
        """The attempt failed; the same event is tried again at `retry_at` (later ones wait: order is kept)."""
        with db.write(self.conn):
            self.conn.execute("UPDATE webhook_targets SET attempts = attempts + 1, next_at = ?, last_error = ?, "
                              "last_attempt = ?, failures = failures + 1 WHERE url = ? AND cursor < ?",
                              (retry_at, error, now, url, seq))

    def rejected(self, url: str, seq: int, now: float, reason: str) -> None:
        """The receiver refused the event for good (a permanent 4xx): it is noted and skipped."""
        with db.write(self.conn):
            self.conn.execute("INSERT OR REPLACE INTO webhook_rejections (url, seq, at, reason) VALUES (?, ?, ?, ?)",
                              (url, seq, now, reason))
            self.conn.execute("UPDATE webhook_targets SET cursor = max(cursor, ?), attempts = 0, next_at = 0, "
                              "last_error = ?, last_attempt = ?, failures = failures + 1 WHERE url = ?",
                              (seq, reason, now, url))

    def schedule(self, url: str) -> tuple[float, int] | None:
        """(when the next attempt is due, failed attempts in a row) of a target; None if it is not configured."""
        row = self.conn.execute("SELECT next_at, attempts FROM webhook_targets WHERE url = ?", (url,)).fetchone()
        return None if row is None else (float(row[0]), int(row[1]))

    def targets(self) -> list[TargetState]:
        rows = self.conn.execute(
            "SELECT t.url, t.cursor, (SELECT count(*) FROM events e WHERE e.seq > t.cursor), t.attempts, t.next_at, "
            "t.last_error, t.delivered, t.failures FROM webhook_targets t ORDER BY t.url")
        return [TargetState(str(u), int(c), int(q), int(a), float(n), e, int(d), int(f))
                for u, c, q, a, n, e, d, f in rows]

    def queue_length(self) -> int:
        """Events waiting, summed over targets (the metric `wgtui_agent_webhook_queue_events`)."""
        return sum(t.queued for t in self.targets())

    def rejections(self, url: str) -> list[tuple[int, str]]:
        return [(int(s), str(r)) for s, r in self.conn.execute(
            "SELECT seq, reason FROM webhook_rejections WHERE url = ? ORDER BY seq", (url,))]

    # -- reading and pruning -------------------------------------------------------------------------------------

    def events(self, after: int = 0) -> Iterator[tuple[int, bytes]]:
        """(seq, body) of the stored events after `after`, oldest first."""
        for seq, body in self.conn.execute("SELECT seq, body FROM events WHERE seq > ? ORDER BY seq", (after,)):
            yield int(seq), bytes(body)

    def prune(self, now: float, keep: float = 7 * 86400) -> int:
        """Delete events every target has received (or that no target wants) and that are older than `keep`
        seconds; events a target still waits for are never deleted. Returns how many were deleted."""
        with db.write(self.conn):
            row = self.conn.execute("SELECT min(cursor) FROM webhook_targets").fetchone()
            done = row[0] if row[0] is not None else self.conn.execute(
                "SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
            cur = self.conn.execute("DELETE FROM events WHERE seq <= ? AND occurred_at < ?", (done, now - keep))
            self.conn.execute("DELETE FROM webhook_rejections WHERE at < ?", (now - keep,))
        return cur.rowcount
