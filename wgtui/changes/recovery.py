"""Provides recovery of an interrupted change from its journal: completed when the file already has it, else undone."""

# The config file is written by an atomic rename, so after any interruption it is either the file the change
# started from or the file it was making; which one decides the direction. A change that leaves the file alone
# (runtime only) is completed. The runtime operations are idempotent (allowed IPs are replaced, not appended;
# removing an absent peer does nothing), so replaying them is safe whether they ran before or not.

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wgtui import interrupts
from wgtui.backends.base import Backend, BackendError, InterfaceGone, NoWireGuard
from wgtui.changes import journal
from wgtui.changes.audit import Outcome, record
from wgtui.changes.journal import Journal
from wgtui.changes.transaction import restore_clients, write_clients
from wgtui.compat import StrEnum
from wgtui.model import PeerUpdate
from wgtui.ownfiles import locked
from wgtui.store import (
    StoreError,
    check_directory,
    fingerprint,
    read_bytes,
    read_regular,
    resolve_target,
    sweep_temps,
)


class Direction(StrEnum):
    FORWARD = "complete"
    BACK = "undo"
    STUCK = "stuck"


@dataclass(frozen=True)
class Recovery:
    """What a recovery did (or would do, for a preview)."""

    outcome: Outcome
    message: str
    journal: Journal | None = None
    steps: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.NOTHING, Outcome.RECOVERED_COMPLETED, Outcome.RECOVERED_ROLLED_BACK)

    @property
    def acted(self) -> bool:
        return self.outcome in (Outcome.RECOVERED_COMPLETED, Outcome.RECOVERED_ROLLED_BACK)


def direction(found: Journal, config: Path) -> Direction:
    """Which way an interrupted change goes, judged from the file on disk now."""
    current = fingerprint(read_bytes(config))
    if found.after is not None and current == found.after:
        return Direction.FORWARD
    if current == found.before:
        return Direction.FORWARD if found.after is None else Direction.BACK
    return Direction.STUCK


def describe_plan(found: Journal, config: Path, *, rollback: bool = False) -> str:
    """What recovering would do, in a sentence (for `wgtui peer recover` before it asks)."""
    way = direction(found, config)
    if way is Direction.FORWARD and not rollback:
        return (f"The interrupted change {found.describe()} will be completed: the config file already has it, so "
                "its runtime operations are applied again (they are idempotent) and its client config is checked.")
    if way is Direction.BACK or rollback:
        return (f"The interrupted change {found.describe()} will be undone: the config file does not have it, so "
                "the peers it touched are put back on the interface as they were and its client config removed.")
    return _stuck_message(found, config)


def _stuck_message(found: Journal, config: Path) -> str:
    return (f"{config} was changed by something else after the interrupted change {found.describe()} began, so "
            "wgtui cannot tell which half to keep. Look at the file and `wg show "
            f"{found.interface}`, then run `wgtui peer recover {found.interface} --rollback` to undo the change's "
            "runtime part (the file stays as it is now).")


def peek(config: Path) -> Journal | None:
    """The journal of an interrupted change, if one is there and readable (no lock taken, nothing changed)."""
    try:
        return journal.read(config)
    except StoreError:
        return None


def recover(config: Path, backend: Backend | None, *, rollback: bool = False) -> Recovery:
    """Complete or undo the interrupted change to `config`, if there is one, under the lock and with signals held."""
    with interrupts.held():
        try:
            with locked(config):
                return _recover_locked(config, backend, rollback)
        except StoreError as exc:
            return Recovery(Outcome.RECOVERY_REFUSED, str(exc))


def _sweep(config: Path, found: Journal | None) -> list[Path]:
    dirs = {config.parent, *(c.path.parent for c in (found.clients if found else ()))}
    with contextlib.suppress(StoreError):
        dirs.add(resolve_target(config).parent)
    return [p for d in dirs for p in sweep_temps(d)]


def _runtime(backend: Backend | None, ifname: str, ops: Sequence[PeerUpdate]) -> tuple[str | None, str]:
    """(failure or None, the step to report). An interface that is not running needs nothing: `wg-quick up`
    will load the file, which is then the truth."""
    if not ops:
        return None, ""
    if backend is None:
        return "no backend to reach the running interface", ""
    try:
        backend.apply(ifname, ops)
    except (InterfaceGone, NoWireGuard):
        return None, f"{ifname} is not running: `wg-quick up` will load the file as it is"
    except BackendError as exc:
        return str(exc), ""
    return None, f"applied {len(ops)} runtime operation(s) to {ifname}"


def _recover_locked(config: Path, backend: Backend | None, rollback: bool) -> Recovery:
    found = journal.read(config)
    swept = _sweep(config, found)
    swept_note = (f"removed {len(swept)} temporary file(s) a killed wgtui left behind",) if swept else ()
    if found is None:
        return Recovery(Outcome.NOTHING, "Nothing to recover: no interrupted change is waiting.", None, swept_note)
    check_directory(config.parent)
    way = direction(found, config)
    if way is Direction.STUCK and not rollback:
        message = _stuck_message(found, config)
        record(config, interface=found.interface, action=found.action, title=found.title,
               outcome=Outcome.RECOVERY_REFUSED, message=message, public_key=found.public_key,
               old_public_key=found.old_public_key, change_id=found.id)
        return Recovery(Outcome.RECOVERY_REFUSED, message, found, swept_note)
    steps = list(swept_note)
    if way is Direction.FORWARD and not rollback:
        failed, step = _runtime(backend, found.interface, found.runtime)
        if failed is None:
            try:
                missing = [c for c in found.clients if read_regular(c.path, follow=False) != c.wanted]
                write_clients(missing)
                steps += [f"{'wrote' if c.text is not None else 'removed'} the client config {c.path} again"
                          for c in missing]
            except StoreError as exc:
                failed = str(exc)
        outcome, verb = Outcome.RECOVERED_COMPLETED, "completed"
    else:
        failed, step = _runtime(backend, found.interface, found.undo)
        if failed is None:
            failed = restore_clients(found.clients)
            steps += [f"removed the client config {c.path}" for c in found.clients if c.previous is None]
        outcome, verb = Outcome.RECOVERED_ROLLED_BACK, "undone"
    if step:
        steps.insert(len(swept_note), step)
    if failed is not None:
        message = (f"The interrupted change {found.describe()} could not be {verb}: {failed}. The journal stays; "
                   f"fix the cause and run `wgtui peer recover {found.interface}` again.")
        record(config, interface=found.interface, action=found.action, title=found.title,
               outcome=Outcome.RECOVERY_REFUSED, message=message, public_key=found.public_key,
               old_public_key=found.old_public_key, change_id=found.id)
        return Recovery(Outcome.RECOVERY_REFUSED, message, found, tuple(steps))
    message = (f"An interrupted change was found and {verb}: {found.title}"
               + (f" ({'; '.join(steps)})." if steps else "."))
    if rollback and way is not Direction.BACK:
        message += f" The config file was left as it is now: compare it with `wg show {found.interface}`."
    record(config, interface=found.interface, action=found.action, title=found.title, outcome=outcome,
           message=message, public_key=found.public_key, old_public_key=found.old_public_key, change_id=found.id)
    journal.clear(found)
    return Recovery(outcome, message, found, tuple(steps))
