"""Provides undo of the last change: what each transaction leaves behind to revert it, and the plan that does."""

# A successful change writes `.IF.conf.wgtui-undo` (0600: it holds the file as it was, keys included): the previous
# file text, the runtime operations that put back every peer it touched, the client configs as they were, and what
# the touched peers looked like right after the change. Undoing is an ordinary change (previewed, one transaction),
# refused when the file or those peers changed since: it would silently throw that away. An undo leaves its own
# record, so a second undo redoes.

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wgtui import keys
from wgtui.changes.journal import update_from_json, update_to_json
from wgtui.changes.plan import ChangeRefused, PeerBasis, Plan
from wgtui.changes.planner import Planner
from wgtui.changes.recheck import basis_of, peer_basis
from wgtui.conf import Document
from wgtui.model import InterfaceState, PeerUpdate
from wgtui.store import StoreError, read_regular, write_atomic

VERSION = 1


def undo_path(config: Path) -> Path:
    return config.with_name(f".{config.name}.wgtui-undo")


@dataclass(frozen=True)
class UndoRecord:
    """How to revert one change."""

    title: str
    action: str
    after: str
    """Fingerprint of the file the change left."""
    before_text: str | None
    """The file before the change; None when the change left the file alone."""
    runtime: tuple[PeerUpdate, ...] = ()
    basis: Mapping[str, PeerBasis | None] = field(default_factory=dict)
    """The peers `runtime` touches, as the change left them."""
    owners: Mapping[str, str | None] = field(default_factory=dict)
    clients: tuple[tuple[Path, str | None], ...] = ()
    """Client configs to put back as they were (None: there was none)."""
    time: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        def basis(b: PeerBasis | None) -> dict[str, Any] | None:
            return None if b is None else {"allowed_ips": sorted(b.allowed_ips), "psk": b.has_preshared_key,
                                           "keepalive": b.persistent_keepalive}

        return {"version": VERSION, "title": self.title, "action": self.action, "after": self.after,
                "before_text": self.before_text, "runtime": [update_to_json(u) for u in self.runtime],
                "basis": {k: basis(v) for k, v in self.basis.items()}, "owners": dict(self.owners),
                "clients": [[str(p), t] for p, t in self.clients], "time": self.time}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UndoRecord:
        if data.get("version") != VERSION:
            raise ValueError(f"undo record version {data.get('version')!r}")

        def basis(b: dict[str, Any] | None) -> PeerBasis | None:
            return None if b is None else PeerBasis(frozenset(b["allowed_ips"]), bool(b["psk"]), int(b["keepalive"]))

        return cls(title=str(data["title"]), action=str(data["action"]), after=str(data["after"]),
                   before_text=data["before_text"], runtime=tuple(update_from_json(u) for u in data["runtime"]),
                   basis={k: basis(v) for k, v in data["basis"].items()}, owners=dict(data["owners"]),
                   clients=tuple((Path(p), t) for p, t in data["clients"]), time=float(data["time"]))


def record_undo(config: Path, plan: Plan, undo_ops: Sequence[PeerUpdate], after: InterfaceState | None,
                clients: Sequence[tuple[Path, str | None]], after_fingerprint: str) -> None:
    """Leave what reverting `plan` takes (called once the change is done; a failure here only loses the undo)."""
    basis, owners = basis_of(after, undo_ops) if after is not None else ({}, {})
    record = UndoRecord(title=plan.title, action=plan.action, after=after_fingerprint,
                        before_text=plan.before if plan.changes_file else None, runtime=tuple(undo_ops),
                        basis=basis, owners=owners, clients=tuple(clients))
    write_atomic(undo_path(config), (json.dumps(record.to_json()) + "\n").encode())


def read_undo(config: Path) -> UndoRecord | None:
    data = read_regular(undo_path(config), follow=False)
    if data is None:
        return None
    try:
        return UndoRecord.from_json(json.loads(data))
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"The undo record {undo_path(config)} cannot be read ({exc}).") from None


def plan_undo(planner: Planner) -> Plan:
    """Revert the last change wgtui made to the planner's interface, or refuse saying what changed since."""
    found = read_undo(planner.config_path)
    if found is None:
        raise ChangeRefused(f"There is no change of {planner.ifname} to undo (wgtui remembers the last one it made "
                            "to this file, from the moment it was made).")
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(found.time))
    if planner.before_fingerprint != found.after:
        raise ChangeRefused(f"{planner.config_path} changed after {found.title!r} ({when}): undoing it would throw "
                            "that away. Look at the file (its previous version is IF.conf.bak).")
    if found.runtime and planner.runtime is not None:
        names = planner.doc.names
        moved = [keys.short_key(k) if not names.get(k) else names[k] for k, then in found.basis.items()
                 if peer_basis(planner.runtime.peers.get(k)) != then]
        if moved:
            raise ChangeRefused(f"The peers {found.title!r} touched changed since on {planner.ifname} "
                                f"({', '.join(moved)}): undoing it would throw that away.")
    after = Document.parse(found.before_text) if found.before_text is not None else None
    runtime = list(found.runtime) if planner.runtime is not None else []
    notes = [f"Reverts {found.title!r} ({when}), the last change wgtui made to {planner.ifname}."]
    if found.clients:
        notes.append("Client configs go back as they were: " + ", ".join(str(p) for p, _ in found.clients) + ".")
    return planner.make_plan("undo", f"Undo: {found.title}", after, runtime, [], notes, "",
                             client_updates=found.clients)
