"""Provides staged key rotation as one state machine: new key first, AllowedIPs moved after its handshake."""

# Each step is one transaction, and between them the rotation is written in the file as well as on the interface
# (the new key's own [Peer] block without AllowedIPs, marked as replacing the old one), so a dropped session, a
# reboot or `wg-quick down/up` keeps both keys and any later wgtui can finish or cancel it. The command line, the
# dashboard and `wgtui peer pending` all drive and draw rotations through this module only.

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from wgtui import keys
from wgtui.backends.base import Backend, BackendError
from wgtui.changes import transaction
from wgtui.changes.plan import ChangeRefused, Plan
from wgtui.changes.planner import Planner
from wgtui.changes.rotation_plans import (
    Pending,
    Started,
    pending_client_path,
    pending_rotations,
    plan_cancel,
    plan_finish,
    plan_start,
)
from wgtui.changes.transaction import ApplyResult
from wgtui.client_config import ClientConfig
from wgtui.compat import StrEnum
from wgtui.conf import ConfError
from wgtui.model import InterfaceState
from wgtui.store import StoreError


class Step(StrEnum):
    """Where one peer's rotation stands."""

    PLANNED = "planned"
    """Worked out and previewed; nothing done."""
    WAITING = "waiting"
    """Pending in the file and on the interface: the old key works, the new one has not handshaken yet."""
    HANDSHAKEN = "handshaken"
    """The new key has handshaken: the AllowedIPs are due to move."""
    DONE = "done"
    """AllowedIPs moved, old key removed, the file's block has the new key."""
    CANCELLED = "cancelled"
    """The new key was removed again; the old one worked throughout."""
    BLOCKED = "blocked"
    """Finishing or cancelling was refused (the message says why); the rotation is still pending in the file."""
    FAILED = "failed"
    """Starting failed: nothing changed."""


TRANSITIONS: dict[Step, frozenset[Step]] = {
    Step.PLANNED: frozenset({Step.WAITING, Step.FAILED}),
    Step.WAITING: frozenset({Step.HANDSHAKEN, Step.CANCELLED, Step.BLOCKED}),
    Step.HANDSHAKEN: frozenset({Step.DONE, Step.CANCELLED, Step.BLOCKED}),
    Step.BLOCKED: frozenset({Step.WAITING, Step.HANDSHAKEN, Step.CANCELLED}),
    Step.DONE: frozenset(),
    Step.CANCELLED: frozenset(),
    Step.FAILED: frozenset(),
}
FINISHED = frozenset({Step.DONE, Step.CANCELLED, Step.FAILED})


class IllegalStep(RuntimeError):
    """A transition the state machine does not have: a bug, never a user's mistake."""


@dataclass(frozen=True)
class Progress:
    step: Step
    message: str
    waited: float = 0.0
    timed_out: bool = False
    """Waited longer than the timeout: the rotation stays pending (the old key works) for a later session."""

    @property
    def ready(self) -> bool:
        return self.step is Step.HANDSHAKEN


class StagedRotation:
    """One peer's rotation: its keys, where it stands, and the steps that move it on (each a transaction)."""

    def __init__(self, planner: Planner, pending: Pending, *, step: Step, timeout: float = 600,
                 clock: Callable[[], float] = time.time, client: ClientConfig | None = None,
                 client_path: Path | None = None, allowed_ips: tuple[str, ...] = ()) -> None:
        if planner.backend is None:
            raise ChangeRefused("A staged rotation needs the running interface (it waits for a handshake).")
        self.planner = planner
        self.backend: Backend = planner.backend
        self.pending = pending
        self.step = step
        self.timeout = timeout
        self.clock = clock
        self.client = client
        self.client_path = client_path
        self.allowed_ips = allowed_ips
        self.message = ""
        self.log: list[str] = []

    @property
    def ifname(self) -> str:
        return self.pending.ifname

    @property
    def old_key(self) -> str:
        return self.pending.old_key

    @property
    def new_key(self) -> str:
        return self.pending.new_key

    @property
    def label(self) -> str:
        return self.pending.name or keys.short_key(self.old_key)

    @property
    def waited(self) -> float:
        return max(0.0, self.clock() - self.pending.started) if self.step is not Step.PLANNED else 0.0

    @property
    def finished(self) -> bool:
        return self.step in FINISHED

    def to(self, step: Step, message: str = "") -> None:
        if step is not self.step and step not in TRANSITIONS[self.step]:
            raise IllegalStep(f"rotation of {self.label}: {self.step} -> {step} is not a step")
        self.step = step
        self.message = message
        self.log.append(f"{time.strftime('%H:%M:%S')} {step}: {message}" if message else f"{step}")

    def resume_hint(self) -> str:
        who = self.pending.name or self.old_key
        return (f"The rotation of {self.label} stays pending: both keys are in the file and on {self.ifname}, and the "
                f"old one keeps working. Finish it later with `wgtui peer rotate {self.ifname} {who} --resume` (or "
                f"`wgtui peer pending --finish`), or undo it with `wgtui peer rotate {self.ifname} {who} --cancel`.")

    def check(self, state: InterfaceState | None = None) -> Progress:
        """Has the new key handshaken? `state` is a fresh read of the interface (a session reads once for all)."""
        if self.step is not Step.WAITING:
            return Progress(self.step, self.message, self.waited)
        if state is None:
            try:
                state = self.backend.read(self.ifname)
            except BackendError as exc:
                return Progress(self.step, f"Cannot read {self.ifname} ({exc}); still waiting.", self.waited)
        peer = state.peers.get(self.new_key)
        if peer is not None and peer.latest_handshake > 0:
            self.to(Step.HANDSHAKEN, "The new key has handshaken: moving the AllowedIPs to it.")
            return Progress(self.step, self.message, self.waited)
        if self.waited >= self.timeout:
            return Progress(self.step, f"No handshake from the new key within {int(self.timeout)} s. "
                            + self.resume_hint(), self.waited, timed_out=True)
        return Progress(self.step, f"Waiting for the new key's first handshake ({int(self.waited)} s of "
                                   f"{int(self.timeout)} s).", self.waited)

    def _current(self) -> tuple[Planner, Pending]:
        """A planner on the file and interface as they are now, and the rotation as written there."""
        planner = self.planner.fresh()
        pending = pending_rotations(planner).get(self.old_key)
        if pending is None or pending.new_key != self.new_key:
            raise ChangeRefused(f"The rotation of {self.label} is no longer pending in {planner.config_path}: "
                                "another session finished or cancelled it.")
        return planner, pending

    def _run(self, make: Callable[[Planner, Pending], Plan]) -> ApplyResult:
        try:
            planner, pending = self._current()
            plan = make(planner, pending)
        except (ChangeRefused, ConfError, StoreError, BackendError) as exc:
            return ApplyResult(False, f"Nothing was changed: {exc}")
        return transaction.run(plan, self.backend)

    def complete(self) -> ApplyResult:
        """Step 3, once the new key has handshaken."""
        result = self._run(plan_finish)
        if not result.ok:
            self.to(Step.BLOCKED, f"{result.message} {self.resume_hint()}")
            return replace(result, message=self.message)
        self.to(Step.DONE, f"Done: {self.label} now uses key {keys.short_key(self.new_key)}; the old key was removed "
                           f"and {self.planner.config_path} updated.")
        return replace(result, message=self.message)

    def cancel(self, why: str = "cancelled") -> ApplyResult:
        if self.finished:
            return ApplyResult(False, f"Nothing to cancel: the rotation is {self.step}.")
        result = self._run(plan_cancel)
        if not result.ok:
            self.to(Step.BLOCKED, result.message)
            return result
        self.to(Step.CANCELLED, f"Rotation {why}: the new key was removed from {self.ifname} and the file; "
                                f"{self.label} keeps its old key, which worked throughout.")
        return replace(result, message=self.message)


class RotationSession:
    """Rotations of several peers of one interface, driven together: started in one transaction, watched with one
    read per poll, each finished as soon as its own new key handshakes. A session of one is the common case."""

    def __init__(self, planner: Planner, rotations: Sequence[StagedRotation], plan: Plan | None = None) -> None:
        self.planner = planner
        self.rotations = list(rotations)
        self.plan = plan
        """The start plan (None when the session was resumed from the file)."""

    @classmethod
    def new(cls, planner: Planner, queries: Sequence[str], *, public_key: str | None = None, timeout: float = 600,
            clock: Callable[[], float] = time.time, client_dir: Path | None = None) -> RotationSession:
        now = clock()
        plan, started = plan_start(planner, queries, public_key=public_key, now=now, client_dir=client_dir)
        return cls(planner, [_rotation(planner, s, now, timeout, clock) for s in started], plan)

    @classmethod
    def resume(cls, planner: Planner, queries: Iterable[str] = (), *, timeout: float = 600,
               clock: Callable[[], float] = time.time) -> RotationSession:
        """The pending rotations of the file (all, or those of the peers named)."""
        pending = pending_rotations(planner)
        wanted = [planner.resolve(q).public_key for q in queries]
        for key in wanted:
            if key not in pending:
                name = planner.doc.names.get(key) or keys.short_key(key)
                raise ChangeRefused(f"No rotation of {name} is pending on {planner.ifname}.")
        chosen = [pending[k] for k in wanted] if wanted else list(pending.values())
        live = planner.runtime.peers if planner.runtime is not None else {}
        rotations = [StagedRotation(planner, p, step=Step.WAITING, timeout=timeout, clock=clock,
                                    client_path=pending_client_path(planner, p),
                                    allowed_ips=live[p.old_key].allowed_ips if p.old_key in live else ())
                     for p in chosen]
        return cls(planner, rotations)

    @property
    def ifname(self) -> str:
        return self.planner.ifname

    @property
    def finished(self) -> bool:
        return all(r.finished or r.step is Step.BLOCKED for r in self.rotations)

    def start(self) -> ApplyResult:
        """Step 1 for every peer, in one transaction."""
        assert self.plan is not None, "a resumed session has started already"
        result = transaction.run(self.plan, self.planner.backend)
        for rotation in self.rotations:
            if result.ok:
                rotation.to(Step.WAITING, "New key added beside the old one (interface and file); waiting for its "
                                          "first handshake.")
            else:
                rotation.to(Step.FAILED, result.message)
        return result

    def poll(self) -> list[StagedRotation]:
        """One read of the interface; each rotation whose new key has handshaken is finished. The rotations whose
        step changed."""
        waiting = [r for r in self.rotations if r.step is Step.WAITING]
        if not waiting:
            return []
        try:
            state = self.planner.backend.read(self.ifname) if self.planner.backend is not None else None
        except BackendError:
            return []
        moved = []
        for rotation in waiting:
            if rotation.check(state).ready:
                rotation.complete()
                moved.append(rotation)
        return moved

    def timed_out(self) -> bool:
        waiting = [r for r in self.rotations if r.step is Step.WAITING]
        return bool(waiting) and all(r.waited >= r.timeout for r in waiting)

    def cancel_all(self, why: str = "cancelled") -> list[ApplyResult]:
        return [r.cancel(why) for r in self.rotations if r.step in (Step.WAITING, Step.HANDSHAKEN, Step.BLOCKED)]


def _rotation(planner: Planner, started: Started, now: float, timeout: float,
              clock: Callable[[], float]) -> StagedRotation:
    pending = Pending(planner.ifname, started.old.public_key, started.new_key, started.old.name, int(now))
    return StagedRotation(planner, pending, step=Step.PLANNED, timeout=timeout, clock=clock, client=started.client,
                          client_path=started.client_path, allowed_ips=started.allowed_ips)


__all__ = ["FINISHED", "TRANSITIONS", "IllegalStep", "Pending", "Progress", "RotationSession", "StagedRotation",
           "Step", "pending_rotations"]
