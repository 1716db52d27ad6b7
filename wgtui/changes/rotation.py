"""Provides staged key rotation: new key first, AllowedIPs moved once it has handshaken, old key removed last."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from wgtui import keys
from wgtui.backends.base import Backend, BackendError
from wgtui.changes.apply import AUDIT_LOG, ApplyResult, undo_updates
from wgtui.changes.plan import ChangeRefused, Plan
from wgtui.changes.planner import Planner
from wgtui.client_config import ClientConfig
from wgtui.model import KEEP, PeerUpdate
from wgtui.store import StoreError, audit, check_unchanged, locked, replace_with_backup


class Stage(StrEnum):
    PLANNED = "planned"
    WAITING = "waiting for the new key's first handshake"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass(frozen=True)
class Progress:
    stage: Stage
    message: str
    waited: float = 0.0
    ready: bool = False
    """The new key has handshaken: `complete()` can move the AllowedIPs."""


class StagedRotation:
    """The rotation that does not strand the client. Holds the config file's lock from start to end.

    1. `start()`: the new key is added with no AllowedIPs (a handshake needs none), carrying the PSK and
       keepalive; the old key keeps routing traffic, so the old client works throughout.
    2. the client gets its new config; `check()` reports when the new key has handshaken.
    3. `complete()`: setting the AllowedIPs on the new key moves them from the old one in one step; then the
       old key is removed and the file written (name and metadata carried over).
    `cancel()` (or a timeout) removes the new key: the old client was never affected.
    """

    def __init__(self, planner: Planner, query: str, *, public_key: str | None = None, timeout: float = 600,
                 clock: Callable[[], float] = time.time) -> None:
        if planner.file_only or planner.backend is None or planner.runtime is None:
            raise ChangeRefused("A staged rotation needs the running interface (it waits for a handshake); "
                                "use --now with --file-only.")
        self.planner = planner
        self.backend: Backend = planner.backend
        self.clock = clock
        self.timeout = timeout
        self.old = planner.resolve(query)
        if not (self.old.in_file and self.old.in_runtime):
            raise ChangeRefused("A staged rotation needs the peer both in the config file and on the running "
                                "interface (see the drift marks).")
        # The final plan is the same file change as an immediate rotation: shown as the preview up front.
        self.plan: Plan = planner.rotate_now(query, public_key=public_key, staged=True)
        self.new_key = self.plan.public_key
        self.client: ClientConfig | None = self.plan.client
        live = planner.runtime.peers[self.old.public_key]
        self.allowed_ips = live.allowed_ips
        self.psk = planner.psk_of(self.old.public_key)
        self.keepalive = live.persistent_keepalive
        self.stage = Stage.PLANNED
        self.started = 0.0
        self._lock: contextlib.ExitStack | None = None
        self.log: list[str] = []

    @property
    def label(self) -> str:
        return self.old.name or keys.short_key(self.old.public_key)

    def _note(self, text: str) -> None:
        self.log.append(f"{time.strftime('%H:%M:%S')} {text}")

    def start(self) -> Progress:
        stack = contextlib.ExitStack()
        try:
            stack.enter_context(locked(self.plan.config_path))
            check_unchanged(self.plan.config_path, self.plan.before_fingerprint)
            self.backend.apply(self.plan.ifname, [PeerUpdate(
                self.new_key, allowed_ips=(), preshared_key=self.psk if self.psk else KEEP,
                persistent_keepalive=self.keepalive)])
        except (StoreError, BackendError) as exc:
            stack.close()
            self.stage = Stage.FAILED
            return Progress(self.stage, f"Nothing was changed: {exc}")
        self._lock = stack
        self.started = self.clock()
        self.stage = Stage.WAITING
        self._note(f"added new key {keys.short_key(self.new_key)} without AllowedIPs; the old key still works")
        return Progress(self.stage, f"New key {keys.short_key(self.new_key)} added beside the old one. Give the "
                                    "client its new config; waiting for its first handshake.")

    def check(self) -> Progress:
        """Poll once: has the new key handshaken? Times out into a cancel."""
        waited = self.clock() - self.started
        if self.stage is not Stage.WAITING:
            return Progress(self.stage, self.stage.value, waited)
        try:
            peer = self.backend.read(self.plan.ifname).peers.get(self.new_key)
        except BackendError as exc:
            return Progress(self.stage, f"Cannot read {self.plan.ifname} ({exc}); still waiting.", waited)
        if peer is not None and peer.latest_handshake > 0:
            self._note("the new key has handshaken")
            return Progress(self.stage, "The new key has handshaken: ready to move the AllowedIPs.", waited, True)
        if waited >= self.timeout:
            result = self.cancel(f"no handshake from the new key within {int(self.timeout)} s")
            return Progress(self.stage, result.message, waited)
        return Progress(self.stage, f"Waiting for the new key's first handshake ({int(waited)} s of "
                                    f"{int(self.timeout)} s).", waited)

    def complete(self) -> ApplyResult:
        ifname = self.plan.ifname
        final = [PeerUpdate(self.new_key, allowed_ips=self.allowed_ips),
                 PeerUpdate(self.old.public_key, remove=True)]
        try:
            before = self.backend.read(ifname)
            undo = undo_updates(before, final, self.backend, ifname)
            self.backend.apply(ifname, final)
        except BackendError as exc:
            return self._finish(Stage.WAITING, ApplyResult(
                False, f"Moving the AllowedIPs to the new key failed ({exc}); the old key still has them and "
                       "the rotation is still waiting: retry or cancel."))
        self._note("moved the AllowedIPs to the new key and removed the old key")
        try:
            backup = replace_with_backup(self.plan.config_path, (self.plan.after or "").encode())
        except StoreError as exc:
            failed = None
            try:
                # Back to the old key with everything it had, and the new key gone: as before the rotation.
                self.backend.apply(ifname, [*undo, PeerUpdate(self.new_key, remove=True)])
            except BackendError as undo_exc:
                failed = str(undo_exc)
            msg = (f"The config file could not be written ({exc}), so the rotation was rolled back: the old key "
                   "is back with its AllowedIPs and the new key was removed.") if failed is None else (
                   f"DANGER: the config file could not be written ({exc}) and restoring the old key failed "
                   f"({failed}): check `wg show {ifname}`.")
            return self._finish(Stage.FAILED, ApplyResult(False, msg, tuple(self.log), rollback_failed=bool(failed)))
        self._note(f"wrote {self.plan.config_path}")
        return self._finish(Stage.DONE, ApplyResult(
            True, f"Done: {self.label} now uses key {keys.short_key(self.new_key)}; the old key was removed and "
                  f"{self.plan.config_path} updated (previous version: {backup}).", tuple(self.log), backup=backup,
            runtime_changed=True, file_changed=True))

    def cancel(self, why: str = "cancelled") -> ApplyResult:
        if self.stage is not Stage.WAITING:
            return ApplyResult(False, f"Nothing to cancel: the rotation is {self.stage.value}.")
        try:
            self.backend.apply(self.plan.ifname, [PeerUpdate(self.new_key, remove=True)])
        except BackendError as exc:
            return self._finish(Stage.FAILED, ApplyResult(
                False, f"Rotation {why}, but removing the new key failed ({exc}): remove "
                       f"{keys.short_key(self.new_key)} by hand. The old key was never touched.",
                rollback_failed=True))
        self._note(f"{why}: removed the new key")
        return self._finish(Stage.CANCELLED, ApplyResult(
            False, f"Rotation {why}: the new key was removed; {self.label} keeps its old key, which worked "
                   "throughout. The config file was not touched."))

    def _finish(self, stage: Stage, result: ApplyResult) -> ApplyResult:
        self.stage = stage
        if stage is not Stage.WAITING and self._lock is not None:
            self._lock.close()
            self._lock = None
        if stage is not Stage.WAITING:
            with contextlib.suppress(OSError):
                audit(self.plan.config_path.parent / AUDIT_LOG, {
                    "interface": self.plan.ifname, "action": "rotate-staged", "title": self.plan.title,
                    "ok": result.ok, "public_key": self.new_key, "old_public_key": self.old.public_key,
                    "config": str(self.plan.config_path), "message": result.message})
        return result
