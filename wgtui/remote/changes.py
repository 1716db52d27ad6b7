"""Provides changes on a remote host: planned by its agent, previewed here, applied there by the same transaction."""

# Nothing is worked out on this side: the agent plans with the host's own file and interface (so the diff is the
# one it will apply), keeps the plan under a token, and applies exactly that plan when asked. A plan that is not
# applied is discarded, so the agent holds nothing for a session that moved on.

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from wgtui.lifecycle.peer_usage import Usage, usage_from_json
from wgtui.lifecycle.periods import Quota
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

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(self.plan.get("notes", ())) if self.plan else ()

    @property
    def runtime(self) -> tuple[str, ...]:
        """The runtime operations, as the preview's lines (`peer ABCD… allowed-ips …`)."""
        return tuple(self.plan.get("runtime", ())) if self.plan else ()

    @property
    def config_path(self) -> PurePosixPath:
        """The config file on the host."""
        return PurePosixPath(str(self.plan["config"])) if self.plan else PurePosixPath()

    @property
    def client_config(self) -> str | None:
        """Where on the host the new client config (with its private key) is written first, if one is."""
        return str(self.plan["client_config"]) if self.plan and self.plan.get("client_config") else None

    @property
    def public_key(self) -> str:
        """The peer concerned (for an add or a rotation: the new key)."""
        return str(self.plan.get("public_key") or "") if self.plan else ""

    def diff_stat(self) -> tuple[int, int]:
        lines = self.diff.splitlines()
        added = sum(1 for ln in lines if ln.startswith("+") and not ln.startswith("+++"))
        removed = sum(1 for ln in lines if ln.startswith("-") and not ln.startswith("---"))
        return added, removed


@dataclass(frozen=True)
class RemoteResult:
    """What the agent did: `applied` False means nothing was left half-done there (its message says what)."""

    host: str
    applied: bool
    message: str
    steps: tuple[str, ...] = ()
    client_config: tuple[str, ...] = ()
    """Client configs written on the host (paths there)."""
    session: dict[str, Any] | None = field(default=None, repr=False)
    client_text: str | None = field(default=None, repr=False)
    """A new client's config with its generated private key, for the admin to hand over (None: none was made)."""
    rollback_failed: bool = False
    """The change failed half-way and could not be undone there: the message says what is left."""


class RemoteChanges:
    """The change service of one remote host."""

    def __init__(self, host: RemoteHost) -> None:
        self.host = host

    def context(self, ifname: str, public_key: str | None = None) -> dict[str, Any]:
        """What a peer form is filled from (see changes/form_facts.py); HostError when it cannot be had."""
        answer = self.host.request("context", timeout=PLAN_TIMEOUT, interface=ifname, public_key=public_key)
        return dict(answer["context"])

    def usage(self, ifname: str, public_key: str, _quota: Quota | None, span: str | None, _now: float) -> Usage:
        """A UsageReader for the host's peers: its agent reads its own ledger, under the quota of its own file and
        in its own zone (the quota and time given here are this side's, and not used)."""
        try:
            answer = self.host.request("usage", timeout=PLAN_TIMEOUT, interface=ifname, public_key=public_key,
                                       span=span)
        except HostError as exc:
            return Usage(problem=f"usage unknown: {exc}")
        return usage_from_json(answer["usage"])

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
        text = result.get("client_text")
        return RemoteResult(self.host.name, bool(result["applied"]), str(result["message"]),
                            tuple(result["steps"]), tuple(result["client_config"]), session,
                            str(text) if text else None, bool(result.get("rollback_failed")))

    def pending(self, ifname: str) -> list[dict[str, Any]]:
        """The staged rotations waiting on `ifname` there (as `wgtui peer pending IF --json` lists them)."""
        answer = self.host.request("pending", timeout=PLAN_TIMEOUT, interface=ifname)
        return list(answer["rotations"])

    def discard(self, plan: RemotePlan) -> None:
        """Forget a plan that will not be applied (best effort: a dead session forgets it anyway)."""
        with contextlib.suppress(HostError):
            self.host.request("discard", timeout=5, token=plan.token)
