"""Provides disabling a peer without deleting it (off the interface, commented out in the file), and enabling it."""

from __future__ import annotations

from wgtui import ipalloc, keys
from wgtui.changes.plan import ChangeRefused, Plan
from wgtui.changes.planner import Planner, refuse_taken
from wgtui.conf import ConfError, PeerNotFound
from wgtui.conf.disabled import disable_peer, enable_peer, find_disabled
from wgtui.conf.meta import rotation_marks
from wgtui.lifecycle.periods import Expiry, PolicyError, format_timestamp
from wgtui.lifecycle.policy import DISABLED, EXPIRES, REASONS, as_expiry, disabled_meta, expires_item, policy_of
from wgtui.model import KEEP, PeerUpdate, Unchanged


def plan_disable(planner: Planner, query: str, reason: str = "manual") -> Plan:
    """The peer leaves the interface; its block stays in the file, every line prefixed `#[disabled] ` (as PiVPN's
    `pivpn -off` does), so that enabling it gives back the same bytes, keys and settings. Why it was disabled
    (`expired`, `quota`, `manual`) is written into the block's `# wgtui:` comment as `disabled=<reason>`."""
    if reason not in REASONS:
        raise ChangeRefused(f"{reason!r} is not a reason to disable a peer: one of {', '.join(REASONS)}.")
    peer = planner.resolve(query)
    label = peer.name or keys.short_key(peer.public_key)
    if not peer.in_file:
        raise ChangeRefused(f"{label} is only on the running interface: a disabled peer waits in the config file, so "
                            "adopt it into the file first (sync), or remove it.")
    marks = rotation_marks(planner.doc)
    if peer.public_key in marks or any(m.old_key == peer.public_key for m in marks.values()):
        raise ChangeRefused(f"{label} has a pending key rotation: finish or cancel it first.")
    after = disable_peer(planner.doc.set_peer_meta(peer.public_key, {DISABLED: reason}), peer.public_key)
    runtime = [PeerUpdate(peer.public_key, remove=True)] if peer.in_runtime else []
    notes = [f"{label} stays in the file, commented out (#[disabled], as PiVPN does): `wgtui peer enable "
             f"{planner.ifname} {peer.name or peer.public_key}` brings it back with its keys and settings."]
    why = {"expired": " (its expiry has passed)", "quota": " (its quota is used up)"}.get(reason, "")
    return planner.make_plan("disable", f"Disable peer {label} on {planner.ifname}{why}", after, runtime,
                             [f"{label}'s client loses the tunnel until the peer is enabled again."], notes,
                             peer.public_key, peer_name=peer.name)


def plan_enable(planner: Planner, query: str, *, force: bool = False,
                expires: str | Expiry | Unchanged | None = KEEP) -> Plan:
    """The disabled block's lines get their prefix back off, and the peer returns to the interface as it was; its
    `disabled=` item goes. A peer whose expiry has passed is refused unless it gets a new expiry (`expires`) or
    `force` (which lifts the passed expiry: kept, it would have the peer disabled again at once)."""
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
    refuse_taken(ips, planner.index.owned(), label)
    meta: dict[str, str | None] = {DISABLED: None}
    notes: list[str] = []
    now = planner.clock()
    if expires is not KEEP:
        try:
            new_expiry = as_expiry(expires)
        except PolicyError as exc:
            raise ChangeRefused(str(exc), "expires") from None
        if new_expiry is not None and new_expiry.expired(now):
            raise ChangeRefused(f"The new expiry {new_expiry.format()} has passed already: give one in the future "
                                "(or never).", "expires")
        meta[EXPIRES] = expires_item(new_expiry)
    else:
        old = policy_of(disabled_meta(planner.doc).get(key, {}), disabled=True).expires
        if old is not None and old.expired(now):
            when = format_timestamp(old.timestamp() or now)
            if not force:
                raise ChangeRefused(
                    f"{label} expired at {when}: give it a new expiry as you enable it (`wgtui peer enable "
                    f"{planner.ifname} {found.name or key} --expires 2026-12-31T18:00+01:00|2026-12-31|never`; "
                    f"`wgtui peer edit … --expires` changes an enabled peer's), or `--force` to enable it and lift "
                    "the expiry.", "expires")
            meta[EXPIRES] = None
            notes.append(f"--force: the expiry that passed ({when}) is lifted, or the peer would be disabled again "
                         "at once; give a new one with `wgtui peer edit … --expires`.")
    try:
        after = enable_peer(planner.doc, key).set_peer_meta(key, meta)
    except ConfError as exc:
        raise ChangeRefused(f"{label} cannot be enabled: {exc}.") from None
    update = PeerUpdate(key, allowed_ips=ips, preshared_key=view.preshared_key or KEEP,
                        persistent_keepalive=view.persistent_keepalive or KEEP, endpoint=view.endpoint or KEEP)
    return planner.make_plan("enable", f"Enable peer {label} on {planner.ifname}", after, [update], [], notes, key,
                             peer_name=found.name or "")
