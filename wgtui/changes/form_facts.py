"""Provides what a peer form is filled from (prefix owners, names and keys in use, next free addresses), headless."""

# The local dashboard works these out from its planner; a remote one asks the host's agent, which answers from its
# own planner with this same code, so a form on a remote host refuses exactly what a local one would.

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wgtui import ipalloc, keys
from wgtui.changes.plan import ChangeRefused
from wgtui.changes.planner import Planner
from wgtui.conf import PeerView
from wgtui.conf.meta import meta_line, parse_meta
from wgtui.lifecycle.policy import EXPIRES, QUOTA


@dataclass(frozen=True)
class FormFacts:
    owners: Mapping[ipalloc.Prefix, tuple[str, str]]
    """Every allowed-IP prefix other peers hold -> (public key, name): duplicates are refused as you type."""
    taken_names: frozenset[str]
    allowed_ips: str
    """Prefill: the next free addresses (add) or the peer's own (edit)."""
    allowed_ips_note: str = ""
    """Why no address could be picked automatically, when none could."""
    peer: PeerView | None = None
    """The peer being edited (None: adding)."""
    keys_in_use: frozenset[str] = frozenset()
    expires: str = ""
    """The edited peer's `expires=` as its block's wgtui comment writes it (empty: never)."""
    quota: str = ""
    """The edited peer's `quota=` as written (empty: none)."""


def form_facts(planner: Planner, public_key: str | None = None) -> FormFacts:
    """Blocking (reads every peer): call it from a thread."""
    exclude = [public_key] if public_key else []
    owners = planner.index.owned(exclude)
    peers = planner.peers()
    names = frozenset(p.name for p in peers if p.name and p.public_key != public_key)
    in_use = frozenset(p.public_key for p in peers)
    if public_key is not None:
        peer = planner.doc.find_peer(public_key)
        if peer is None:
            raise ChangeRefused(f"{keys.short_key(public_key)} is on the running interface but not in "
                                f"{planner.config_path}: only peers in the file can be edited (adopt it first).")
        policy = _block_policy(planner, public_key)
        return FormFacts(owners, names, ", ".join(peer.allowed_ips), peer=peer, keys_in_use=in_use,
                         expires=policy.get(EXPIRES, ""), quota=policy.get(QUOTA, ""))
    try:
        return FormFacts(owners, names, ", ".join(planner.auto_allowed_ips()), keys_in_use=in_use)
    except ChangeRefused as exc:
        return FormFacts(owners, names, "", allowed_ips_note=str(exc), keys_in_use=in_use)


def _block_policy(planner: Planner, public_key: str) -> dict[str, str]:
    """The items of the peer's `# wgtui:` comment (only its block is read)."""
    index = meta_line(planner.doc, public_key)
    return (parse_meta(planner.doc.lines[index].comment) or {}) if index is not None else {}


def facts_to_json(facts: FormFacts, planner: Planner) -> dict[str, Any]:
    """For the agent's `context` answer: no secret (a peer's preshared key is sent as whether it has one)."""
    s = planner.settings
    peer = facts.peer
    return {
        "interface": planner.ifname, "config": str(planner.config_path),
        "convention": planner.doc.naming.convention.value,
        "owners": [[ipalloc.format_prefix(net), key, name] for net, (key, name) in facts.owners.items()],
        "taken_names": sorted(facts.taken_names), "keys_in_use": sorted(facts.keys_in_use),
        "allowed_ips": facts.allowed_ips, "allowed_ips_note": facts.allowed_ips_note,
        "peer": None if peer is None else {
            "public_key": peer.public_key, "name": peer.name, "allowed_ips": list(peer.allowed_ips),
            "endpoint": peer.endpoint, "keepalive": peer.persistent_keepalive, "psk": bool(peer.preshared_key),
            "expires": facts.expires, "quota": facts.quota},
        "settings": {"endpoint": s.endpoint, "dns": list(s.dns), "allowed_ips": list(s.allowed_ips),
                     "keepalive": s.keepalive, "handshake_timeout": s.handshake_timeout,
                     "max_key_age": s.max_key_age},
    }
