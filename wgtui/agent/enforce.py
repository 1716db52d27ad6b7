"""Provides the agent's decisions for one interface (disable at expiry or quota, enable in a new period, warnings,
the next deadlines) and applying them through the normal plan and transaction."""

# Decisions are pure: they read the policies, the clock and the usage, and say what to do. Applying one is exactly
# `wgtui peer disable --reason …` / `peer enable` (Planner on the file and interface as they are now, the journal,
# the lock, the audit log), followed by what every change records (final reading, events). A refusal (a pending
# rotation on the peer, a file with errors) is reported and retried when the file changes.

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wgtui.agent.warnings import EXPIRY, QUOTA, WarningMarks, expiry_threshold, quota_threshold
from wgtui.agent.watched import LIFETIME, Watched
from wgtui.backends.base import Backend
from wgtui.changes import transaction
from wgtui.changes.disable import plan_disable, plan_enable
from wgtui.changes.planner import Planner
from wgtui.lifecycle.events import EventType
from wgtui.lifecycle.ledger import Ledger
from wgtui.lifecycle.policy import Policy
from wgtui.settings import load as load_settings

EXPIRED = "expired"


@dataclass(frozen=True)
class Notice:
    """An event to emit, and the warning marks that go with it (kind, cycle, thresholds)."""

    type: EventType
    public_key: str
    peer_id: str
    data: dict[str, Any]
    marks: tuple[str, str, tuple[int, ...]] | None = None


@dataclass(frozen=True)
class Action:
    """A change to make: disable (reason expired or quota) or enable (a new quota period)."""

    kind: str
    public_key: str
    reason: str
    notices: tuple[Notice, ...] = field(default=())
    """Emitted once the change is applied."""


@dataclass(frozen=True)
class Options:
    warn_before: Sequence[int]
    warn_at: Sequence[int]


def _quota_data(name: str | None, used: int, limit: int, bounds: tuple[int, int], period: str) -> dict[str, Any]:
    return {"name": name, "used_bytes": used, "quota_bytes": limit, "period": period,
            "period_start": None if bounds == LIFETIME else bounds[0],
            "period_end": None if bounds == LIFETIME else bounds[1]}


def decide(w: Watched, ledger: Ledger, marks: WarningMarks, options: Options,
           now: float) -> tuple[list[Action], list[Notice]]:
    """What the policies of the interface's file ask for at `now`."""
    actions: list[Action] = []
    notices: list[Notice] = []
    for key, policy in w.policies.items():
        if policy.expires is None and policy.quota is None:
            continue  # most peers: nothing to decide
        peer_id = w.peer_id(ledger, key)
        name = w.names.get(key)
        if policy.disabled_reason is None:
            action = _check_enabled(w, ledger, marks, options, now, key, peer_id, name, policy, notices)
            if action is not None:
                actions.append(action)
        elif policy.disabled_reason == "quota" and policy.quota is not None:
            expired = policy.expires is not None and policy.expires.expired(now)
            used, _ = w.used(ledger, peer_id, policy.quota, now)
            if not expired and not policy.quota.exceeded(used):
                actions.append(Action("enable", key, "quota"))
    return actions, notices


def _check_enabled(w: Watched, ledger: Ledger, marks: WarningMarks, options: Options, now: float, key: str,
                   peer_id: str, name: str | None, policy: Policy, notices: list[Notice]) -> Action | None:
    expires_at = policy.expires.timestamp() if policy.expires is not None else None
    if expires_at is not None:
        if now >= expires_at:
            expiry = policy.expires.format() if policy.expires else None
            return Action("disable", key, EXPIRED, (Notice(EventType.PEER_EXPIRED, key, peer_id, {
                "name": name, "expires_at": expires_at, "expiry": expiry}),))
        chosen, crossed = expiry_threshold(expires_at, now, options.warn_before)
        cycle = str(expires_at)
        if marks.due(peer_id, EXPIRY, cycle, chosen):
            notices.append(Notice(EventType.PEER_EXPIRING, key, peer_id, {
                "name": name, "expires_at": expires_at, "seconds_left": int(expires_at - now), "warn_before": chosen},
                (EXPIRY, cycle, tuple(crossed))))
    quota = policy.quota
    if quota is None:
        return None
    used, bounds = w.used(ledger, peer_id, quota, now)
    cycle = f"{bounds[0]}:{quota.bytes}"
    data = _quota_data(name, used, quota.bytes, bounds, str(quota.period))
    chosen, crossed = quota_threshold(used, quota.bytes, options.warn_at)
    if quota.exceeded(used):
        every = tuple(sorted({*crossed, *options.warn_at}))
        return Action("disable", key, "quota", (Notice(EventType.PEER_QUOTA_EXCEEDED, key, peer_id, data,
                                                       (QUOTA, cycle, every)),))
    if marks.due(peer_id, QUOTA, cycle, chosen):
        notices.append(Notice(EventType.PEER_QUOTA_WARNING, key, peer_id, {**data, "percent": chosen},
                              (QUOTA, cycle, tuple(crossed))))
    return None


def deadlines(w: Watched, options: Options, now: float) -> list[float]:
    """The instants after `now` at which the interface's decisions can change without any traffic: expiries, the
    warnings before them, the ends of quota periods."""
    out: list[float] = []
    for policy in w.policies.values():
        if policy.disabled_reason is None and policy.expires is not None:
            at = policy.expires.timestamp()
            if at is not None:
                out += [t for t in (at, *(at - b for b in options.warn_before)) if t > now]
        if policy.quota is not None and policy.disabled_reason in (None, "quota"):
            bounds = w.bounds(policy.quota, now)
            if bounds != LIFETIME:
                out.append(bounds[1])
    return out


class Applier:
    """Applies actions on one host with the code `wgtui peer disable/enable` uses."""

    def __init__(self, backend: Backend, config_dir: Path) -> None:
        self.backend = backend
        self.config_dir = config_dir

    def apply(self, w: Watched, action: Action) -> transaction.ApplyResult:
        """Plan and apply one action; ChangeRefused and the other refusals propagate (nothing was changed)."""
        planner = Planner(w.ifname, w.config_path, self.backend,
                          client_settings=load_settings(self.config_dir, w.ifname))
        if action.kind == "disable":
            plan = plan_disable(planner, action.public_key, reason=action.reason)
        else:
            plan = plan_enable(planner, action.public_key)
        # The final reading of a peer taken off and the events of the change are recorded by the transaction's
        # recorder (set by the agent at its start, as by every entry point).
        return transaction.run(plan, self.backend)
