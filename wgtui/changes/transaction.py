"""Provides the one transaction every change goes through: lock, re-check, journal, client config, runtime, file."""

# In full: lock → re-check → journal → client configs → runtime → file → audit → journal cleared; each half undone
# if the other fails, and every way out (refusal, exception, signal, kill -9, power cut) ends consistent.

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from wgtui import interrupts
from wgtui.backends.base import Backend, BackendError
from wgtui.changes import journal, recheck
from wgtui.changes.audit import Outcome, record
from wgtui.changes.journal import ClientFile, Journal
from wgtui.changes.plan import Plan
from wgtui.conf import ConfError, Document
from wgtui.model import KEEP, InterfaceState, PeerUpdate
from wgtui.ownfiles import audit_user, locked
from wgtui.store import (
    StoreError,
    check_directory,
    check_unchanged,
    ensure_private_dir,
    fingerprint,
    read_regular,
    remove_file,
    replace_with_backup,
    resolve_target,
    sweep_temps,
    write_atomic,
)


@dataclass(frozen=True)
class ApplyResult:
    """What happened, in words a tired admin can trust: `ok` only when both halves are done."""

    ok: bool
    message: str
    steps: tuple[str, ...] = ()
    outcome: Outcome = Outcome.APPLIED
    backup: Path | None = None
    written: Path | None = None
    """The file written: the config, or a symlinked config's target."""
    runtime_changed: bool = False
    file_changed: bool = False
    rollback_failed: bool = False
    client_paths: tuple[Path, ...] = ()
    interrupted: int | None = None
    """A signal (SIGINT, SIGTERM, SIGHUP) that arrived while the change ran: it was held until the change ended,
    and the caller now stops with 128 + its number."""


Recorder = Callable[[Plan, "InterfaceState | None"], None]
"""What runs after each applied change, with the interface as read under the lock just before it (None when the
change did not touch the running interface)."""
_recorder: Recorder | None = None


def set_recorder(recorder: Recorder | None) -> Recorder | None:
    """Install what keeps a record of every applied change in this process (the lifecycle's ledger and events:
    wgtui.lifecycle.record.recorder); return the one it replaces. Set by the entry points (CLI, dashboard, agent),
    so that every path that applies a plan (rotations, recovery-free batches, undo) is recorded once."""
    global _recorder
    previous, _recorder = _recorder, recorder
    return previous


class _Refused(Exception):
    """Nothing was touched: the message says why."""


def undo_updates(before: InterfaceState, updates: Sequence[PeerUpdate], backend: Backend,
                 ifname: str) -> list[PeerUpdate]:
    """Runtime operations that put back every peer `updates` can touch, computed from the state before them.

    Peers that did not exist are removed first (freeing their prefixes), then the others are restored with
    their allowed IPs, which takes back any prefix a change moved. The PSK comes from the backend because the
    model never holds it.
    """
    touched = {u.public_key for u in updates}
    moved = {ip for u in updates if u.allowed_ips is not KEEP for ip in u.allowed_ips}
    for key, peer in before.peers.items():
        if moved.intersection(peer.allowed_ips):
            touched.add(key)
    removes = [PeerUpdate(k, remove=True) for k in sorted(touched) if k not in before.peers]
    restores = []
    for key in sorted(touched):
        old = before.peers.get(key)
        if old is None:
            continue
        psk = backend.preshared_key(ifname, key) if old.has_preshared_key else None
        restores.append(PeerUpdate(key, allowed_ips=old.allowed_ips, preshared_key=psk,
                                   persistent_keepalive=old.persistent_keepalive,
                                   endpoint=old.endpoint if old.endpoint else KEEP))
    return removes + restores


def run(plan: Plan, backend: Backend | None) -> ApplyResult:
    """Apply a plan. SIGINT, SIGTERM and SIGHUP wait until it is done or undone; `kill -9` or a power cut leave the
    journal, from which the next wgtui (or `wgtui peer recover`) finishes or undoes it."""
    with interrupts.held():
        try:
            with locked(plan.config_path):
                result = _Transaction(plan, backend).run()
        except StoreError as exc:
            result = ApplyResult(False, f"Nothing was changed: {exc}", outcome=Outcome.REFUSED)
            _audit(plan, result, None)
    signum = interrupts.pending()
    return replace(result, interrupted=signum) if signum is not None else result


def _audit(plan: Plan, result: ApplyResult, change_id: str | None) -> str | None:
    added, removed = plan.diff_stat()
    return record(plan.config_path, interface=plan.ifname, action=plan.action, title=plan.title,
                  outcome=result.outcome, message=result.message, public_key=plan.public_key,
                  old_public_key=plan.old_public_key, diff=f"+{added} -{removed}",
                  runtime_ops=len(plan.runtime) if result.runtime_changed else 0, change_id=change_id)


def restore_clients(clients: Sequence[ClientFile]) -> str | None:
    """Put back what was at each client config's path before the change; None when that worked."""
    failed = []
    for client in clients:
        try:
            current = read_regular(client.path, follow=False)
            previous = None if client.previous is None else client.previous.encode()
            if current == previous or (current is not None and current != client.wanted):
                continue  # never changed, or not ours any more (someone wrote it since): leave it
            if previous is None:
                remove_file(client.path)
            else:
                write_atomic(client.path, previous)
        except StoreError as exc:
            failed.append(str(exc))
    return "; ".join(failed) or None


def write_clients(clients: Sequence[ClientFile]) -> None:
    for client in clients:
        wanted = client.wanted
        if wanted is None:
            remove_file(client.path)
            continue
        # Private keys go only into a real directory (not a link) that only root can write: created 0700.
        ensure_private_dir(client.path.parent)
        write_atomic(client.path, wanted)


def apply_runtime(backend: Backend | None, ifname: str, updates: Sequence[PeerUpdate]) -> str | None:
    """None when the operations were applied (or there were none), else why not."""
    if not updates:
        return None
    if backend is None:
        return "no backend to reach the running interface"
    try:
        backend.apply(ifname, updates)
    except BackendError as exc:
        return str(exc)
    return None


class _Transaction:
    """The steps of one change, under the config file's lock. Each step either succeeds or leaves everything as it
    was before the change began; only a failed undo leaves the journal for `wgtui peer recover`."""

    def __init__(self, plan: Plan, backend: Backend | None) -> None:
        self.plan = plan
        self.backend = backend
        self.ifname = plan.ifname
        self.runtime = plan.runtime if not plan.file_only else ()
        self.steps: list[str] = []
        self.journal: Journal | None = None
        self.before: InterfaceState | None = None
        """The interface as read under the lock just before the change (its counters: the final usage reading)."""

    def run(self) -> ApplyResult:
        try:
            self._prepare()
        except (_Refused, StoreError) as exc:
            result = ApplyResult(False, f"Nothing was changed: {exc}", outcome=Outcome.REFUSED)
            _audit(self.plan, result, None)
            return result
        assert self.journal is not None
        result = self._execute()
        note = _audit(self.plan, result, self.journal.id)
        if note:
            result = replace(result, steps=(*result.steps, f"the audit log could not be written: {note}"))
        if not result.rollback_failed:
            try:
                journal.clear(self.journal)
            except StoreError as exc:
                # Harmless but worth saying: the next run finds the journal and re-checks (the change is idempotent).
                result = replace(result, steps=(*result.steps, f"the journal could not be removed: {exc}"))
        if result.ok and _recorder is not None:
            try:
                _recorder(self.plan, self.before)
            except Exception as exc:  # the change is done: a record that cannot be kept must not undo or hide that
                result = replace(result, steps=(*result.steps, f"the change could not be recorded: {exc}"))
        return result

    def _prepare(self) -> None:
        plan = self.plan
        config = plan.config_path
        check_directory(config.parent)
        target = resolve_target(config)
        if target != config:
            check_directory(target.parent)
        if journal.exists(config):
            raise _Refused(f"an interrupted change to {config} is waiting: run `wgtui peer recover {self.ifname}` "
                           "first (it completes or undoes it).")
        for directory in {config.parent, target.parent, *(c.parent for c in self._client_paths())}:
            sweep_temps(directory)
        check_unchanged(config, plan.before_fingerprint)
        undo: list[PeerUpdate] = []
        if self.runtime:
            if self.backend is None:
                raise _Refused("there is no backend to apply the runtime part with.")
            try:
                now = self.before = self.backend.read(self.ifname)
                changed = recheck.differences(plan, now)
                if changed:
                    changed = recheck.differences(plan, now, _names(plan))
                    raise _Refused(f"{self.ifname} changed after the preview: " + "; ".join(changed) +
                                   ". Preview the change again.")
                undo = undo_updates(now, self.runtime, self.backend, self.ifname)
            except BackendError as exc:
                raise _Refused(f"the running interface {self.ifname} cannot be read ({exc}).") from None
        for path, text in self._client_texts():
            if text is not None:
                ensure_private_dir(path.parent)
        clients = tuple(ClientFile(path, text, _previous(path)) for path, text in self._client_texts())
        after = fingerprint((plan.after or "").encode()) if plan.changes_file else None
        self.journal = Journal(interface=self.ifname, action=plan.action, title=plan.title, config=config,
                               before=plan.before_fingerprint, after=after, runtime=tuple(self.runtime),
                               undo=tuple(undo), clients=clients, public_key=plan.public_key,
                               old_public_key=plan.old_public_key, user=audit_user())
        journal.write(self.journal)

    def _client_paths(self) -> list[Path]:
        return [path for path, _ in self._client_texts()]

    def _client_texts(self) -> list[tuple[Path, str | None]]:
        plan = self.plan
        out: list[tuple[Path, str | None]] = []
        if plan.writes_client and plan.client is not None and plan.client_path is not None:
            out.append((plan.client_path, plan.client.text()))
        out += [(path, client.text()) for path, client in plan.more_clients]
        out += list(plan.client_updates)
        return out

    def _fail(self, message: str, *, runtime_done: bool) -> ApplyResult:
        """Undo what was done so far (client configs, and the runtime when it was changed)."""
        assert self.journal is not None
        failed = apply_runtime(self.backend, self.ifname, self.journal.undo) if runtime_done else None
        if runtime_done and failed is None:
            self.steps.append("rolled back the runtime operations")
        client_failed = restore_clients(self.journal.clients)
        if failed is None and client_failed is None:
            return ApplyResult(False, message + " Nothing changed.", tuple(self.steps), outcome=Outcome.ROLLED_BACK)
        why = "; ".join(w for w in (failed, client_failed) if w)
        return ApplyResult(False, f"DANGER: {message} Undoing it failed too ({why}). {self.ifname} may differ from "
                                  f"{self.plan.config_path}: run `wgtui peer recover {self.ifname}` to retry the "
                                  "undo, and check `wg show`.", tuple(self.steps), outcome=Outcome.ROLLBACK_FAILED,
                           runtime_changed=runtime_done and failed is not None, rollback_failed=True)

    def _execute(self) -> ApplyResult:
        assert self.journal is not None
        plan, clients = self.plan, self.journal.clients
        try:
            write_clients(clients)
        except StoreError as exc:
            return self._fail(f"The client config could not be written ({exc}), so nothing else was done.",
                              runtime_done=False)
        for client in clients:
            self.steps.append(f"wrote the client config {client.path} (0600)" if client.text is not None
                              else f"removed the client config {client.path}")
        if self.runtime:
            failed = apply_runtime(self.backend, self.ifname, self.runtime)
            if failed is not None:
                # wireguard-go applies a set= transaction line by line: part of it may have landed. Undo anyway.
                return self._fail(f"The running interface {self.ifname} refused the change ({failed}); the config "
                                  "file was not touched.", runtime_done=True)
            self.steps.append(f"applied {len(self.runtime)} runtime operation(s) to {self.ifname}")
        backup = written = None
        if plan.changes_file:
            try:
                backup, written = replace_with_backup(plan.config_path, (plan.after or "").encode())
            except StoreError as exc:
                return self._fail(f"The config file could not be written ({exc}), so the change was rolled back.",
                                  runtime_done=bool(self.runtime))
            via = f" (through the link {plan.config_path})" if written != plan.config_path else ""
            self.steps.append(f"wrote {written}{via}" + (f", previous version kept as {backup}" if backup else ""))
        what = " and ".join(self.steps) if self.steps else "nothing needed changing"
        extra = self._remember_undo()
        return ApplyResult(True, f"Done: {plan.title}: {what}.", (*self.steps, *extra), backup=backup,
                           written=written, runtime_changed=bool(self.runtime), file_changed=plan.changes_file,
                           client_paths=tuple(c.path for c in clients if c.text is not None))

    def _remember_undo(self) -> list[str]:
        """What `wgtui peer undo` needs to revert this change; a failure loses only the undo, and says so."""
        from wgtui.changes.undo import record_undo

        assert self.journal is not None
        try:
            after = self.backend.read(self.ifname) if self.runtime and self.backend is not None else None
            record_undo(self.plan.config_path, self.plan, self.journal.undo, after,
                        [(c.path, c.previous) for c in self.journal.clients],
                        self.journal.after or self.plan.before_fingerprint)
        except (StoreError, BackendError) as exc:
            return [f"this change cannot be undone with `wgtui peer undo`: {exc}"]
        return []


def _names(plan: Plan) -> dict[str, str]:
    """Peer names for messages (parsed only when there is something to say: a large file takes a while)."""
    try:
        return Document.parse(plan.before).names
    except ConfError:
        return {}


def _previous(path: Path) -> str | None:
    data = read_regular(path, follow=False)
    return None if data is None else data.decode("utf-8", errors="replace")

