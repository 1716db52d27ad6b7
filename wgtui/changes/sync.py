"""Provides sync plans: bring file and interface back in step, peer by peer, adopting the side the user picks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from wgtui import keys
from wgtui.changes.plan import ChangeRefused, NothingToDo, Plan
from wgtui.changes.planner import Planner
from wgtui.conf import PeerView
from wgtui.drift import Drift, describe, file_peers, interface_drift
from wgtui.ipalloc import network
from wgtui.model import KEEP, PeerState, PeerUpdate

Side = Literal["file", "runtime"]
"""Which side wins for a peer: "file" changes the interface, "runtime" changes the file."""


def default_side(drift: tuple[Drift, ...]) -> Side:
    """Nothing is deleted by default: a live-only peer is adopted into the file, a file-only peer is brought up,
    and for differing fields the file (what survives a restart) wins."""
    return "runtime" if Drift.RUNTIME_ONLY in drift else "file"


def drift_of(planner: Planner) -> dict[str, tuple[Drift, ...]]:
    if planner.runtime is None:
        raise ChangeRefused("Drift needs the running interface: it cannot be computed with --file-only.")
    return interface_drift(planner.runtime.peers, planner.doc)


def plan_sync(planner: Planner, sides: Mapping[str, Side] | None = None) -> Plan:
    """One plan for every drifting peer (or only those in `sides`), each resolved towards its chosen side."""
    drift = drift_of(planner)
    if not drift:
        raise NothingToDo(f"{planner.ifname} and {planner.config_path} agree: nothing to sync.")
    chosen = {k: (sides or {}).get(k, default_side(d)) for k, d in drift.items() if sides is None or k in sides}
    unknown = set(sides or ()) - set(drift)
    if unknown:
        raise ChangeRefused(f"No drift for {', '.join(keys.short_key(k) for k in unknown)}: nothing to sync there.")
    assert planner.runtime is not None and planner.backend is not None
    live, in_file, doc = planner.runtime.peers, file_peers(planner.doc), planner.doc
    runtime: list[PeerUpdate] = []
    notes: list[str] = []
    names = planner.doc.names
    for key, side in chosen.items():
        kinds, label = drift[key], names.get(key) or keys.short_key(key)
        notes.append(sync_note(label, kinds, side, live.get(key), in_file.get(key)))
        if side == "file":
            view = in_file.get(key)
            if view is None:
                runtime.append(PeerUpdate(key, remove=True))  # chosen explicitly: never the default
                continue
            new = Drift.FILE_ONLY in kinds
            # Only what differs is sent: "preshared key removed" for a peer that never had one says nothing true.
            runtime.append(PeerUpdate(
                key,
                allowed_ips=tuple(str(network(ip)) for ip in view.allowed_ips)
                if new or Drift.ALLOWED_IPS in kinds else KEEP,
                preshared_key=(view.preshared_key or None) if Drift.PSK in kinds
                else (view.preshared_key if new and view.preshared_key else KEEP),
                persistent_keepalive=(view.persistent_keepalive or 0) if Drift.KEEPALIVE in kinds
                else (view.persistent_keepalive if new and view.persistent_keepalive else KEEP),
                endpoint=view.endpoint if (view.endpoint and new) else KEEP))
            continue
        peer = live.get(key)
        if peer is None:
            doc = doc.remove_peer(key)
            continue
        psk = planner.backend.preshared_key(planner.ifname, key) if peer.has_preshared_key else None
        if key not in in_file:
            # Endpoints roam: a server's file should not pin the address a client last came from.
            doc = doc.add_peer(key, allowed_ips=list(peer.allowed_ips), preshared_key=psk,
                               persistent_keepalive=peer.persistent_keepalive or None)
            continue
        if Drift.ALLOWED_IPS in kinds:
            doc = doc.set_peer_field(key, "AllowedIPs", list(peer.allowed_ips))
        if Drift.KEEPALIVE in kinds:
            doc = doc.set_peer_field(key, "PersistentKeepalive", peer.persistent_keepalive or None)
        if Drift.PSK in kinds:
            doc = doc.set_peer_field(key, "PresharedKey", psk)
    warnings = []
    removed = [u for u in runtime if u.remove]
    if removed:
        warnings.append(f"{len(removed)} peer(s) only on the interface will be REMOVED from it (you chose the "
                        "file's side for them): their clients are cut off.")
    return planner.make_plan("sync", f"Sync {planner.ifname} with {planner.config_path.name} ({len(chosen)} peer(s))",
                         doc if doc is not planner.doc else None, runtime, warnings, notes, "")


def _ips(ips: tuple[str, ...]) -> str:
    return ", ".join(ips) or "(none)"


def differences(kinds: tuple[Drift, ...], live: PeerState | None, view: PeerView | None) -> str:
    """What differs, with both sides' values: "AllowedIPs: file 10.8.0.2/32, interface 10.8.0.9/32"."""
    parts = []
    if live is not None and view is not None:
        if Drift.ALLOWED_IPS in kinds:
            parts.append(f"AllowedIPs: file {_ips(view.allowed_ips)}, interface {_ips(live.allowed_ips)}")
        if Drift.KEEPALIVE in kinds:
            parts.append(f"keepalive: file {view.persistent_keepalive or 'off'}, interface "
                         f"{live.persistent_keepalive or 'off'}")
        if Drift.PSK in kinds:
            parts.append(f"preshared key: file {'yes' if view.preshared_key else 'none'}, interface "
                         f"{'yes' if live.has_preshared_key else 'none'}")
    return "; ".join(parts) or describe(kinds)


def sync_note(label: str, kinds: tuple[Drift, ...], side: Side, live: PeerState | None,
              view: PeerView | None) -> str:
    """What syncing one peer does, in words: never "the file takes the interface's values" for a deletion."""
    if Drift.RUNTIME_ONLY in kinds:
        return (f"{label} is only on the interface: it is added to the file." if side == "runtime" else
                f"{label} is only on the interface: it is REMOVED from the interface (its client is cut off).")
    if Drift.FILE_ONLY in kinds:
        return (f"{label} is only in the file: it is brought up on the interface." if side == "file" else
                f"{label} is only in the file: it is DELETED from the file.")
    what = differences(kinds, live, view)
    return f"{label}: {what} -> " + ("the interface takes the file's." if side == "file"
                                     else "the file takes the interface's.")
