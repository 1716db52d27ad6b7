"""Provides the re-check under the lock: what a plan assumed about the running interface, compared with it now."""

# Between the preview and the confirmation anything can happen: another admin runs `wg set`, a peer is added by
# hand. A plan records what it relied on (the peers it names, and who owned each prefix it hands out); under the
# lock, just before the journal is written, that is compared with a fresh read. Any difference refuses the change
# and says what moved: above all, an address is never taken from a peer the plan did not name.

from __future__ import annotations

from collections.abc import Iterable, Mapping

from wgtui import ipalloc, keys
from wgtui.changes.plan import PeerBasis, Plan
from wgtui.model import KEEP, InterfaceState, PeerState, PeerUpdate


def peer_basis(peer: PeerState | None) -> PeerBasis | None:
    if peer is None:
        return None
    return PeerBasis(frozenset(_norm(ip) for ip in peer.allowed_ips), peer.has_preshared_key,
                     peer.persistent_keepalive)


def _norm(ip: str) -> str:
    try:
        return str(ipalloc.network(ip))
    except ValueError:
        return ip


def given_prefixes(updates: Iterable[PeerUpdate]) -> set[str]:
    return {_norm(ip) for u in updates if not u.remove and u.allowed_ips is not KEEP for ip in u.allowed_ips}


def prefix_owners(state: InterfaceState, prefixes: set[str]) -> dict[str, str | None]:
    """Who has each of `prefixes` on the interface (one pass over every peer's allowed IPs)."""
    owners: dict[str, str | None] = dict.fromkeys(prefixes)
    if prefixes:
        for key, peer in state.peers.items():
            for ip in peer.allowed_ips:
                net = _norm(ip)
                if net in owners:
                    owners[net] = key
    return owners


def basis_of(state: InterfaceState, updates: Iterable[PeerUpdate]) -> tuple[dict[str, PeerBasis | None],
                                                                             dict[str, str | None]]:
    """What a plan with these runtime operations relies on, read from `state`."""
    updates = list(updates)
    basis = {u.public_key: peer_basis(state.peers.get(u.public_key)) for u in updates}
    return basis, prefix_owners(state, given_prefixes(updates))


def _who(key: str | None, names: Mapping[str, str]) -> str:
    if key is None:
        return "no peer"
    name = names.get(key)
    return f"{name} ({keys.short_key(key)})" if name else keys.short_key(key)


def differences(plan: Plan, now: InterfaceState, names: Mapping[str, str] | None = None) -> list[str]:
    """Sentences saying what changed on the interface since the plan was made, in ways that touch it."""
    names = names or {}
    out: list[str] = []
    for key, then in plan.basis.items():
        current = peer_basis(now.peers.get(key))
        if current == then:
            continue
        who = _who(key, names)
        if then is None:
            out.append(f"peer {who} was added to {plan.ifname}")
        elif current is None:
            out.append(f"peer {who} was removed from {plan.ifname}")
        else:
            if current.allowed_ips != then.allowed_ips:
                out.append(f"the allowed IPs of {who} changed from {', '.join(sorted(then.allowed_ips)) or '(none)'}"
                           f" to {', '.join(sorted(current.allowed_ips)) or '(none)'}")
            if current.has_preshared_key != then.has_preshared_key:
                out.append(f"the preshared key of {who} was {'set' if current.has_preshared_key else 'removed'}")
            if current.persistent_keepalive != then.persistent_keepalive:
                out.append(f"the keepalive of {who} changed from {then.persistent_keepalive or 'off'} to "
                           f"{current.persistent_keepalive or 'off'}")
    if plan.owners:
        owners_now = prefix_owners(now, set(plan.owners))
        for prefix, then_owner in plan.owners.items():
            owner = owners_now.get(prefix)
            if owner != then_owner:
                out.append(f"{prefix} now belongs to {_who(owner, names)} (it belonged to {_who(then_owner, names)}"
                           " at the preview)")
    return out
