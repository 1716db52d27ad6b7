"""Provides webhook delivery from the outbox: signed POSTs, in order per target, with retries, backoff and jitter."""

# Why this way:
# - Each POST carries `X-Wgtui-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes>` with the target's
#   secret, `Idempotency-Key: <event id>` (the same on every retry) and `Content-Type: application/json`. Receivers
#   check the signature with `verify` (constant-time) over the raw body, before parsing it.
# - Events are delivered in order per target: the next one waits until the previous one was taken. A receiver that
#   is down gets everything later; the wait between attempts grows exponentially (1 s, 2 s, 4 s … at most 5 min)
#   with jitter, so many hosts do not hammer a receiver that comes back all at once. A receiver that refuses an
#   event for good (400, 410, 413, 415, 422) has it skipped and noted, so one bad event cannot block the rest;
#   every other failure (network, timeout, 5xx, 401/403/404 from a misconfiguration, 429) is retried.
# - Timeouts are short and delivery never runs in the poll loop: `Delivery.start()` runs it in its own thread
#   (with its own database connection), or the caller runs `deliver_due()` from a loop of its own.
# - Only the standard library (http.client, ssl with certificate verification). No proxies, no redirects (a
#   redirected POST would be re-sent somewhere else, or turned into a GET).
# - The secret comes from a file that must belong to root (or the user running wgtui) and be readable by nobody
#   else, like ssh's private keys; URLs are https, or http to the loopback only.

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import os
import random
import sqlite3
import ssl
import stat
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from wgtui import __version__
from wgtui.lifecycle import db
from wgtui.lifecycle.events import Outbox, Pending

SIGNATURE_HEADER = "X-Wgtui-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT_HEADER = "X-Wgtui-Event"
TIMEOUT = 5.0
"""Seconds for connecting and for each read of the answer."""
BACKOFF_BASE = 1.0
BACKOFF_CAP = 300.0
PERMANENT = frozenset({400, 410, 413, 415, 422})
"""Answers that mean "this event, never": it is skipped (and noted) instead of blocking the queue."""
MAX_SECRET_BYTES = 4096


class WebhookError(ValueError):
    """A webhook target that cannot be used; the message is a sentence for the user."""


@dataclass(frozen=True)
class Target:
    url: str
    secret: bytes

    def __repr__(self) -> str:  # never print the secret
        return f"Target(url={self.url!r})"


def sign(body: bytes, secret: bytes) -> str:
    """The signature header's value for a body: `sha256=<hex HMAC-SHA256>`."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str | None, secret: bytes) -> bool:
    """For receivers: whether `header` (X-Wgtui-Signature) is the signature of exactly these body bytes."""
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(header.encode(), sign(body, secret).encode())


def backoff(attempts: int, rng: random.Random | None = None) -> float:
    """Seconds to wait after the `attempts`-th failure in a row: exponential, capped, with "equal jitter" (half
    fixed, half random), never 0."""
    delay = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** min(30, max(0, attempts - 1)))
    jitter: float = (rng or random.Random()).uniform(0, delay / 2)
    return delay / 2 + jitter


# -- configuration -----------------------------------------------------------------------------------------------


def check_url(url: str) -> str:
    """The URL if it may receive events: https anywhere, http only to the loopback (events are signed, not
    encrypted: they name peers and their public keys)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookError(f"Webhook URL {url!r} must be https://host/path.")
    if parts.username or parts.password:
        raise WebhookError(f"Webhook URL {url!r} carries a user or password; authenticate with the signature instead.")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise WebhookError(f"Webhook URL {url!r} is plain http to another host: use https (http is accepted for "
                           "127.0.0.1, ::1 and localhost only).")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise WebhookError(f"Webhook URL {url!r} has an invalid port.") from None
    return url


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_secret(path: Path) -> bytes:
    """A target's secret: the file's content without surrounding whitespace. Refused if the file is readable or
    writable by its group or others, or belongs to another user (like ssh with a private key)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError as exc:
        raise WebhookError(f"Cannot read the webhook secret file {path}: {exc.strerror or exc}.") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise WebhookError(f"The webhook secret file {path} is not a regular file.")
        if st.st_mode & 0o077:
            raise WebhookError(f"The webhook secret file {path} has mode {stat.S_IMODE(st.st_mode):04o}: its group or "
                               f"others may read or change it, so it is not secret. Fix: `chmod 600 {path}`.")
        if st.st_uid not in (0, os.geteuid()):
            raise WebhookError(f"The webhook secret file {path} belongs to uid {st.st_uid}, not to root or the user "
                               f"running wgtui. Fix: `chown root: {path}`.")
        data = os.read(fd, MAX_SECRET_BYTES + 1)
    finally:
        os.close(fd)
    secret = data.strip()
    if len(data) > MAX_SECRET_BYTES:
        raise WebhookError(f"The webhook secret file {path} is longer than {MAX_SECRET_BYTES} bytes.")
    if not secret:
        raise WebhookError(f"The webhook secret file {path} is empty.")
    return secret


def load_targets(config: Sequence[Mapping[str, Any]]) -> list[Target]:
    """Targets from wgtui.json's `"webhooks": [{"url": "https://…", "secret_file": "/path"}, …]`; every problem is
    a WebhookError naming the entry."""
    targets: list[Target] = []
    seen: set[str] = set()
    for i, entry in enumerate(config):
        where = f"webhooks[{i}]"
        if not isinstance(entry, Mapping):
            raise WebhookError(f"{where} must be an object with url and secret_file.")
        unknown = set(entry) - {"url", "secret_file"}
        if unknown:
            raise WebhookError(f"{where} has unknown field(s): {', '.join(sorted(unknown))} (known: url, secret_file).")
        url, secret_file = entry.get("url"), entry.get("secret_file")
        if not isinstance(url, str) or not isinstance(secret_file, str) or not secret_file:
            raise WebhookError(f"{where} needs url and secret_file, both strings.")
        try:
            check_url(url)
            secret = read_secret(Path(secret_file))
        except WebhookError as exc:
            raise WebhookError(f"{where}: {exc}") from None
        if url in seen:
            raise WebhookError(f"{where}: {url} is listed twice.")
        seen.add(url)
        targets.append(Target(url, secret))
    return targets


# -- posting -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    ok: bool
    permanent: bool
    detail: str


def post(target: Target, event: Pending, timeout: float = TIMEOUT,
         context: ssl.SSLContext | None = None) -> Outcome:
    """POST one event to one target; never raises for network trouble (the outcome says what happened)."""
    parts = urlsplit(target.url)
    host = parts.hostname or ""
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(host, parts.port, timeout=timeout,
                                           context=context or ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(host, parts.port, timeout=timeout)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"wgtui/{__version__}",
        SIGNATURE_HEADER: sign(event.body, target.secret),
        IDEMPOTENCY_HEADER: event.id,
        EVENT_HEADER: event.type,
    }
    try:
        conn.request("POST", path, body=event.body, headers=headers)
        response = conn.getresponse()
        response.read(65536)
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(False, False, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    finally:
        conn.close()
    if 200 <= status < 300:
        return Outcome(True, False, f"HTTP {status}")
    return Outcome(False, status in PERMANENT, f"HTTP {status} {response.reason}".strip())


class Delivery:
    """Serves the outbox to the targets. `deliver_due()` does one round without sleeping; `start()` runs rounds in
    a daemon thread, waking when an attempt is due or `wake()` is called (after appending an event)."""

    def __init__(self, db_path: Path, targets: Sequence[Target], *, timeout: float = TIMEOUT,
                 rng: random.Random | None = None, clock: Callable[[], float] = time.time,
                 poster: Callable[[Target, Pending, float], Outcome] | None = None,
                 batch: int = 100, idle: float = 5.0) -> None:
        self.db_path = db_path
        self.targets = list(targets)
        self.timeout = timeout
        self.rng = rng or random.Random()
        self.clock = clock
        self.poster = poster or (lambda target, event, timeout: post(target, event, timeout))
        self.batch = batch
        self.idle = idle
        """Seconds between looks at the outbox when nothing is due: events appended by another process (a CLI)
        go out within this time; `wake()` sends this process's own at once."""
        self._local = threading.local()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    def _outbox(self) -> Outbox:
        """This thread's connection (SQLite connections belong to the thread that opened them)."""
        box: Outbox | None = getattr(self._local, "outbox", None)
        if box is None:
            box = Outbox(self.db_path)
            box.sync_targets([t.url for t in self.targets])
            self._local.outbox = box
        return box

    def deliver_due(self, now: float | None = None) -> int:
        """Deliver what is due now, up to `batch` events per target, in order; return how many were taken."""
        box = self._outbox()
        taken = 0
        for target in self.targets:
            for _ in range(self.batch):
                if self._stop.is_set():
                    return taken
                schedule = box.schedule(target.url)
                current = self.clock() if now is None else now
                if schedule is None or schedule[0] > current:
                    break
                pending = box.next_for(target.url)
                if pending is None:
                    break
                outcome = self.poster(target, pending, self.timeout)
                done = self.clock() if now is None else now
                if outcome.ok:
                    box.delivered(target.url, pending.seq, done)
                    taken += 1
                elif outcome.permanent:
                    box.rejected(target.url, pending.seq, done, outcome.detail)
                else:
                    retry = done + backoff(pending.attempts + 1, self.rng)
                    box.failed(target.url, pending.seq, done, outcome.detail, retry)
                    self.last_error = f"{target.url}: {outcome.detail}"
                    break
        return taken

    def next_due(self) -> float | None:
        """When the next attempt is due (now, if a target has events and no wait), or None when nothing is queued."""
        due = [s.next_at for s in self._outbox().targets() if s.queued]
        return min(due) if due else None

    def wake(self) -> None:
        self._wake.set()

    def retarget(self, targets: Sequence[Target]) -> None:
        """Deliver to these targets from the next round on (the agent reloaded wgtui.json; it has synced the
        outbox's targets)."""
        self.targets = list(targets)
        self.wake()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="wgtui-webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread after the attempt in flight (at most about `timeout` seconds)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def close(self) -> None:
        """Stop the thread, and close the calling thread's connection (used by `deliver_due` called directly)."""
        self.stop()
        box: Outbox | None = getattr(self._local, "outbox", None)
        if box is not None:
            box.close()
            self._local.outbox = None

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._wake.clear()
                try:
                    self.deliver_due()
                    due = self.next_due()
                except (db.DatabaseError, sqlite3.Error) as exc:
                    self.last_error = f"webhook delivery: {exc}"
                    due = self.clock() + 5
                wait = self.idle if due is None else max(0.0, min(self.idle, due - self.clock()))
                self._wake.wait(wait)
        finally:
            box: Outbox | None = getattr(self._local, "outbox", None)
            if box is not None:
                box.close()
                self._local.outbox = None
