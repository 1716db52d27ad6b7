"""Provides the change flows of a remote host's dashboard: the local dialogs, the plans made and applied there."""

# The same keys lead to the same screens as locally — the peer form (filled from the agent's facts, so it refuses
# what the host would), the diff preview (the agent's diff, its title naming the host), the confirmations, the
# rotation choice, the client config with its QR code — but nothing is worked out here: each change is sent to the
# host's agent as the command line `wgtui peer` would take, planned there, and applied there by the same
# transaction as a local run. A plan left unapplied is discarded there.

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.app import App

from wgtui import fmt, keys
from wgtui.model import Unchanged
from wgtui.remote.changes import RemoteChanges, RemotePlan, RemoteResult
from wgtui.ui.dialogs.client_config import ClientConfigScreen
from wgtui.ui.dialogs.confirm import ConfirmScreen, MessageScreen
from wgtui.ui.dialogs.diff_preview import Choice, DiffPreview
from wgtui.ui.dialogs.form_context import REFUSALS, FormValues, PeerRequest, context_from_json
from wgtui.ui.dialogs.new_expiry import new_expiry_if_expired
from wgtui.ui.dialogs.peer_form import PeerForm
from wgtui.ui.dialogs.rotate_choice import Mode, RotateChoice
from wgtui.ui.disabled_rows import is_disabled
from wgtui.ui.flow_runner import FlowRunner
from wgtui.ui.flows import Dashboard
from wgtui.ui.key_order import KeyOrder
from wgtui.ui.rotation_flows import listed


class RemoteFlows(FlowRunner):
    """One change at a time on one host, each a linear flow in a worker; every call to the host runs in a thread
    worker, so the fleet view and the dashboard keep updating meanwhile."""

    refusals = REFUSALS
    worker_prefix = "remote"

    def __init__(self, app: App[None], dashboard: Dashboard, changes: RemoteChanges, *,
                 refresh: Callable[[], None], clock: Callable[[], float], key_order: KeyOrder | None = None) -> None:
        super().__init__(app, key_order)
        self.clock = clock
        self.dashboard = dashboard
        self.changes = changes
        self.host = changes.host.name
        self.refresh = refresh
        """Ask the fleet for a tick now (a change was applied: the dashboard shows it at once)."""
        self.last_result: RemoteResult | None = None

    # -- entry points ----------------------------------------------------------------------------------------

    def add(self, ifname: str) -> None:
        self._start(self._form(ifname), "add")

    def edit(self, ifname: str, key: str) -> None:
        self._start(self._form(ifname, key), "edit")

    def remove(self, ifname: str, key: str) -> None:
        self._start(self._remove(ifname, key), "remove")

    def disable(self, ifname: str, key: str) -> None:
        self._start(self._simple(["disable", ifname, key], "Disable"), "disable")

    def enable(self, ifname: str, key: str) -> None:
        self._start(self._enable(ifname, key), "enable")

    def undo(self, ifname: str) -> None:
        self._start(self._simple(["undo", ifname], "Undo"), "undo")

    def rotate(self, ifname: str, keys_: Sequence[str]) -> None:
        self._start(self._rotate(ifname, keys_), "rotate")

    def pending_rotations(self, ifname: str) -> None:
        self._start(self._pending(ifname), "pending-rotations")

    def sync(self, ifname: str) -> None:
        self.elsewhere(f"Drift on {self.host} is resolved from the command line, peer by peer with a preview: "
                       f"`wgtui peer sync {ifname} --host {self.host}`.")

    def client_config(self, ifname: str, key: str, name: str) -> None:
        self.elsewhere(f"The client configs wgtui saved are kept on {self.host} (their private keys do not leave "
                       f"it unasked): run `wgtui peer qr {ifname} {name or key}` there.")

    def init(self, ifname: str) -> None:
        self.elsewhere(f"Writing {ifname}.conf on {self.host} from its running interface: run `wgtui init {ifname}` "
                       "there (previewed, never over a file).")

    def elsewhere(self, sentence: str) -> None:
        """A change the remote dashboard leaves to the command line: the sentence says which command does it."""
        self.app.notify(sentence, title="Not from the fleet view", severity="warning", timeout=10, markup=False)

    @property
    def refused_title(self) -> str:
        return f"Not possible on {self.host}"

    # -- helpers ---------------------------------------------------------------------------------------------

    def select(self, ifname: str, key: str) -> None:
        self.dashboard.select_when_seen = (ifname, key)

    def label(self, ifname: str, key: str) -> str:
        row = self.dashboard.row_of(ifname, key)
        return row.name if row is not None and row.name else keys.short_key(key)

    async def plan(self, argv: list[str]) -> RemotePlan:
        return await self.thread(lambda: self.changes.plan(argv), "remote-plan")

    async def confirm(self, plan: RemotePlan, *, apply_label: str = "Apply", cancel_label: str = "Cancel",
                      quiet: bool = False) -> bool:
        """The agent's plan in the diff preview: True to apply it; else it is discarded there."""
        choice = await self.app.push_screen_wait(DiffPreview(plan, steps=plan.runtime, apply_label=apply_label,
                                                             cancel_label=cancel_label))
        if choice is Choice.APPLY:
            return True
        self.app.run_worker(lambda: self.changes.discard(plan), thread=True, group="remote-discard",
                            exit_on_error=False)
        if not quiet:
            self.cancelled()
        return False

    async def apply(self, plan: RemotePlan) -> RemoteResult | None:
        """Applied there, in a thread; the result said as the agent said it. The result when applied, else None."""
        result = await self.thread(lambda: self.changes.apply(plan), "remote-apply")
        self.last_result = result
        self.refresh()
        if result.applied:
            self.app.notify(result.message, title=f"Applied on {self.host}", markup=False, timeout=8)
            return result
        body = Text(result.message + "\n")
        for step in result.steps:
            body.append(f"\n  • {step}", style="dim")
        title = (f"DANGER on {self.host}: the rollback failed" if result.rollback_failed
                 else f"Not applied on {self.host}")
        await self.app.push_screen_wait(MessageScreen(title, body, severity="error"))
        return None

    async def show_client(self, result: RemoteResult, label: str, ifname: str) -> None:
        if not result.client_text:
            return
        where = result.client_config[0] if result.client_config else None
        intro = (f"Saved on {self.host} as {where} (mode 0600) before the change was applied. Give it to the "
                 "client: scan the QR code or copy the text." if where else
                 "Give this to the client: scan the QR code or copy the text.")
        await self.app.push_screen_wait(ClientConfigScreen(
            result.client_text, title=f"Client config for {label} ({ifname} on {self.host})", intro=intro))

    # -- the flows -------------------------------------------------------------------------------------------

    async def _form(self, ifname: str, key: str | None = None) -> None:
        """The form (filled from the host's own facts), the agent's preview, and back to the form with everything
        typed when the preview is cancelled."""
        data = await self.thread(lambda: self.changes.context(ifname, key), "remote-context")
        context, settings = context_from_json(data, self.host)

        def planned(request: PeerRequest) -> RemotePlan:
            return self.changes.plan(request.argv(ifname, settings.endpoint))

        values: FormValues | None = None
        while True:
            answer = await self.app.push_screen_wait(PeerForm(context, settings, values, plan=planned))
            if answer is None:
                return self.cancelled()
            if await self.confirm(answer.plan, cancel_label="Back to the form", quiet=True):
                break
            values = answer.values
        result = await self.apply(answer.plan)
        if result is None or key is not None:
            return
        if answer.plan.public_key:
            self.select(ifname, answer.plan.public_key)
        await self.show_client(result, answer.request.name, ifname)

    async def _remove(self, ifname: str, key: str) -> None:
        row = self.dashboard.row_of(ifname, key)
        label = self.label(ifname, key)
        body = Text()
        facts = [("host", self.host), ("name", row.name if row is not None and row.name else "(none)"),
                 ("public key", key)]
        if row is not None:
            facts.append(("allowed IPs", ", ".join(row.peer.allowed_ips) or "(none)"))
            facts.append(("state", "disabled" if is_disabled(row) else
                          f"{fmt.STATUS_GLYPH[row.status]} {row.status.value}, handshake "
                          f"{fmt.handshake_ago(row.peer.latest_handshake, self.clock())}"))
        for field, value in facts:
            body.append(f"{field:>17}  ", style="dim")
            body.append(f"{value}\n")
        body.append("\nIts client loses the tunnel at once. The diff comes next; nothing changes before you "
                    "apply it.", style="yellow")
        if not await self.app.push_screen_wait(ConfirmScreen(f"Remove {label} from {ifname} on {self.host}?", body,
                                                             yes="Remove", danger=True)):
            return self.cancelled()
        plan = await self.plan(["remove", ifname, key])
        if await self.confirm(plan):
            await self.apply(plan)

    async def _simple(self, argv: list[str], apply_label: str, *, select: tuple[str, str] | None = None) -> None:
        """Disable, enable, undo: planned there (a refusal is the agent's sentence), previewed, applied."""
        plan = await self.plan(argv)
        if await self.confirm(plan, apply_label=apply_label) and await self.apply(plan) is not None and select:
            self.select(*select)

    async def _enable(self, ifname: str, key: str) -> None:
        # As locally: an expired peer gets a new expiry (or none) asked first. The row's meta is the host's (its
        # expiry instant, as the agent worked it out), so "expired" means what the host's agent would enforce.
        expires = await new_expiry_if_expired(self.app, self.dashboard.row_of(ifname, key), self.clock(),
                                              self.clock)
        if expires is None:
            return self.cancelled()
        given = [] if isinstance(expires, Unchanged) else [f"--expires={expires}"]
        await self._simple(["enable", ifname, key, *given], "Enable", select=(ifname, key))

    async def _rotate(self, ifname: str, queries: Sequence[str]) -> None:
        labels = [self.label(ifname, q) for q in queries]
        request = await self.app.push_screen_wait(RotateChoice(listed(labels), f"{ifname} on {self.host}",
                                                               peers=len(queries)))
        if request is None:
            return self.cancelled()
        new_key = [f"--public-key={request.public_key}"] if request.public_key else []
        if request.mode is Mode.STAGED:
            # --no-wait: the rotation stays staged there, and the fleet finishes it once the new key handshakes.
            plan = await self.plan(["rotate", ifname, *queries, "--no-wait", *new_key])
            if not await self.confirm(plan, apply_label="Start rotation"):
                return
            result = await self.apply(plan)
            if result is not None:
                self.dashboard.clear_marks(ifname)
                await self._staged(result, ifname)
            return
        mode = "--now" if request.mode is Mode.NOW else "--psk"
        plan = await self.plan(["rotate", ifname, queries[0], mode, *new_key])
        if not await self.confirm(plan):
            return
        result = await self.apply(plan)
        if result is None:
            return
        if request.mode is Mode.NOW:
            if plan.public_key:
                self.select(ifname, plan.public_key)
            await self.show_client(result, labels[0], ifname)
            return
        saved = ", ".join(result.client_config)
        await self.app.push_screen_wait(MessageScreen(
            f"New preshared key for {labels[0]} on {self.host}", Text(
                "The client needs the new preshared key: handshakes fail until it has it. "
                + (f"Its saved client config on {self.host} was updated: {saved}." if saved else
                   f"wgtui kept no client config for it on {self.host}: `wgtui show` there shows none; give the "
                   "client the key by the way it got its config.")),
            severity="warning"))

    async def _staged(self, result: RemoteResult, ifname: str) -> None:
        rotations = (result.session or {}).get("rotations", [])
        body = Text()
        for r in rotations:
            who = r.get("name") or keys.short_key(r.get("old_public_key"))
            body.append(f"{who}: ", style="bold")
            body.append(f"{keys.short_key(r.get('old_public_key'))} → {keys.short_key(r.get('new_public_key'))}")
            if r.get("client_config"):
                body.append(f"; the new client config (its private key, 0600) is on {self.host} at "
                            f"{r['client_config']}")
            body.append("\n")
        body.append(f"\nThe old keys keep working until each client uses its new config. The fleet view finishes "
                    f"each rotation as soon as its new key handshakes (R lists them; `wgtui peer rotate {ifname} "
                    f"PEER --cancel --host {self.host}` cancels one).", style="dim")
        await self.app.push_screen_wait(MessageScreen(f"Rotation staged on {self.host}", body,
                                                      severity="information"))

    async def _pending(self, ifname: str) -> None:
        rotations = await self.thread(lambda: self.changes.pending(ifname), "remote-pending")
        if not rotations:
            self.app.notify(f"No rotation is pending on {ifname} on {self.host}.", timeout=4)
            return
        body = Text()
        for r in rotations:
            body.append(f"{r.get('name') or keys.short_key(r.get('old_public_key'))}: ", style="bold")
            body.append(f"{keys.short_key(r.get('old_public_key'))} → {keys.short_key(r.get('new_public_key'))}, "
                        f"{r.get('state')}\n")
        body.append(f"\nThe fleet view finishes each as soon as its new key handshakes. `wgtui peer rotate {ifname} "
                    f"PEER --cancel --host {self.host}` cancels one.", style="dim")
        await self.app.push_screen_wait(MessageScreen(f"Pending rotations on {ifname} on {self.host}", body,
                                                      severity="information"))
