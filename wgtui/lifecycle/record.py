"""Provides what the lifecycle keeps of an applied change: final usage readings, key links and events."""

# Called after every successful apply (CLI, dashboard, agent). Why each part:
# - A peer wgtui takes off the interface (remove, disable, the old key of a rotation) gets a final reading from the
#   counters it had just before, so the traffic since the last poll is not lost with it.
# - A rotation links the new key to the old key's stable peer id: usage, quotas and history follow the peer.
# - Every change becomes events in the durable outbox (the agent delivers them as webhooks), never with a private
#   or preshared key: the Event guard refuses any key-shaped string outside public-key fields.
# Nothing here may fail a change that is done: any error becomes one warning on stderr. A host without a state
# directory does not use the lifecycle (the agent, or the unit's StateDirectory, creates it): nothing is recorded.

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wgtui.changes.plan import Plan
from wgtui.compat import StrEnum
from wgtui.conf import ConfError, Document
from wgtui.conf.meta import rotation_marks
from wgtui.lifecycle.policy import REASONS, disabled_meta
from wgtui.model import InterfaceState


class EventType(StrEnum):
    """The event types a change makes (wgtui.lifecycle.events.EventType's values; that module, with SQLite, is
    imported only when there is something to record)."""

    PEER_CREATED = "peer.created"
    PEER_UPDATED = "peer.updated"
    PEER_DELETED = "peer.deleted"
    PEER_ENABLED = "peer.enabled"
    PEER_DISABLED = "peer.disabled"
    PEER_ROTATION_STARTED = "peer.rotation_started"
    PEER_ROTATION_COMPLETED = "peer.rotation_completed"


_SINGLE = {"add": EventType.PEER_CREATED, "remove": EventType.PEER_DELETED, "edit": EventType.PEER_UPDATED,
           "psk": EventType.PEER_UPDATED, "disable": EventType.PEER_DISABLED, "enable": EventType.PEER_ENABLED}
_QUIET = ("init",)
"""Actions that change no peer: `init` writes the file from peers that were there already."""


@dataclass(frozen=True)
class PeerEvent:
    """One event a change makes, for one peer."""

    type: EventType
    public_key: str
    name: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    follows: str | None = None
    """The old key whose peer id this key continues (a rotation)."""


def record_change(state_dir: Path, plan: Plan, before: InterfaceState | None, host: str) -> None:
    """After a successful apply of `plan`: final readings for the peers it took off the interface (their counters
    in `before`), links for rotated keys, and its events in the outbox. Never raises."""
    if plan.action in _QUIET or (not plan.changes_file and not plan.runtime):
        return
    try:
        if not state_dir.is_dir():
            return  # before importing SQLite and the ledger: ~10 ms of a command on a host without the lifecycle
    except OSError as exc:  # a directory it may not look into (is_dir answers False only when it is missing)
        _not_updated(state_dir, exc)
        return
    import sqlite3

    from wgtui.lifecycle.db import DatabaseError
    from wgtui.lifecycle.events import EventError
    from wgtui.lifecycle.history import LedgerError

    try:
        _record(state_dir, plan, before, host)
    except (DatabaseError, LedgerError, EventError, sqlite3.Error, OSError, ConfError, ValueError) as exc:
        _not_updated(state_dir, exc)


def _not_updated(state_dir: Path, exc: Exception) -> None:
    print(f"wgtui: the change is done, but the lifecycle state in {state_dir} was not updated: {exc}", file=sys.stderr)


def recorder(state_dir: Path, host: str | None = None) -> Callable[[Plan, InterfaceState | None], None]:
    """record_change for every change this process applies (for transaction.set_recorder)."""
    name = host or os.uname().nodename  # what socket.gethostname() gives on Linux, without importing socket

    def record(plan: Plan, before: InterfaceState | None) -> None:
        record_change(state_dir, plan, before, name)

    return record


def _record(state_dir: Path, plan: Plan, before: InterfaceState | None, host: str) -> None:
    from wgtui.lifecycle import events as ev
    from wgtui.lifecycle.db import db_path
    from wgtui.lifecycle.ledger import Ledger

    events = peer_events(plan, before)
    taken_off = [u.public_key for u in plan.runtime if u.remove]
    ids: dict[str, str | None] = {}
    with Ledger.open(state_dir) as ledger:
        live = before.peers if before is not None else {}
        for key in taken_off:
            if key in live:
                ledger.final_reading(plan.ifname, key, live[key])
        for event in events:
            if event.follows:
                ids[event.public_key] = ledger.link(plan.ifname, event.follows, event.public_key)
        for key in taken_off:
            ledger.peer_removed(plan.ifname, key)
        for event in events:
            if event.public_key not in ids:
                ids[event.public_key] = ledger.peer_id(plan.ifname, event.public_key, create=True)
    if not events:
        return
    with ev.Outbox(db_path(state_dir)) as outbox:
        for event in events:
            outbox.emit(ev.EventType(event.type), interface=plan.ifname, peer_id=ids.get(event.public_key),
                        public_key=event.public_key, host=host, data=_data(plan, event))


def _data(plan: Plan, event: PeerEvent) -> dict[str, Any]:
    out: dict[str, Any] = {"name": event.name or None, "action": plan.action, **event.data}
    if event.follows:
        out["old_public_key"] = event.follows
    return out


def peer_events(plan: Plan, before: InterfaceState | None = None) -> list[PeerEvent]:
    """The events of an applied plan, in order."""
    action, key, name = plan.action, plan.public_key, plan.peer_name
    if action in _SINGLE and key:
        data: dict[str, Any] = {}
        if action == "disable":
            data["reason"] = _disabled_reason(plan)
        elif action == "psk":
            data["change"] = "preshared_key"
        elif action == "add":
            data["allowed_ips"] = next((list(u.allowed_ips) for u in plan.runtime if u.public_key == key
                                        and isinstance(u.allowed_ips, tuple)), None)
        return [PeerEvent(_SINGLE[action], key, name, data)]
    if action == "rotate" and plan.old_public_key:
        mode = {"mode": "now"}
        return [PeerEvent(EventType.PEER_ROTATION_STARTED, key, name, mode, plan.old_public_key),
                PeerEvent(EventType.PEER_ROTATION_COMPLETED, key, name, mode, plan.old_public_key)]
    if action == "rotate-start":
        return _started(plan)
    if action == "rotate-finish" and plan.old_public_key:
        return [PeerEvent(EventType.PEER_ROTATION_COMPLETED, key, name, {"mode": "staged"}, plan.old_public_key)]
    if action == "rotate-cancel" and plan.old_public_key:
        return [PeerEvent(EventType.PEER_UPDATED, plan.old_public_key, name,
                          {"rotation": "cancelled", "cancelled_public_key": key})]
    return _by_difference(plan, before)


def _disabled_reason(plan: Plan) -> str:
    """The `disabled=` item the plan writes (the diff's added lines hold it)."""
    for line in plan.diff.splitlines():
        if line.startswith("+") and "disabled=" in line:
            reason = (line.split("disabled=", 1)[1].split() or [""])[0]
            if reason in REASONS:
                return reason
    return "manual"


def _started(plan: Plan) -> list[PeerEvent]:
    """A staged rotation of one or more peers: each new key carries a `replaces=` mark in the new file."""
    if plan.after is None:
        return []
    doc = Document.parse(plan.after)
    marks = rotation_marks(doc)
    names = doc.names
    out = []
    for update in plan.runtime:
        mark = marks.get(update.public_key)
        if mark is not None:
            out.append(PeerEvent(EventType.PEER_ROTATION_STARTED, mark.new_key, names.get(mark.old_key, ""),
                                 {"mode": "staged"}, mark.old_key))
    return out


def _by_difference(plan: Plan, before: InterfaceState | None) -> list[PeerEvent]:
    """Sync, undo, a batch: what became of each peer, from the file before and after and the runtime operations."""
    old = _Peers(Document.parse(plan.before) if plan.before else None)
    new = _Peers(Document.parse(plan.after) if plan.after is not None else None) if plan.changes_file else old
    running = set(before.peers) if before is not None else set()
    touched = {u.public_key for u in plan.runtime if not u.remove}
    dropped = {u.public_key for u in plan.runtime if u.remove}
    out: list[PeerEvent] = []
    was_in, now_in = old.every, new.every
    changed = _changed_region(old, new)
    for key in sorted(was_in | now_in | touched | dropped):
        name = new.names.get(key) or old.names.get(key, "")
        # New in the file but not added to the interface by this change: it was running already (adopted by a sync).
        was = key in was_in or key in running or (key in now_in and key not in touched and not plan.file_only)
        # A peer only on the interface that the plan leaves alone is still there; the file decides for the others.
        now = key in now_in or key in touched or (key in running and key not in dropped and key not in was_in)
        if was and not now:
            out.append(PeerEvent(EventType.PEER_DELETED, key, name))
        elif now and not was:
            out.append(PeerEvent(EventType.PEER_CREATED, key, name))
        elif key in old.live and key in new.disabled:
            out.append(PeerEvent(EventType.PEER_DISABLED, key, name, {"reason": new.reasons.get(key, "manual")}))
        elif key in old.disabled and key in new.live:
            out.append(PeerEvent(EventType.PEER_ENABLED, key, name))
        elif key in touched or (changed(key) and old.block(key) != new.block(key)):
            out.append(PeerEvent(EventType.PEER_UPDATED, key, name))
    return out


def _changed_region(old: _Peers, new: _Peers) -> Callable[[str], bool]:
    """Whether a peer's block may differ between the two versions: it reaches into the lines between the common
    start and the common end of the two files (one pass over the lines, instead of comparing every block)."""
    if new is old or old.doc is None or new.doc is None:
        return lambda key: new is not old
    a = [line.text for line in old.doc.lines]
    b = [line.text for line in new.doc.lines]
    lo = 0
    while lo < len(a) and lo < len(b) and a[lo] == b[lo]:
        lo += 1
    tail = 0
    while tail < len(a) - lo and tail < len(b) - lo and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    hi_a, hi_b = len(a) - tail, len(b) - tail

    def touches(span: tuple[int, int] | None, hi: int) -> bool:
        return span is not None and span[0] < hi and span[1] > lo

    return lambda key: touches(old.sections.get(key), hi_a) or touches(new.sections.get(key), hi_b)


class _Peers:
    """The peers of one version of the file: live blocks, #[disabled] blocks, names, each block's text."""

    def __init__(self, doc: Document | None) -> None:
        self.doc = doc
        self.live: set[str] = set()
        self.disabled: set[str] = set()
        self.names: dict[str, str] = {}
        self.reasons: dict[str, str] = {}
        self.sections: dict[str, tuple[int, int]] = {}
        if doc is None:
            return
        self.sections = {p.public_key: (p.section.start, p.section.end) for p in doc.peers if p.public_key}
        self.live = set(self.sections)
        self.names = dict(doc.names)
        for key, items in disabled_meta(doc).items():
            if key not in self.live:
                self.disabled.add(key)
                reason = items.get("disabled", "manual")
                self.reasons[key] = reason if reason in REASONS else "manual"

    @property
    def every(self) -> set[str]:
        return self.live | self.disabled

    def block(self, key: str) -> tuple[str, ...] | None:
        span = self.sections.get(key)
        if span is None or self.doc is None:
            return None
        return tuple(line.text for line in self.doc.lines[span[0]:span[1]])
