"""Provides changes on a remote host: planned by its agent, previewed here, applied there by the same transaction."""

# Nothing is worked out on this side: the agent plans with the host's own file and interface (so the diff is the
# one it will apply), keeps the plan under a token, and applies exactly that plan when asked. A plan that is not
# applied is discarded, so the agent holds nothing for a session that moved on.

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from wgtui.remote.host import RemoteHost
from wgtui.remote.ssh import HostError

PLAN_TIMEOUT = 60.0
APPLY_TIMEOUT = 120.0


@dataclass(frozen=True)
class RemotePlan:
    """A change the agent has worked out and keeps for `apply`; `plan` is None for a rotation resumed or
    cancelled (nothing new to preview)."""

    host: str
    token: str
    plan: dict[str, Any] | None
    session: dict[str, Any] | None = None

    @property
    def title(self) -> str:
        return f"{self.plan['title']} — on {self.host}" if self.plan else f"rotations on {self.host}"

    @property
    def diff(self) -> str:
        return str(self.plan["diff"]) if self.plan else ""

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(self.plan["warnings"]) if self.plan else ()


@dataclass(frozen=True)
class RemoteResult:
    """What the agent did: `applied` False means nothing was left half-done there (its message says what)."""

    host: str
    applied: bool
    message: str
    steps: tuple[str, ...] = ()
    client_config: tuple[str, ...] = ()
    session: dict[str, Any] | None = field(default=None, repr=False)


class RemoteChanges:
    """The change service of one remote host."""

    def __init__(self, host: RemoteHost) -> None:
        self.host = host

    def context(self, ifname: str, public_key: str | None = None) -> dict[str, Any]:
        """What a peer form is filled from (see changes/form_facts.py); HostError when it cannot be had."""
        answer = self.host.request("context", timeout=PLAN_TIMEOUT, interface=ifname, public_key=public_key)
        return dict(answer["context"])

    def plan(self, argv: Sequence[str]) -> RemotePlan:
        """`argv` as after `wgtui peer` (`["add", "wg0", "laptop", "--allowed-ips", "auto"]`)."""
        answer = self.host.request("plan", timeout=PLAN_TIMEOUT, argv=list(argv))
        return RemotePlan(self.host.name, str(answer["token"]), answer.get("plan"), answer.get("session"))

    def apply(self, plan: RemotePlan) -> RemoteResult:
        answer = self.host.request("apply", timeout=APPLY_TIMEOUT, token=plan.token)
        result = answer.get("result")
        session = answer.get("session")
        if result is None:
            return RemoteResult(self.host.name, True, "rotation staged", session=session)
        return RemoteResult(self.host.name, bool(result["applied"]), str(result["message"]),
                            tuple(result["steps"]), tuple(result["client_config"]), session)

    def discard(self, plan: RemotePlan) -> None:
        """Forget a plan that will not be applied (best effort: a dead session forgets it anyway)."""
        with contextlib.suppress(HostError):
            self.host.request("discard", timeout=5, token=plan.token)
