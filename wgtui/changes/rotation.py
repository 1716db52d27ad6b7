"""Provides staged key rotation: new key first, AllowedIPs moved once it has handshaken, old key removed last."""

# Each step is one transaction, and between them the rotation is written in the file as well as on the interface
# (the new key's own [Peer] block without AllowedIPs, marked as replacing the old one), so a dropped session, a
# reboot or `wg-quick down/up` keeps both keys and any later wgtui can finish or cancel it.

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from wgtui import keys
from wgtui.backends.base import Backend, BackendError
from wgtui.changes import transaction
from wgtui.changes.plan import ChangeRefused, Plan
from wgtui.changes.planner import Planner, client_addresses
from wgtui.changes.transaction import ApplyResult
from wgtui.client_config import ClientConfig
from wgtui.conf.marks import rotation_comment, rotation_marks
from wgtui.conf.names import RESTRICTED
from wgtui.model import KEEP, PeerUpdate


class Stage(StrEnum):
    PLANNED = "planned"
    WAITING = "waiting for the new key's first handshake"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass(frozen=True)
class Pending:
    """A rotation written in the file (and on the interface), waiting for the new key's first handshake."""

    ifname: str
    old_key: str
    new_key: str
    name: str
    started: int


@dataclass(frozen=True)
class Progress:
    stage: Stage
    message: str
    waited: float = 0.0
    ready: bool = False
    """The new key has handshaken: `complete()` can move the AllowedIPs."""
    timed_out: bool = False
    """Waited longer than the timeout: the rotation stays pending (the old key works) for a later session."""


def pending_rotations(planner: Planner) -> dict[str, Pending]:
    """The pending rotations of the planner's file, by the old key."""
    names = planner.doc.names
    out = {}
    for mark in rotation_marks(planner.doc).values():
        if planner.doc.find_peer(mark.old_key) is not None:
            out[mark.old_key] = Pending(planner.ifname, mark.old_key, mark.new_key, names.get(mark.old_key, ""),
                                        mark.started)
    return out


def _pending_name(planner: Planner, name: str) -> str | None:
    """The new block's name in the file's convention, so other tools reading names show it for what it is."""
    if not name:
        return None
    base = name[:10] if planner.doc.naming.convention in RESTRICTED else name[:59]
    candidate = f"{base}-next"
    return None if any(p.name == candidate for p in planner.peers()) else candidate


def plan_start(planner: Planner, query: str, *, public_key: str | None = None, now: float | None = None) -> Plan:
    """Step 1: the new key beside the old one, without AllowedIPs, in the file and on the interface."""
    if planner.file_only or planner.backend is None or planner.runtime is None:
        raise ChangeRefused("A staged rotation needs the running interface (it waits for a handshake); use --now "
                            "with --file-only.")
    old = planner.resolve(query)
    if not (old.in_file and old.in_runtime):
        raise ChangeRefused("A staged rotation needs the peer both in the config file and on the running interface "
                            "(see the drift marks).")
    existing = pending_rotations(planner).get(old.public_key)
    label = old.name or keys.short_key(old.public_key)
    if existing is not None:
        raise ChangeRefused(f"A rotation of {label} is already pending (new key {keys.short_key(existing.new_key)}): "
                            f"resume it with `wgtui peer rotate {planner.ifname} {query} --resume` or cancel it with "
                            "--cancel.")
    if old.public_key in rotation_marks(planner.doc):
        raise ChangeRefused(f"{label} is the new key of a pending rotation: finish or cancel that one first.")
    private, new_key = planner.new_key(public_key)
    live = planner.runtime.peers[old.public_key]
    psk = planner.psk_of(old.public_key)
    started = time.time() if now is None else now
    after = planner.doc.add_peer(new_key, name=_pending_name(planner, old.name), preshared_key=psk,
                                 persistent_keepalive=live.persistent_keepalive or None,
                                 comments=[rotation_comment(old.public_key, started)])
    update = PeerUpdate(new_key, allowed_ips=(), preshared_key=psk if psk else KEEP,
                        persistent_keepalive=live.persistent_keepalive)
    client = planner.client_for(private, client_addresses(live.allowed_ips), psk) if private else None
    notes = ["Staged: nobody is cut off. The old key keeps working until the new one has handshaken; the rotation is "
             "kept in the file meanwhile, so it survives this session and can be finished or cancelled later."]
    return planner.make_plan("rotate-start", f"Staged rotation of {label} on {planner.ifname}", after, [update],
                             client.warnings() if client else [], notes, new_key, old_public_key=old.public_key,
                             client=client, peer_name=old.name)


def plan_finish(planner: Planner, pending: Pending) -> Plan:
    """Step 3: the AllowedIPs move to the new key in one operation, the old key goes; in the file the old block
    takes the new key (name, comments and settings kept) and the pending block goes."""
    if planner.runtime is None or planner.backend is None:
        raise ChangeRefused("Finishing a rotation needs the running interface.")
    live = planner.runtime.peers.get(pending.old_key)
    view = planner.doc.peer(pending.old_key)
    ips = live.allowed_ips if live is not None else tuple(view.allowed_ips)
    after = planner.doc.remove_peer(pending.new_key).replace_public_key(pending.old_key, pending.new_key)
    runtime = [PeerUpdate(pending.new_key, allowed_ips=ips), PeerUpdate(pending.old_key, remove=True)]
    label = pending.name or keys.short_key(pending.old_key)
    return planner.make_plan("rotate-finish", f"Finish the rotation of {label} on {planner.ifname}", after, runtime,
                             [], [], pending.new_key, old_public_key=pending.old_key, peer_name=pending.name)


def plan_cancel(planner: Planner, pending: Pending) -> Plan:
    """The new key goes from the interface and the file; the old one, which worked throughout, stays."""
    label = pending.name or keys.short_key(pending.old_key)
    runtime = [PeerUpdate(pending.new_key, remove=True)] if planner.runtime is not None else []
    after = planner.doc.remove_peer(pending.new_key)
    plan = planner.make_plan("rotate-cancel", f"Cancel the rotation of {label} on {planner.ifname}", after, runtime,
                             [], [], pending.new_key, old_public_key=pending.old_key, peer_name=pending.name)
    return plan


class StagedRotation:
    """Drives one rotation through its steps, each a transaction; from a new start or from a pending rotation.

    1. `start()`: the new key is added with no AllowedIPs (carrying the PSK and keepalive), to the file and the
       interface; the old key keeps routing traffic, so the old client works throughout.
    2. the client gets its new config; `check()` reports when the new key has handshaken.
    3. `complete()`: setting the AllowedIPs on the new key moves them from the old one in one step; then the old
       key is removed, and the file gets the new key in the old block.
    `cancel()` removes the new key again. Leaving (a dropped session, a timeout) keeps the rotation pending.
    """

    def __init__(self, planner: Planner, query: str, *, public_key: str | None = None, timeout: float = 600,
                 clock: Callable[[], float] = time.time, resume: bool = False) -> None:
        self.planner = planner
        if planner.backend is None or planner.runtime is None:
            raise ChangeRefused("A staged rotation needs the running interface (it waits for a handshake); use "
                                "--now with --file-only.")
        self.backend: Backend = planner.backend
        self.clock = clock
        self.timeout = timeout
        self.old = planner.resolve(query)
        self.log: list[str] = []
        if resume:
            pending = pending_rotations(planner).get(self.old.public_key)
            if pending is None:
                raise ChangeRefused(f"No rotation of {self.label} is pending on {planner.ifname}.")
            self.pending: Pending | None = pending
            self.plan = plan_finish(planner, pending)
            self.new_key = pending.new_key
            self.client: ClientConfig | None = None
            self.stage = Stage.WAITING
            self.started = float(pending.started)
        else:
            self.pending = None
            self.plan = plan_start(planner, query, public_key=public_key, now=clock())
            self.new_key = self.plan.public_key
            self.client = self.plan.client
            self.stage = Stage.PLANNED
            self.started = 0.0
        live = planner.runtime.peers.get(self.old.public_key)
        self.allowed_ips = live.allowed_ips if live is not None else self.old.allowed_ips

    @property
    def label(self) -> str:
        return self.old.name or keys.short_key(self.old.public_key)

    @property
    def ifname(self) -> str:
        return self.planner.ifname

    def _note(self, text: str) -> None:
        self.log.append(f"{time.strftime('%H:%M:%S')} {text}")

    def resume_hint(self) -> str:
        who = self.old.name or self.old.public_key
        return (f"The rotation of {self.label} stays pending: both keys are in the file and on {self.ifname}, and the "
                f"old one keeps working. Finish it later with `wgtui peer rotate {self.ifname} {who} --resume`, or "
                f"undo it with `wgtui peer rotate {self.ifname} {who} --cancel`.")

    def start(self) -> Progress:
        result = transaction.run(self.plan, self.backend)
        if not result.ok:
            self.stage = Stage.FAILED
            return Progress(self.stage, result.message)
        self.started = self.clock()
        self.stage = Stage.WAITING
        self.pending = Pending(self.ifname, self.old.public_key, self.new_key, self.old.name, int(self.started))
        self._note(f"added new key {keys.short_key(self.new_key)} without AllowedIPs; the old key still works")
        return Progress(self.stage, f"New key {keys.short_key(self.new_key)} added beside the old one (interface and "
                                    "file). Give the client its new config; waiting for its first handshake.")

    def check(self) -> Progress:
        """Poll once: has the new key handshaken?"""
        waited = self.clock() - self.started
        if self.stage is not Stage.WAITING:
            return Progress(self.stage, self.stage.value, waited)
        try:
            peer = self.backend.read(self.ifname).peers.get(self.new_key)
        except BackendError as exc:
            return Progress(self.stage, f"Cannot read {self.ifname} ({exc}); still waiting.", waited)
        if peer is not None and peer.latest_handshake > 0:
            self._note("the new key has handshaken")
            return Progress(self.stage, "The new key has handshaken: ready to move the AllowedIPs.", waited, True)
        if waited >= self.timeout:
            return Progress(self.stage, f"No handshake from the new key within {int(self.timeout)} s. "
                            + self.resume_hint(), waited, timed_out=True)
        return Progress(self.stage, f"Waiting for the new key's first handshake ({int(waited)} s of "
                                    f"{int(self.timeout)} s).", waited)

    def _current(self) -> tuple[Planner, Pending]:
        """A planner on the file and interface as they are now, and the rotation as written there."""
        planner = self.planner.fresh()
        pending = pending_rotations(planner).get(self.old.public_key)
        if pending is None or pending.new_key != self.new_key:
            raise ChangeRefused(f"The rotation of {self.label} is no longer pending in {planner.config_path}: "
                                "another session finished or cancelled it.")
        return planner, pending

    def complete(self) -> ApplyResult:
        try:
            planner, pending = self._current()
            plan = plan_finish(planner, pending)
        except ChangeRefused as exc:
            return self._finish(Stage.FAILED, ApplyResult(False, str(exc)))
        result = transaction.run(plan, self.backend)
        if not result.ok:
            return self._finish(Stage.FAILED, ApplyResult(
                False, f"{result.message} {self.resume_hint()}", result.steps, outcome=result.outcome,
                rollback_failed=result.rollback_failed, interrupted=result.interrupted))
        self._note("moved the AllowedIPs to the new key, removed the old key and wrote the file")
        return self._finish(Stage.DONE, ApplyResult(
            True, f"Done: {self.label} now uses key {keys.short_key(self.new_key)}; the old key was removed and "
                  f"{self.plan.config_path} updated" + (f" (previous version: {result.backup})." if result.backup
                                                        else "."), result.steps, backup=result.backup,
            written=result.written, runtime_changed=True, file_changed=True, interrupted=result.interrupted))

    def cancel(self, why: str = "cancelled") -> ApplyResult:
        if self.stage is not Stage.WAITING:
            return ApplyResult(False, f"Nothing to cancel: the rotation is {self.stage.value}.")
        try:
            planner, pending = self._current()
            plan = plan_cancel(planner, pending)
        except ChangeRefused as exc:
            return self._finish(Stage.FAILED, ApplyResult(False, str(exc)))
        result = transaction.run(plan, self.backend)
        if not result.ok:
            return self._finish(Stage.FAILED, ApplyResult(False, result.message, result.steps, outcome=result.outcome,
                                                          rollback_failed=result.rollback_failed))
        self._note(f"{why}: removed the new key")
        return self._finish(Stage.CANCELLED, ApplyResult(
            False, f"Rotation {why}: the new key was removed from {self.ifname} and the file; {self.label} keeps its "
                   "old key, which worked throughout.", result.steps, interrupted=result.interrupted))

    def _finish(self, stage: Stage, result: ApplyResult) -> ApplyResult:
        self.stage = stage
        return result
