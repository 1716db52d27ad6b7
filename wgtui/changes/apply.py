"""Provides applying a plan: runtime first, then the file, each undone if the other fails, and an audit record."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from wgtui import keys
from wgtui.backends.base import Backend, BackendError
from wgtui.changes.plan import Plan
from wgtui.model import KEEP, InterfaceState, PeerUpdate
from wgtui.store import StoreError, audit, check_unchanged, locked, replace_with_backup

AUDIT_LOG = "wgtui-audit.log"


@dataclass(frozen=True)
class ApplyResult:
    """What happened, in words a tired admin can trust: `ok` only when both halves are done."""

    ok: bool
    message: str
    steps: tuple[str, ...] = ()
    backup: Path | None = None
    runtime_changed: bool = False
    file_changed: bool = False
    rollback_failed: bool = False
    details: dict[str, object] = field(default_factory=dict)


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
    removes = [PeerUpdate(k, remove=True) for k in touched if k not in before.peers]
    restores = []
    for key in touched:
        old = before.peers.get(key)
        if old is None:
            continue
        peer = old
        psk = backend.preshared_key(ifname, key) if peer.has_preshared_key else None
        restores.append(PeerUpdate(key, allowed_ips=peer.allowed_ips, preshared_key=psk,
                                   persistent_keepalive=peer.persistent_keepalive,
                                   endpoint=peer.endpoint if peer.endpoint else KEEP))
    return removes + restores


def _audit(plan: Plan, result: ApplyResult) -> None:
    added, removed = plan.diff_stat()
    entry = {"interface": plan.ifname, "action": plan.action, "title": plan.title, "ok": result.ok,
             "public_key": plan.public_key, "old_public_key": plan.old_public_key or None,
             "config": str(plan.config_path), "diff": f"+{added} -{removed}",
             "runtime_ops": len(plan.runtime) if result.runtime_changed else 0, "message": result.message}
    with contextlib.suppress(OSError):  # the change is done; a log that cannot be written must not undo it
        audit(plan.config_path.parent / AUDIT_LOG, entry)


def apply_plan(plan: Plan, backend: Backend | None) -> ApplyResult:
    """Apply under the config file's lock; refuse if the file changed since the plan was made."""
    try:
        with locked(plan.config_path):
            check_unchanged(plan.config_path, plan.before_fingerprint)
            result = _apply_locked(plan, backend)
    except StoreError as exc:
        result = ApplyResult(False, f"Nothing was changed: {exc}")
    _audit(plan, result)
    return result


def _apply_locked(plan: Plan, backend: Backend | None) -> ApplyResult:
    steps: list[str] = []
    undo: list[PeerUpdate] = []
    runtime = plan.runtime if not plan.file_only else ()
    if runtime:
        if backend is None:
            return ApplyResult(False, "Nothing was changed: no backend to apply the runtime part with.")
        try:
            before = backend.read(plan.ifname)
            undo = undo_updates(before, runtime, backend, plan.ifname)
            backend.apply(plan.ifname, runtime)
        except BackendError as exc:
            # wireguard-go applies a set= transaction line by line: part of it may have landed. Undo anyway.
            restored = _undo(backend, plan.ifname, undo)
            msg = (f"Nothing was changed: the running interface {plan.ifname} refused the change ({exc}). "
                   "The config file was not touched.")
            if restored is not None:
                msg += f" Restoring the previous live state also failed ({restored}): compare `wg show` " \
                       "with the file."
            return ApplyResult(False, msg, tuple(steps), rollback_failed=restored is not None)
        steps.append(f"applied {len(runtime)} runtime operation(s) to {plan.ifname}")
    if plan.changes_file:
        try:
            backup = replace_with_backup(plan.config_path, (plan.after or "").encode())
        except StoreError as exc:
            if not undo:
                return ApplyResult(False, f"Nothing was changed: {exc}", tuple(steps))
            failed = _undo(backend, plan.ifname, undo) if backend else "no backend"
            if failed is None:
                return ApplyResult(False, f"The config file could not be written ({exc}), so the live change "
                                          f"was rolled back: {plan.ifname} is as it was before. Nothing changed.",
                                   (*steps, "rolled back the runtime operations"))
            return ApplyResult(False, f"DANGER: the config file could not be written ({exc}) and rolling back "
                                      f"the live change failed too ({failed}). {plan.ifname} now differs from "
                                      f"{plan.config_path}: check `wg show {plan.ifname}`.",
                               tuple(steps), runtime_changed=True, rollback_failed=True)
        steps.append(f"wrote {plan.config_path} (previous version kept as {backup})" if backup
                     else f"wrote {plan.config_path}")
        return ApplyResult(True, _done(plan, steps), tuple(steps), backup=backup, runtime_changed=bool(runtime),
                           file_changed=True)
    return ApplyResult(True, _done(plan, steps), tuple(steps), runtime_changed=bool(runtime))


def _done(plan: Plan, steps: list[str]) -> str:
    what = " and ".join(steps) if steps else "nothing needed changing"
    return f"Done: {plan.title}: {what}."


def _undo(backend: Backend | None, ifname: str, undo: list[PeerUpdate]) -> str | None:
    """None when the undo worked (or there was nothing to undo), else why it failed."""
    if backend is None or not undo:
        return None
    try:
        backend.apply(ifname, undo)
    except BackendError as exc:
        return str(exc)
    return None


def describe(update: PeerUpdate) -> str:
    """One runtime operation as a line of the preview: what `wg set` would be told (never a key's secret)."""
    who = keys.short_key(update.public_key)
    if update.remove:
        return f"remove peer {who}"
    parts = []
    if update.allowed_ips is not KEEP:
        parts.append(f"allowed-ips {','.join(update.allowed_ips) or '(none)'}")
    if update.preshared_key is not KEEP:
        parts.append("preshared-key (new, hidden)" if update.preshared_key else "preshared-key removed")
    if update.endpoint is not KEEP:
        parts.append(f"endpoint {update.endpoint}")
    if update.persistent_keepalive is not KEEP:
        parts.append(f"persistent-keepalive {update.persistent_keepalive or 'off'}")
    return f"peer {who} " + (" ".join(parts) if parts else "(added)")
