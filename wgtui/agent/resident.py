"""Provides one pass of the resident agent over the host: counters into the ledger, policies enforced, warnings and
events, pending rotations finished, metrics rendered."""

# A pass does everything for every interface at one instant `now`: it is what the loop runs at each poll and at
# each deadline, and what `wgtui agent --once` runs once (the catch-up of whatever passed while no agent ran).
# One interface failing (gone between listing and reading, a config that does not parse) is reported and the
# others go on.

from __future__ import annotations

import argparse
import io
import json
import signal
import sqlite3
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from wgtui import interrupts, keys
from wgtui.agent.deadlines import Deadlines
from wgtui.agent.enforce import Action, Applier, Notice, Options, deadlines, decide
from wgtui.agent.warnings import DEFAULT_WARN_AT, DEFAULT_WARN_BEFORE, WarningMarks
from wgtui.agent.watched import Watched
from wgtui.backends.base import Backend, BackendError
from wgtui.changes import ChangeRefused
from wgtui.conf import ConfError
from wgtui.lifecycle import db
from wgtui.lifecycle.events import EventError, EventType, Outbox
from wgtui.lifecycle.history import LedgerError
from wgtui.lifecycle.ledger import Ledger, interface_epoch
from wgtui.lifecycle.metrics import AgentHealth, render, write_textfile
from wgtui.lifecycle.webhooks import Target
from wgtui.store import StoreError

REFUSALS = (ChangeRefused, ConfError, BackendError, StoreError)
POLL_ERRORS = (BackendError, LedgerError, db.DatabaseError, sqlite3.Error, StoreError)
RETRY_REFUSED = 60.0
"""Seconds before a refused change is tried again when the config file did not change meanwhile."""
DEFAULT_OPTIONS = Options(DEFAULT_WARN_BEFORE, DEFAULT_WARN_AT)
REPEAT_MESSAGE = 600.0
"""Seconds before the same error message is logged again."""


@dataclass(frozen=True)
class AgentConfig:
    config_dir: Path
    state_dir: Path
    interval: float = 1.0
    options: Options = DEFAULT_OPTIONS
    interfaces: tuple[str, ...] | None = None
    textfile: Path | None = None
    metrics: bool = False
    """Whether metrics are rendered each pass (for --metrics or --textfile)."""


class Resident:
    """The agent's state across passes. Opens the state database (created 0700/0600 when missing)."""

    def __init__(self, config: AgentConfig, backend: Backend, targets: list[Target], log: TextIO | None = None) -> None:
        self.config = config
        self.backend = backend
        self._log = log
        path = db.db_path(config.state_dir)
        self.ledger = Ledger.open(config.state_dir)
        try:
            self.outbox = Outbox(path)
            self.set_targets(targets)
            self.marks = WarningMarks(db.connect(path))
        except BaseException:
            self.ledger.close()
            raise
        self.applier = Applier(backend, config.config_dir)
        self.watched: dict[str, Watched] = {}
        self.deadlines = Deadlines()
        self.started = time.time()
        self.last_poll: float | None = None
        self.poll_errors = 0
        self.errors: list[str] = []
        """Every error of the latest pass (what --once reports)."""
        self.emitted = 0
        self.metrics_text = ""
        self.stop_signal: int | None = None
        self.hup_reloads = False
        """SIGHUP asks for a reload instead of a stop (the resident service: systemd's `reload`). Not for `--stdio`,
        where SIGHUP is the admin's dropped ssh session."""
        self.reload_asked = False
        """A signal that arrived while a change ran: the loop stops after this pass."""
        self._said: dict[str, float] = {}
        self._refused: dict[tuple[str, str, str], tuple[object, float]] = {}


    @property
    def log(self) -> TextIO:
        """Where errors go: sys.stderr as it is when they happen (not when this module was imported)."""
        return self._log or sys.stderr
    def close(self) -> None:
        self.ledger.close()
        self.outbox.close()
        self.marks.conn.close()

    # -- reporting ---------------------------------------------------------------------------------------------

    def note(self, message: str) -> None:
        """Log a line (what the agent did: every one of them)."""
        print(f"wgtui agent: {message}", file=self.log, flush=True)

    def say(self, message: str, now: float | None = None) -> None:
        """Log a line, but the same line at most every REPEAT_MESSAGE seconds (a broken file is not news each s)."""
        when = time.time() if now is None else now
        last = self._said.get(message)
        if last is not None and when - last < REPEAT_MESSAGE:
            return
        if len(self._said) > 1000:
            self._said = {m: t for m, t in self._said.items() if when - t < REPEAT_MESSAGE}
        self._said[message] = when
        self.note(message)

    def error(self, message: str, now: float | None = None) -> None:
        self.poll_errors += 1
        self.errors.append(message)
        self.say(message, now)

    def emit(self, type: EventType, *, interface: str | None = None, notice: Notice | None = None,
             data: dict[str, object] | None = None, now: float | None = None) -> None:
        try:
            if notice is not None:
                self.outbox.emit(notice.type, interface=interface, peer_id=notice.peer_id or None,
                                 public_key=notice.public_key, data=notice.data, occurred_at=now)
                if notice.marks is not None:
                    self.marks.mark(notice.peer_id, *notice.marks, time.time() if now is None else now)
            else:
                self.outbox.emit(type, interface=interface, data=data, occurred_at=now)
        except (EventError, db.DatabaseError, sqlite3.Error) as exc:
            self.error(f"an event {type} could not be queued: {exc}")
            return
        self.emitted += 1

    # -- a pass ------------------------------------------------------------------------------------------------

    def run_pass(self, now: float) -> None:
        """Everything due at `now`, on every interface."""
        self.errors = []
        due = self.deadlines.due(now)
        try:
            names = list(self.config.interfaces) if self.config.interfaces else self.backend.interfaces()
        except BackendError as exc:
            self.error(f"the WireGuard interfaces cannot be listed: {exc}", now)
            names = []
        for gone in set(self.watched) - set(names):
            del self.watched[gone]
            self.deadlines.forget(gone)
        for ifname in names:
            w = self.watched.get(ifname)
            if w is None:
                w = self.watched[ifname] = Watched(ifname, self.config.config_dir / f"{ifname}.conf")
            try:
                self._interface(w, now, ifname in due)
            except POLL_ERRORS as exc:
                self.error(f"{ifname}: {exc}", now)
            except Exception as exc:  # a bug must not stop the other interfaces' deadlines: said, with its trace
                self.error(f"{ifname}: unexpected {type(exc).__name__}: {exc}", now)
                traceback.print_exc(file=self.log)
        if not self.errors or len(self.errors) < len(names):
            self.last_poll = now
        if self.config.metrics:
            self._metrics(now)

    def _interface(self, w: Watched, now: float, due: bool) -> None:
        w.state = self.backend.read(w.ifname)
        changed = w.load_config()
        if w.config_error:
            self.say(w.config_error, now)
        increases = self.ledger.record(w.ifname, now, w.state.peers, renames=w.renames or None,
                                       epoch=interface_epoch(w.ifname))
        w.add_increases(increases, now)
        w.refresh_totals(self.ledger)
        if not w.has_config:
            return
        if self._finish_rotations(w, now):
            changed = True
        actions, notices = decide(w, self.ledger, self.marks, self.config.options, now)
        for notice in notices:
            self.emit(notice.type, interface=w.ifname, notice=notice, now=now)
            self.note(f"{w.ifname}: {notice.type} for {self._label(w, notice.public_key)}")
        for action in actions:
            if self._apply(w, action, now):
                changed = True
        if changed or due:
            self.deadlines.replace(w.ifname, deadlines(w, self.config.options, now))

    def _label(self, w: Watched, key: str) -> str:
        return w.names.get(key) or keys.short_key(key)

    def _apply(self, w: Watched, action: Action, now: float) -> bool:
        """Apply one action (or skip it while the same refusal would come back); whether the file changed."""
        which = (w.ifname, action.public_key, action.kind)
        stamp = (w.stamp, w.policies.get(action.public_key))
        refused = self._refused.get(which)
        if refused is not None and refused[0] == stamp and now - refused[1] < RETRY_REFUSED:
            return False
        label = self._label(w, action.public_key)
        verb = f"{action.kind} {label} ({action.reason})"
        try:
            result = self.applier.apply(w, action)
        except REFUSALS as exc:
            self._refused[which] = (stamp, now)
            self.error(f"{w.ifname}: could not {verb}: {exc}", now)
            return False
        finally:
            signum = interrupts.take()
            if signum is not None:
                self.signalled(signum)
        for step in result.steps:
            if "could not be recorded" in step:
                self.say(f"{w.ifname}: {step}", now)
        if not result.ok:
            self._refused[which] = (stamp, now)
            self.error(f"{w.ifname}: could not {verb}: {result.message}", now)
            return False
        self._refused.pop(which, None)
        self.note(f"{w.ifname}: {action.kind}d {label} ({action.reason})")
        for notice in action.notices:
            self.emit(notice.type, interface=w.ifname, notice=notice, now=now)
        w.load_config()
        w.forget_usage()
        return True

    def _finish_rotations(self, w: Watched, now: float) -> bool:
        """Finish the pending rotations whose new key has handshaken (what `wgtui peer pending --finish` does)."""
        live = w.state.peers if w.state is not None else {}
        if not any(live[new].latest_handshake for new in w.renames if new in live):
            return False
        from wgtui.cli.pending import run_pending

        args = argparse.Namespace(interface=w.ifname, config=w.config_path, config_dir=self.config.config_dir,
                                  finish=True, json=True)
        out = io.StringIO()
        try:
            code = run_pending(args, out, backend=self.backend)
        finally:
            signum = interrupts.take()
            if signum is not None:
                self.signalled(signum)
        rows = json.loads(out.getvalue() or '{"rotations": []}')["rotations"]
        done = [r for r in rows if r["state"] == "done"]
        for row in done:
            who = row["name"] or keys.short_key(row["old_public_key"])
            self.note(f"{w.ifname}: finished the key rotation of {who}")
        if code:
            self.error(f"{w.ifname}: a pending rotation could not be finished", now)
        if done:
            w.load_config()
            w.forget_usage()
            w.refresh_totals(self.ledger)
        return bool(done)

    def signalled(self, signum: int) -> None:
        """A signal arrived (or waited out a change): SIGHUP asks for a reload when `hup_reloads`, any other
        signal stops the agent after this pass."""
        if signum == signal.SIGHUP and self.hup_reloads:
            self.reload_asked = True
        else:
            self.stop_signal = signum

    def set_targets(self, targets: list[Target]) -> None:
        """Serve these webhook targets from now on: a new one gets the events from now on, one no longer configured
        is forgotten with its queue (Outbox.sync_targets)."""
        self.outbox.sync_targets([t.url for t in targets])
        self.targets = targets

    def _metrics(self, now: float) -> None:
        peers = [m for w in self.watched.values() for m in w.metrics(self.ledger, now)]
        queue = failures = None
        if self.targets:
            states = self.outbox.targets()
            queue = sum(t.queued for t in states)
            failures = sum(t.failures for t in states)
        health = AgentHealth(last_poll=self.last_poll, poll_errors=self.poll_errors, webhook_queue=queue,
                             webhook_failures=failures, started=self.started)
        self.metrics_text = render(peers, health)
        if self.config.textfile is not None:
            try:
                write_textfile(self.config.textfile, self.metrics_text)
            except OSError as exc:
                self.error(f"the metrics textfile cannot be written in {self.config.textfile}: {exc}", now)
