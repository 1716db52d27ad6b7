"""Provides the everyday operations' flows: disable / enable a peer, undo the last change, and init a config file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from wgtui.changes.disable import plan_disable, plan_enable
from wgtui.changes.init import plan_init
from wgtui.changes.undo import plan_undo
from wgtui.ui.dialogs.confirm import ConfirmScreen
from wgtui.ui.dialogs.diff_preview import Choice, DiffPreview
from wgtui.ui.dialogs.new_expiry import new_expiry_if_expired

if TYPE_CHECKING:
    from wgtui.ui.flows import ChangeFlows


class OperationFlows:
    """The operations half of ChangeFlows (its helpers, lock and app are shared): each is previewed like any change,
    applied by the same transaction, and a refusal is said in the core's own words."""

    def __init__(self, flows: ChangeFlows) -> None:
        self.flows = flows
        self.app = flows.app

    async def disable(self, ifname: str, key: str) -> None:
        flows = self.flows
        planner = await flows.planner(ifname)
        await flows.preview_apply(planner, lambda p: plan_disable(p, key), apply_label="Disable")

    async def enable(self, ifname: str, key: str) -> None:
        flows = self.flows
        # An expired peer is enabled with a new expiry (or none), asked for first: with the old one, the agent
        # would disable it again at once.
        expires = await new_expiry_if_expired(self.app, flows.dashboard.row_of(ifname, key), self.app.clock(),
                                              self.app.clock)
        if expires is None:
            flows.cancelled()
            return
        planner = await flows.planner(ifname)
        plan = await flows.preview_apply(planner, lambda p: plan_enable(p, key, expires=expires),
                                         apply_label="Enable")
        if plan is not None:
            flows.select(ifname, key)

    async def undo(self, ifname: str) -> None:
        flows = self.flows
        planner = await flows.planner(ifname)
        # plan_undo refuses (ChangeRefused, said as it is) when there is nothing to undo or the file or the peers
        # moved since: the flow's guard shows its sentence.
        await flows.preview_apply(planner, plan_undo, apply_label="Undo")

    async def write_config(self, ifname: str) -> None:
        """w: write IF.conf from the running interface."""
        await self.init(ifname, before_change=False)

    async def init(self, ifname: str, *, before_change: bool) -> bool:
        """Offer `wgtui init`: the file it would write, previewed with its keys masked, then written (0600) by the
        same transaction as every change. Whether the file was written. `before_change`: a change key found no
        file; after the file is written, that change goes on."""
        flows = self.flows
        path = flows.config_dir / f"{ifname}.conf"
        if before_change:
            body = Text(f"{ifname} has no config file ({path}). wgtui changes a peer on the interface and in the file "
                        "together, so it needs one: it can write it from the running interface first, as `wgtui "
                        f"init {ifname}` does (private key, port, addresses, every peer; 0600; never over a file).\n\n"
                        "The file is shown next, keys masked; nothing is written before you apply it. Then the "
                        "change you asked for goes on.")
            if not await self.app.push_screen_wait(ConfirmScreen(f"Write {path.name} first?", body,
                                                                 yes="Show the file", no="Cancel")):
                flows.cancelled()
                return False
        # Refused (ChangeRefused: the file exists, the interface has no private key) in the core's words.
        plan = await flows.thread(lambda: plan_init(ifname, path, self.app.backend), "init")
        choice = await self.app.push_screen_wait(DiffPreview(plan, apply_label="Write the file"))
        if choice is not Choice.APPLY:
            flows.cancelled()
            return False
        return await flows.apply(plan) is not None
