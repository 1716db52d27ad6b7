"""Provides the key rotation flows: how to rotate, staged sessions of one peer or many, and pending rotations."""

# A staged rotation outlives the screen that started it: it is written in the file and on the interface, so
# leaving the session (or quitting wgtui) keeps it pending, `R` reopens it, and whoever sees the new key handshake
# first finishes it — the open session, this dashboard's monitor, a later dashboard or the command line.

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from wgtui import keys
from wgtui.backends.base import Backend
from wgtui.changes import ChangeRefused, Plan, Planner
from wgtui.changes.rotation import RotationSession, StagedRotation, Step
from wgtui.changes.rotation_plans import pending_rotations
from wgtui.changes.transaction import ApplyResult
from wgtui.client_config import client_config_path
from wgtui.client_sync import check_saved, owned_text
from wgtui.ui.dialogs.client_config import ClientConfigScreen
from wgtui.ui.dialogs.form_context import REFUSALS
from wgtui.ui.dialogs.rotate_choice import Mode, RotateChoice
from wgtui.ui.dialogs.rotation_session import PENDING, RotationSessionScreen, SavedClient

if TYPE_CHECKING:
    from wgtui.ui.flows import ChangeFlows

log = logging.getLogger(__name__)

FINISH_RETRY = 30.0
"""Seconds before finishing a rotation seen handshaking is tried again after it was refused (the row of a busy
client changes every poll: without a pause every poll would build a planner and fail the same way)."""


def listed(labels: Sequence[str], most: int = 3) -> str:
    """`alice, bob and carol`, `alice, bob, carol and 4 more`."""
    if len(labels) <= most:
        return " and ".join([", ".join(labels[:-1]), labels[-1]]) if len(labels) > 1 else "".join(labels)
    return f"{', '.join(labels[:most])} and {len(labels) - most} more"


def session_view(session: RotationSession) -> tuple[Plan, list[str]]:
    """The start plan of a staged session, described as what happens now and what happens later, peer by peer."""
    assert session.plan is not None
    rotations = session.rotations
    timeout = int(rotations[0].timeout) if rotations else 0
    if len(rotations) == 1:
        r = rotations[0]
        new, old = keys.short_key(r.new_key), keys.short_key(r.old_key)
        return session.plan, [
            f"now: add peer {new} without allowed IPs (keepalive and preshared key carried over), to the interface "
            "and to the file below: the rotation is pending and survives this session",
            f"then: give the client its new config (saved first, 0600); nobody is cut off while {new} waits for its "
            f"first handshake (watched here for {timeout} s, finished later by any wgtui that sees it)",
            f"once {new} has handshaken: peer {new} allowed-ips {', '.join(r.allowed_ips) or '(none)'} (taken from "
            f"{old} in one step), remove peer {old}; the file's block of {r.label} gets the new key",
        ]
    lines = ["now, each new key beside its old one without allowed IPs (keepalive and preshared key carried over), "
             "to the interface and to the file below, in one change:"]
    lines += [f"  {r.label}: add peer {keys.short_key(r.new_key)} (replaces {keys.short_key(r.old_key)}, "
              f"{', '.join(r.allowed_ips) or 'no allowed IPs'})" for r in rotations]
    lines += ["then: give each client its new config (each saved first, 0600, in the clients directory); nobody is "
              "cut off meanwhile, and the rotations stay pending in the file until each new key handshakes",
              "as each new key first handshakes: its peer's allowed IPs move to it in one step, the old key is "
              "removed, and the file's block gets the new key"]
    return session.plan, lines


class SavedClients:
    """The session's client configs on disk, where the start plan saved them (CONFIG_DIR/clients/IF-NAME.conf)."""

    def __init__(self, config_dir: Path, backend: Backend) -> None:
        self.config_dir = config_dir
        self.backend = backend

    def _find(self, rotation: StagedRotation) -> tuple[Path, str]:
        """The saved config of the rotation's new key, and the name its path was made from.

        A session that started here knows the path; a resumed one only knows how the start plan names it: after
        the pending block (`NAME-next`, shortened for restricted name conventions) or after the old key when the
        peer has no name. The first of those that holds the new key's private key is the one."""
        who = rotation.pending.name or keys.short_key(rotation.old_key)
        names = [f"{who}-next", f"{who[:10]}-next", who]
        paths = [(client_config_path(self.config_dir, rotation.ifname, n), n) for n in names]
        if rotation.client_path is not None:
            paths.insert(0, (rotation.client_path, rotation.client_path.stem.removeprefix(f"{rotation.ifname}-")))
        for path, name in paths:
            if owned_text(path, rotation.new_key) is not None:
                return path, name
        return paths[0]

    def exists(self, rotation: StagedRotation) -> bool:
        path, _name = self._find(rotation)
        return owned_text(path, rotation.new_key) is not None

    def read(self, rotation: StagedRotation) -> SavedClient:
        _path, name = self._find(rotation)
        path, text, warnings = check_saved(self.config_dir, rotation.ifname, rotation.new_key, name, self.backend)
        return SavedClient(path, text, tuple(warnings))


class RotationFlows:
    """The rotation half of ChangeFlows (its helpers, lock and app are shared)."""

    def __init__(self, flows: ChangeFlows) -> None:
        self.flows = flows
        self.app = flows.app
        self.watching: tuple[RotationSession, ...] = ()
        """Sessions on screen. Replaced, never mutated: thread workers read it while the UI thread changes it."""
        self.finishing: set[str] = set()
        """Old keys whose rotation a background flow is finishing now: never twice at once."""
        self.finished: set[tuple[str, str]] = set()
        """(old, new) pairs finished or found finished: the file's comment lingers until the next config read."""
        self.retry_at: dict[str, float] = {}
        self.warned: set[str] = set()
        """Old keys whose refusal was already said: retried quietly every FINISH_RETRY seconds after that."""

    # -- choosing --------------------------------------------------------------------------------------------

    async def rotate(self, ifname: str, queries: Sequence[str]) -> None:
        flows = self.flows
        planner = await flows.planner(ifname)
        peers = [planner.resolve(q) for q in queries]
        labels = [p.name or keys.short_key(p.public_key) for p in peers]
        request = await self.app.push_screen_wait(RotateChoice(listed(labels), ifname, peers=len(peers)))
        if request is None:
            return flows.cancelled()
        if request.mode is Mode.STAGED:
            await self.staged(planner, [p.public_key for p in peers], request.public_key)
            return
        key, label = peers[0].public_key, labels[0]
        if request.mode is Mode.PSK:
            plan = await flows.preview_apply(planner, lambda p: p.rotate_psk(key))
            if plan is not None and plan.client is not None and plan.client.preshared_key:
                await self.app.push_screen_wait(ClientConfigScreen(
                    f"PresharedKey = {plan.client.preshared_key}\n", title=f"New preshared key for {label}",
                    qr=False, intro=f"Put this line in the [Peer] section of {label}'s client config, replacing "
                                    "its PresharedKey. Handshakes fail until the client has it."))
            return
        new_key = request.public_key
        plan = await flows.preview_apply(planner, lambda p: p.rotate_now(key, public_key=new_key))
        if plan is not None:
            flows.select(ifname, plan.public_key)
            if plan.client is not None:
                await self.app.push_screen_wait(flows.client_screen(plan, plan.client))

    # -- staged sessions -------------------------------------------------------------------------------------

    async def staged(self, planner: Planner, queries: Sequence[str], new_key: str | None) -> None:
        """Plan → preview → start (one change for every peer) → the session screen, first client config on top."""
        flows = self.flows
        timeout = planner.settings.handshake_timeout

        def make(p: Planner) -> RotationSession:
            return RotationSession.new(p, list(queries), public_key=new_key, timeout=timeout, clock=self.app.clock)

        session, _planner = await flows.confirm(planner, make, session_view, apply_label="Start rotation")
        if session is None:
            return
        result = await flows.thread(lambda: self._start(session), "rotation-start")
        flows.last_result = result
        if not result.ok or self.app.stopped_by is not None:
            await flows.report(result)
            return
        self.flows.dashboard.clear_marks(session.ifname)
        self.app.monitor.refresh()
        await self.watch(session, show_first_client=True)
        if len(session.rotations) == 1 and session.rotations[0].step is Step.DONE:
            flows.select(session.ifname, session.rotations[0].new_key)

    def _start(self, session: RotationSession) -> ApplyResult:
        with self.flows.lock:
            result = session.start()
            if result.ok:
                # Registered under the lock: a background finish checks it under the lock too.
                self.watching = (*self.watching, session)
            return result

    async def pending(self, ifname: str) -> None:
        """The rotations pending in the file of `ifname` (started by this dashboard, another one or the command
        line), on the session screen."""
        session = await self.flows.thread(lambda: self._resume(ifname), "rotation-resume")
        if not session.rotations:
            self.app.notify(f"No rotation is pending on {ifname}.", timeout=4)
            return
        await self.watch(session, show_first_client=False)

    def _resume(self, ifname: str) -> RotationSession:
        with self.flows.lock:
            planner = self.flows.planner_now(ifname)
            session = RotationSession.resume(planner, timeout=planner.settings.handshake_timeout,
                                             clock=self.app.clock)
            if session.rotations:
                self.watching = (*self.watching, session)
            return session

    async def watch(self, session: RotationSession, *, show_first_client: bool) -> None:
        clients = SavedClients(self.flows.config_dir, self.app.backend)
        try:
            await self.app.push_screen_wait(RotationSessionScreen(session, lock=self.flows.lock, clients=clients,
                                                                  show_first_client=show_first_client))
        finally:
            self.watching = tuple(s for s in self.watching if s is not session)
            self.app.monitor.refresh()

    def watched(self, old_key: str) -> bool:
        """Whether a session on screen is waiting for this rotation (it finishes it itself, ten times faster)."""
        return any(r.old_key == old_key and r.step in (Step.WAITING, Step.HANDSHAKEN)
                   for s in self.watching for r in s.rotations)

    def shutdown(self) -> None:
        for session in self.watching:
            for rotation in session.rotations:
                if rotation.step in PENDING:
                    log.warning("%s", rotation.resume_hint())

    # -- finished by whoever sees the handshake --------------------------------------------------------------

    def finish_seen(self, ifname: str, pairs: Sequence[tuple[str, str]]) -> None:
        """The monitor saw these new keys of pending rotations handshake: finish each in the background (not with
        --read-only, which only shows them; not twice at once; not one a session on screen is watching)."""
        if self.app.options.read_only:
            return
        now = time.monotonic()
        for old, new in pairs:
            if (old in self.finishing or (old, new) in self.finished or self.retry_at.get(old, 0.0) > now
                    or self.watched(old)):
                continue
            self.finishing.add(old)
            self.app.run_worker(self._finish_seen(ifname, old, new), name="rotation-finish",
                                group="rotation-finish", exit_on_error=False)

    async def _finish_seen(self, ifname: str, old: str, new: str) -> None:
        try:
            rotation = await self.flows.thread(lambda: self._finish(ifname, old, new), "rotation-finish")
        except REFUSALS as exc:
            self._refused(old, f"The new key of a rotation on {ifname} has handshaken, but finishing it was refused: "
                               f"{exc}")
            return
        except Exception as exc:
            log.exception("finishing a rotation seen handshaking")
            self._refused(old, f"Unexpected error while finishing a rotation on {ifname}: {exc!r}")
            return
        finally:
            self.finishing.discard(old)
        if rotation is None or rotation.step is Step.DONE:
            self.finished.add((old, new))
        if rotation is None:
            return  # no longer pending: another session finished or cancelled it
        if rotation.step is Step.DONE:
            self.app.notify(f"{rotation.label} on {ifname} now uses its new key {keys.short_key(new)}: it handshook, "
                            f"so its allowed IPs moved to it and the old key {keys.short_key(old)} was removed "
                            "(interface and file).", title="Rotation finished", markup=False, timeout=10)
            self.app.monitor.refresh()
        elif rotation.step is Step.BLOCKED:
            self._refused(old, rotation.message)

    def _refused(self, old: str, message: str) -> None:
        self.retry_at[old] = time.monotonic() + FINISH_RETRY
        if old not in self.warned:
            self.warned.add(old)
            self.app.notify(message, title="Rotation not finished", severity="error", markup=False, timeout=15)

    def _finish(self, ifname: str, old: str, new: str) -> StagedRotation | None:
        """Blocking, under the change lock: the rotation as the file has it now, finished if its new key has
        handshaken. None when it is no longer pending (or a session on screen has it)."""
        with self.flows.lock:
            if self.watched(old):
                return None
            planner = self.flows.planner_now(ifname)
            pending = pending_rotations(planner).get(old)
            if pending is None or pending.new_key != new:
                return None
            try:
                session = RotationSession.resume(planner, [old], timeout=planner.settings.handshake_timeout,
                                                 clock=self.app.clock)
            except ChangeRefused:
                return None
            session.poll()
            return session.rotations[0]
