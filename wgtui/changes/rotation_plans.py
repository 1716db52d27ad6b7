"""Provides the plans of a staged rotation: start (one peer or many at once), finish, cancel, and what is pending."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wgtui import keys
from wgtui.changes.plan import ChangeRefused, Plan
from wgtui.changes.planner import PeerInfo, Planner
from wgtui.client_config import ClientConfig, client_config_path
from wgtui.client_sync import client_addresses, follow
from wgtui.conf import Document
from wgtui.conf.meta import KEY_CREATED, REPLACES, SINCE, format_meta, rotation_marks, stamp
from wgtui.conf.names import RESTRICTED
from wgtui.model import KEEP, PeerUpdate


@dataclass(frozen=True)
class Pending:
    """A rotation written in the file (and on the interface), waiting for the new key's first handshake."""

    ifname: str
    old_key: str
    new_key: str
    name: str
    started: int


@dataclass(frozen=True)
class Started:
    """One peer of a start plan: its new key and, when wgtui made the key pair, the client config and its path."""

    old: PeerInfo
    new_key: str
    allowed_ips: tuple[str, ...]
    client: ClientConfig | None
    client_path: Path | None


def pending_rotations(planner: Planner) -> dict[str, Pending]:
    """The pending rotations of the planner's file, by the old key."""
    names = planner.doc.names
    out = {}
    for mark in rotation_marks(planner.doc).values():
        if planner.doc.find_peer(mark.old_key) is not None:
            out[mark.old_key] = Pending(planner.ifname, mark.old_key, mark.new_key, names.get(mark.old_key, ""),
                                        mark.started)
    return out


def pending_client_path(planner: Planner, pending: Pending) -> Path | None:
    """Where the new key's client config was saved when the rotation started (the pending block's name), if it is
    there and holds the new key; None otherwise (it went to --client-config-dir, or the client made its keys)."""
    from wgtui.client_sync import owned_text

    name = planner.doc.names.get(pending.new_key) or f"{pending.name or keys.short_key(pending.old_key)}-next"
    path = client_config_path(planner.config_path.parent, planner.ifname, name)
    return path if owned_text(path, pending.new_key) is not None else None


def _pending_name(name: str, restricted: bool, taken: set[str]) -> str | None:
    """The new block's name, so that tools which read names show it for what it is (`alice-next`)."""
    if not name:
        return None
    candidate = f"{name[:10] if restricted else name[:59]}-next"
    return None if candidate in taken else candidate


def plan_start(planner: Planner, queries: Sequence[str], *, public_key: str | None = None,
               now: float | None = None, client_dir: Path | None = None) -> tuple[Plan, list[Started]]:
    """Step 1 for one peer or many: each new key beside its old one, without AllowedIPs, in the file and on the
    interface, in one transaction; a client config (0600) for each generated key pair."""
    if planner.file_only or planner.backend is None or planner.runtime is None:
        raise ChangeRefused("A staged rotation needs the running interface (it waits for a handshake); use --now "
                            "with --file-only.")
    if public_key is not None and len(queries) != 1:
        raise ChangeRefused("--public-key names one new key: rotate one peer with it.")
    started = time.time() if now is None else now
    pending = pending_rotations(planner)
    marks = rotation_marks(planner.doc)
    taken = {p.name for p in planner.peers() if p.name}
    restricted = planner.doc.naming.convention in RESTRICTED
    doc: Document = planner.doc
    updates: list[PeerUpdate] = []
    peers: list[Started] = []
    seen: set[str] = set()
    for query in queries:
        old = planner.resolve(query)
        label = old.name or keys.short_key(old.public_key)
        if old.public_key in seen:
            continue
        seen.add(old.public_key)
        if not (old.in_file and old.in_runtime):
            raise ChangeRefused(f"A staged rotation needs {label} both in the config file and on the running "
                                "interface (see the drift marks).")
        if old.public_key in pending:
            new = keys.short_key(pending[old.public_key].new_key)
            raise ChangeRefused(f"A rotation of {label} is already pending (new key {new}): resume it with `wgtui "
                                f"peer rotate {planner.ifname} {old.name or old.public_key} --resume` or undo it "
                                "with --cancel.")
        if old.public_key in marks:
            raise ChangeRefused(f"{label} is the new key of a pending rotation: finish or cancel that one first.")
        private, new_key = planner.new_key(public_key)
        live = planner.runtime.peers[old.public_key]
        psk = planner.psk_of(old.public_key)
        name = _pending_name(old.name, restricted, taken)
        if name:
            taken.add(name)
        doc = doc.add_peer(new_key, name=name, preshared_key=psk,
                           persistent_keepalive=live.persistent_keepalive or None,
                           comments=[format_meta({REPLACES: old.public_key, SINCE: stamp(started)})])
        updates.append(PeerUpdate(new_key, allowed_ips=(), preshared_key=psk if psk else KEEP,
                                  persistent_keepalive=live.persistent_keepalive))
        client = planner.client_for(private, client_addresses(live.allowed_ips), psk) if private else None
        path = None
        if client is not None:
            # The old client's saved config stays until the move: the new one is the pending block's (NAME-next).
            who = old.name or keys.short_key(old.public_key)
            path = (client_dir / f"{planner.ifname}-{_file_part(who)}.conf" if client_dir is not None
                    else client_config_path(planner.config_path.parent, planner.ifname,
                                            name or f"{who}-next"))
        peers.append(Started(old, new_key, live.allowed_ips, client, path))
    if not peers:
        raise ChangeRefused("No peer to rotate.")
    first = peers[0]
    labels = ", ".join(p.old.name or keys.short_key(p.old.public_key) for p in peers)
    title = (f"Staged rotation of {labels} on {planner.ifname}" if len(peers) == 1 else
             f"Staged rotation of {len(peers)} peers on {planner.ifname} ({labels})")
    notes = ["Staged: nobody is cut off. Each old key keeps working until its new one has handshaken; the rotation is "
             "kept in the file meanwhile, so it survives this session and can be finished or cancelled later."]
    warnings = first.client.warnings() if first.client else []
    more = tuple((p.client_path, p.client) for p in peers[1:] if p.client is not None and p.client_path is not None)
    plan = planner.make_plan("rotate-start", title, doc, updates, warnings, notes, first.new_key,
                             old_public_key=first.old.public_key, client=first.client, peer_name=first.old.name,
                             client_path=first.client_path, more_clients=more)
    return plan, peers


def _file_part(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name).strip("-.")[:40] or "peer"


def plan_finish(planner: Planner, pending: Pending) -> Plan:
    """Step 3: the AllowedIPs move to the new key in one operation, the old key goes; in the file the old block
    takes the new key (name, comments and settings kept, the key's age restarted) and the pending block goes."""
    if planner.runtime is None or planner.backend is None:
        raise ChangeRefused("Finishing a rotation needs the running interface.")
    live = planner.runtime.peers.get(pending.old_key)
    view = planner.doc.peer(pending.old_key)
    ips = live.allowed_ips if live is not None else tuple(view.allowed_ips)
    after = (planner.doc.remove_peer(pending.new_key).replace_public_key(pending.old_key, pending.new_key)
             .set_peer_meta(pending.new_key, {KEY_CREATED: stamp(pending.started)}))
    runtime = [PeerUpdate(pending.new_key, allowed_ips=ips), PeerUpdate(pending.old_key, remove=True)]
    label = pending.name or keys.short_key(pending.old_key)
    # The new key's saved config (NAME-next) becomes the peer's (NAME), replacing the old key's.
    pending_name = planner.doc.names.get(pending.new_key, "")
    saved = follow(planner.config_path.parent, planner.ifname, pending.new_key, pending_name,
                   new_name=pending.name or keys.short_key(pending.old_key))
    if saved:
        saved += tuple(u for u in follow(planner.config_path.parent, planner.ifname, pending.old_key, pending.name,
                                         delete=True) if u[0] not in {p for p, _ in saved})
    return planner.make_plan("rotate-finish", f"Finish the rotation of {label} on {planner.ifname}", after, runtime,
                             [], [], pending.new_key, old_public_key=pending.old_key, peer_name=pending.name,
                             client_updates=saved)


def plan_cancel(planner: Planner, pending: Pending) -> Plan:
    """The new key goes from the interface and the file; the old one, which worked throughout, stays."""
    label = pending.name or keys.short_key(pending.old_key)
    runtime = [PeerUpdate(pending.new_key, remove=True)] if planner.runtime is not None else []
    after = planner.doc.remove_peer(pending.new_key)
    gone = follow(planner.config_path.parent, planner.ifname, pending.new_key,
                  planner.doc.names.get(pending.new_key, ""), delete=True)
    return planner.make_plan("rotate-cancel", f"Cancel the rotation of {label} on {planner.ifname}", after, runtime,
                             [], [], pending.new_key, old_public_key=pending.old_key, peer_name=pending.name,
                             client_updates=gone)
