"""Provides the change flows behind the dashboard's keys: ask → preview the diff → apply in a thread → report."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from rich.text import Text

from wgtui import fmt, keys
from wgtui.backends.base import BackendError
from wgtui.changes import ChangeRefused, Plan, Planner, transaction
from wgtui.changes.recovery import Recovery, recover
from wgtui.changes.sync import drift_of, plan_sync
from wgtui.changes.transaction import ApplyResult
from wgtui.client_config import ClientConfig, client_config_path
from wgtui.client_sync import check_saved
from wgtui.conf import ConfError
from wgtui.drift import file_peers
from wgtui.monitor import PeerRow
from wgtui.settings import ClientSettings
from wgtui.settings import load as load_settings
from wgtui.settings import save as save_settings
from wgtui.store import StoreError
from wgtui.ui.dialogs.client_config import ClientConfigScreen
from wgtui.ui.dialogs.confirm import ConfirmScreen, MessageScreen
from wgtui.ui.dialogs.diff_preview import Choice, DiffPreview
from wgtui.ui.dialogs.peer_form import FormValues, PeerForm, PeerRequest, form_context
from wgtui.ui.dialogs.sync import SyncScreen, drift_items
from wgtui.ui.disabled_rows import DISABLED_GLYPH, is_disabled
from wgtui.ui.flow_runner import FlowRunner
from wgtui.ui.operation_flows import OperationFlows
from wgtui.ui.rotation_flows import RotationFlows

if TYPE_CHECKING:
    from wgtui.ui.app import WgtuiApp


T = TypeVar("T")
R = TypeVar("R")
View = Callable[[T], tuple[Plan, Sequence[str] | None]]

REFUSALS = (ChangeRefused, ConfError, StoreError, BackendError)


def _constant(plan: Plan) -> Callable[[Planner], Plan]:
    return lambda _planner: plan


def _plain(plan: Plan) -> tuple[Plan, Sequence[str] | None]:
    return plan, None


def _planning(planner: Planner) -> Callable[[PeerRequest], Plan]:
    """The form's planner: its request worked out by this planner."""
    return lambda request: request.plan_on(planner)


Confirmed = tuple[T, Planner] | tuple[None, Planner]
"""What to apply (None: cancelled), and the planner it was worked out with."""


class Dashboard(Protocol):
    """What the flows need of the dashboard: given to ChangeFlows, never reached through the app."""

    select_when_seen: tuple[str, str] | None

    def row_of(self, ifname: str, key: str) -> PeerRow | None: ...

    def clear_marks(self, ifname: str) -> None: ...


class ChangeFlows(FlowRunner):
    """One change at a time, each a linear async flow in a worker: screens are awaited, blocking calls
    (planning, applying, rotation steps) run in thread workers, so the dashboard keeps updating."""

    refusals = REFUSALS

    def __init__(self, app: WgtuiApp, dashboard: Dashboard) -> None:
        super().__init__(app, app.key_order)
        self.app: WgtuiApp = app
        self.dashboard = dashboard
        self.lock = threading.Lock()
        """Held around every change the app makes (flows, rotation sessions, finishing rotations seen handshaking):
        the config's lock refuses a second holder at once, even another thread of this process."""
        self.rotations = RotationFlows(self)
        self.operations = OperationFlows(self)
        self.last_result: ApplyResult | None = None

    @property
    def config_dir(self) -> Path:
        return self.app.options.config_dir

    # -- entry points ----------------------------------------------------------------------------------------

    def add(self, ifname: str) -> None:
        self._start(self._form(ifname), "add")

    def edit(self, ifname: str, key: str) -> None:
        self._start(self._form(ifname, key), "edit")

    def remove(self, ifname: str, key: str) -> None:
        self._start(self._remove(ifname, key), "remove")

    def rotate(self, ifname: str, keys_: Sequence[str]) -> None:
        """One peer (staged, now or PSK), or several marked peers in one staged session."""
        self._start(self.rotations.rotate(ifname, keys_), "rotate")

    def pending_rotations(self, ifname: str) -> None:
        self._start(self.rotations.pending(ifname), "pending-rotations")

    def handshaken(self, ifname: str, pairs: Sequence[tuple[str, str]]) -> None:
        """New keys of pending rotations that the monitor saw handshake: finished in the background."""
        self.rotations.finish_seen(ifname, pairs)

    def sync(self, ifname: str) -> None:
        self._start(self._sync(ifname), "sync")

    def client_config(self, ifname: str, key: str, name: str) -> None:
        self._start(self._client_config(ifname, key, name), "client-config")

    def disable(self, ifname: str, key: str) -> None:
        self._start(self.operations.disable(ifname, key), "disable")

    def enable(self, ifname: str, key: str) -> None:
        self._start(self.operations.enable(ifname, key), "enable")

    def undo(self, ifname: str) -> None:
        self._start(self.operations.undo(ifname), "undo")

    def init(self, ifname: str) -> None:
        self._start(self.operations.write_config(ifname), "init")

    def shutdown(self) -> None:
        """wgtui is closing: nothing is cancelled. A staged rotation still waiting stays pending in the file and on
        the interface (its old key keeps working), to be finished by any later wgtui."""
        self.rotations.shutdown()

    def recover_interrupted(self, configs: list[Path], read_only: bool) -> None:
        """At start: complete or undo changes that a kill -9 or a crash interrupted (read-only: only say so)."""
        self._start(self._recover(configs, read_only), "recover", asked=False)

    # -- helpers ---------------------------------------------------------------------------------------------

    def locked(self, fn: Callable[[], R]) -> R:
        """Blocking: `fn` while holding the app's change lock (one change at a time, whoever starts it)."""
        with self.lock:
            return fn()

    def planner_now(self, ifname: str) -> Planner:
        """Blocking: a planner on the file and the interface as they are now."""
        path = self.config_dir / f"{ifname}.conf"
        settings = load_settings(self.config_dir, ifname)
        try:
            return Planner(ifname, path, self.app.backend, client_settings=settings, clock=self.app.clock)
        except ConfError as exc:
            raise ChangeRefused(f"{path}: {exc}") from None

    async def planner(self, ifname: str) -> Planner:
        """A planner for a change of `ifname`. Where the interface has no config file, wgtui init is offered first
        (its file previewed, keys masked) instead of a refusal: ChangeRefused only if that is declined or refused."""
        path = self.config_dir / f"{ifname}.conf"
        exists = await self.thread(lambda: os.path.lexists(path), "config-exists")
        if not exists and not await self.operations.init(ifname, before_change=True):
            raise ChangeRefused(f"Nothing was changed: {ifname} has no config file ({path}), and wgtui changes a peer "
                                "in the file and on the interface together.")
        return await self.thread(lambda: self.planner_now(ifname), "planner")

    def select(self, ifname: str, key: str) -> None:
        self.dashboard.select_when_seen = (ifname, key)

    async def _recover(self, configs: list[Path], read_only: bool) -> None:
        for config in configs:
            if read_only:
                self.app.notify(f"An interrupted change to {config} is waiting; wgtui --read-only leaves it: run "
                                f"`wgtui peer recover {config.stem}`.", title="Interrupted change",
                                severity="warning", markup=False, timeout=20)
                continue
            done: Recovery = await self.thread(
                lambda c=config: self.locked(lambda: recover(c, self.app.backend)),  # type: ignore[misc]
                "recover")
            self.app.notify(done.message, title="Interrupted change" if done.ok else "Not recovered",
                            severity="information" if done.ok else "error", markup=False, timeout=20)
        if configs:
            self.app.monitor.refresh()

    async def report(self, result: ApplyResult) -> None:
        self.last_result = result
        self.app.monitor.refresh()
        if result.ok:
            self.app.notify(result.message, title="Applied", markup=False, timeout=8)
            return
        body = Text(result.message + "\n")
        for step in result.steps:
            body.append(f"\n  • {step}", style="dim")
        title = "DANGER: the rollback failed" if result.rollback_failed else "Not applied"
        await self.app.push_screen_wait(MessageScreen(title, body, severity="error"))

    async def confirm(self, planner: Planner, make: Callable[[Planner], T], view: View[T], *,
                       first: T | None = None, apply_label: str = "Apply", offer: bool = True,
                       cancel_label: str = "Cancel", quiet: bool = False) -> Confirmed[T]:
        """Preview until the user applies or cancels: (what to apply or None, the planner it was made with). Turning
        SaveConfig off first is a change of its own (previewed and applied the same way); the asked change is then
        worked out again on the new file, by a new planner. `quiet`: a cancel is the caller's to report."""
        item = first if first is not None else await self.thread(lambda: make(planner), "plan")
        while True:
            plan, steps = view(item)
            choice = await self.app.push_screen_wait(DiffPreview(
                plan, apply_label=apply_label, offer_save_config_off=offer and planner.doc.save_config, steps=steps,
                cancel_label=cancel_label))
            if choice is Choice.APPLY:
                return item, planner
            if choice is not Choice.SAVE_CONFIG_OFF:
                if not quiet:
                    self.cancelled()
                return None, planner
            off = planner.disable_save_config()
            if await self.preview_apply(planner, _constant(off), first=off, offer=False) is None:
                continue  # nothing was written: back to the change's own preview
            planner = await self.planner(planner.ifname)
            item = await self.thread(lambda p=planner: make(p), "plan")  # type: ignore[misc]

    async def apply(self, plan: Plan) -> Plan | None:
        """Apply in a thread and report. The applied plan, or None."""
        result = await self.thread(lambda: self.locked(lambda: transaction.run(plan, self.app.backend)), "apply")
        await self.report(result)
        return plan if result.ok and self.app.stopped_by is None else None

    async def preview_apply(self, planner: Planner, make: Callable[[Planner], Plan], *, first: Plan | None = None,
                             offer: bool = True, apply_label: str = "Apply") -> Plan | None:
        """Preview, then apply in a thread and report. The applied plan, or None."""
        plan, _planner = await self.confirm(planner, make, _plain, first=first, offer=offer, apply_label=apply_label)
        return None if plan is None else await self.apply(plan)

    def client_screen(self, plan: Plan, client: ClientConfig) -> ClientConfigScreen:
        name = plan.peer_name or keys.short_key(plan.public_key)
        path = plan.client_path or client_config_path(self.config_dir, plan.ifname, plan.peer_name)
        return ClientConfigScreen.for_config(client, title=f"Client config for {name} ({plan.ifname})", save_to=path,
                                             saved=plan.client_path if plan.writes_client else None)

    # -- the flows -------------------------------------------------------------------------------------------

    async def _form(self, ifname: str, key: str | None = None) -> None:
        """The form, its preview, and back to the form with everything typed when the preview is cancelled."""
        planner = await self.planner(ifname)
        context = await self.thread(lambda: form_context(planner, key), "form-context")
        values: FormValues | None = None
        while True:
            answer = await self.app.push_screen_wait(PeerForm(context, planner.settings, values,
                                                              plan=_planning(planner)))
            if answer is None:
                return self.cancelled()
            chosen, used = await self.confirm(planner, answer.request.plan_on, _plain, first=answer.plan,
                                              cancel_label="Back to the form", quiet=True)
            if chosen is not None:
                break
            values = answer.values
            if used is not planner:  # SaveConfig was turned off meanwhile: the form works on the new file
                planner = used
                context = await self.thread(lambda p=used: form_context(p, key), "form-context")  # type: ignore[misc]
        plan = await self.apply(chosen)
        if plan is None or key is not None:
            return
        if answer.settings is not None:
            await self._remember(ifname, answer.settings)
        self.select(ifname, plan.public_key)
        if plan.client is not None:
            await self.app.push_screen_wait(self.client_screen(plan, plan.client))

    async def _sync(self, ifname: str) -> None:
        planner = await self.planner(ifname)
        drift = await self.thread(lambda: drift_of(planner), "drift")
        if not drift:
            self.app.notify(f"{ifname} and its config file agree: nothing to sync.", timeout=4)
            return
        live = planner.runtime.peers if planner.runtime is not None else {}
        items = drift_items(drift, planner.doc.names, live, file_peers(planner.doc))
        sides = await self.app.push_screen_wait(SyncScreen(ifname, items))
        if sides is None:
            return self.cancelled()
        await self.preview_apply(planner, lambda p: plan_sync(p, sides))

    async def _remember(self, ifname: str, settings: ClientSettings) -> None:
        try:
            await self.thread(lambda: save_settings(self.config_dir, ifname, settings), "settings")
        except (StoreError, OSError) as exc:
            self.app.notify(f"The server endpoint was not remembered: {exc}", severity="warning", markup=False)

    async def _remove(self, ifname: str, key: str) -> None:
        planner = await self.planner(ifname)
        peer = planner.resolve(key)
        label = peer.name or keys.short_key(peer.public_key)
        body = Text()
        for field, value in (("name", peer.name or "(none)"), ("public key", peer.public_key),
                             ("allowed IPs", ", ".join(peer.allowed_ips) or "(none)"),
                             ("in the file", "yes" if peer.in_file else "no"),
                             ("on the interface", "yes" if peer.in_runtime else "no")):
            body.append(f"{field:>17}  ", style="dim")
            body.append(f"{value}\n")
        row = self.dashboard.row_of(ifname, key)
        if row is not None and not is_disabled(row):
            body.append(f"{'state':>17}  ", style="dim")
            body.append(f"{fmt.STATUS_GLYPH[row.status]} {row.status.value}, handshake "
                        f"{fmt.handshake_ago(row.peer.latest_handshake, self.app.clock())}\n")
        elif row is not None:
            body.append(f"{'state':>17}  ", style="dim")
            body.append(f"{DISABLED_GLYPH} disabled\n")
        body.append("\nIts client loses the tunnel at once. The diff comes next; nothing changes before you "
                    "apply it.", style="yellow")
        if not await self.app.push_screen_wait(ConfirmScreen(f"Remove {label} from {ifname}?", body, yes="Remove",
                                                             danger=True)):
            return self.cancelled()
        await self.preview_apply(planner, lambda p: p.remove(key))

    async def _client_config(self, ifname: str, key: str, name: str) -> None:
        path, text, warnings = await self.thread(
            lambda: check_saved(self.config_dir, ifname, key, name, self.app.backend), "client-config")
        label = name or keys.short_key(key)
        if text is None:
            body = Text(f"wgtui has no client config for {label}: it looked for {path}.\n\nThe server never knows a "
                        "client's private key, so wgtui can show a client config only when it generated the key pair "
                        "(add or rotate) and the config was saved. To give this client a new config, rotate its key "
                        "(r).")
            for warning in warnings:
                body.append(f"\n\n{warning}", style="yellow")
            await self.app.push_screen_wait(MessageScreen("No saved client config", body, severity="warning"))
            return
        await self.app.push_screen_wait(ClientConfigScreen(
            text, title=f"Client config for {label} ({ifname}), saved", warnings=warnings, saved=path,
            intro=f"Read from {path}."))


def interrupted_configs(config_dir: Path) -> list[Path]:
    """The config files in `config_dir` with the journal of an interrupted change beside them."""
    suffix = ".wgtui-journal"
    try:
        names = sorted(n for n in os.listdir(config_dir) if n.startswith(".") and n.endswith(".conf" + suffix))
    except OSError:
        return []
    return [config_dir / n[1:-len(suffix)] for n in names]
