"""Provides disabling a peer without deleting it (off the interface, commented out in the file), and enabling it."""

from __future__ import annotations

from wgtui import ipalloc, keys
from wgtui.changes.plan import ChangeRefused, Plan
from wgtui.changes.planner import Planner, refuse_taken
from wgtui.conf import ConfError, PeerNotFound
from wgtui.conf.disabled import disable_peer, enable_peer, find_disabled
from wgtui.conf.meta import rotation_marks
from wgtui.model import KEEP, PeerUpdate


def plan_disable(planner: Planner, query: str) -> Plan:
    """The peer leaves the interface; its block stays in the file, every line prefixed `#[disabled] ` (as PiVPN's
    `pivpn -off` does), so that enabling it gives back the same bytes, keys and settings."""
    peer = planner.resolve(query)
    label = peer.name or keys.short_key(peer.public_key)
    if not peer.in_file:
        raise ChangeRefused(f"{label} is only on the running interface: a disabled peer waits in the config file, so "
                            "adopt it into the file first (sync), or remove it.")
    marks = rotation_marks(planner.doc)
    if peer.public_key in marks or any(m.old_key == peer.public_key for m in marks.values()):
        raise ChangeRefused(f"{label} has a pending key rotation: finish or cancel it first.")
    after = disable_peer(planner.doc, peer.public_key)
    runtime = [PeerUpdate(peer.public_key, remove=True)] if peer.in_runtime else []
    notes = [f"{label} stays in the file, commented out (#[disabled], as PiVPN does): `wgtui peer enable "
             f"{planner.ifname} {peer.name or peer.public_key}` brings it back with its keys and settings."]
    return planner.make_plan("disable", f"Disable peer {label} on {planner.ifname}", after, runtime,
                             [f"{label}'s client loses the tunnel until the peer is enabled again."], notes,
                             peer.public_key, peer_name=peer.name)


def plan_enable(planner: Planner, query: str) -> Plan:
    """The disabled block's lines get their prefix back off, and the peer returns to the interface as it was."""
    try:
        found = find_disabled(planner.doc, query.strip())
    except PeerNotFound:
        raise ChangeRefused(f"No disabled peer {query!r} in {planner.config_path}.") from None
    except ConfError as exc:
        raise ChangeRefused(str(exc)) from None
    view, key = found.view, found.public_key
    assert key is not None
    label = found.name or keys.short_key(key)
    if any(p.public_key == key for p in planner.peers()):
        raise ChangeRefused(f"{label} is disabled in the file but its key is also a live peer of {planner.ifname}: "
                            "sync or remove that one first.")
    try:
        ips = tuple(str(ipalloc.network(ip)) for ip in view.allowed_ips)
    except ValueError as exc:
        raise ChangeRefused(f"The disabled block of {label} has an AllowedIPs value wg cannot read ({exc}).") from None
    refuse_taken(ips, planner.prefix_owners(), label)
    try:
        after = enable_peer(planner.doc, key)
    except ConfError as exc:
        raise ChangeRefused(f"{label} cannot be enabled: {exc}.") from None
    update = PeerUpdate(key, allowed_ips=ips, preshared_key=view.preshared_key or KEEP,
                        persistent_keepalive=view.persistent_keepalive or KEEP, endpoint=view.endpoint or KEEP)
    return planner.make_plan("enable", f"Enable peer {label} on {planner.ifname}", after, [update], [], [], key,
                             peer_name=found.name or "")
