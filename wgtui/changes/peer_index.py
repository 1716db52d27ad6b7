"""Provides the peers of a config file and its running interface: lookup by name or key, and who owns each prefix."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from itertools import chain, repeat
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

from wgtui import ipalloc, keys
from wgtui.changes.plan import ChangeRefused
from wgtui.conf import Document
from wgtui.conf.lines import no_gc
from wgtui.lifecycle.policy import disabled_hint
from wgtui.model import InterfaceState


class PeerInfo(NamedTuple):
    """A peer as both sides know it: file view and/or runtime state."""

    public_key: str
    name: str
    in_file: bool
    in_runtime: bool
    allowed_ips: tuple[str, ...]


class PeerIndex:
    """The file and the running interface as a planner read them once: neither changes after, so what is worked
    out from them (the peer list, the prefixes and their owners) is worked out once and kept."""

    def __init__(self, ifname: str, config_path: Path, doc: Document, runtime: InterfaceState | None) -> None:
        self.ifname = ifname
        self.config_path = config_path
        self.doc = doc
        self.runtime = runtime
        self._peers: list[PeerInfo] | None = None
        self._owned_cache: dict[frozenset[str], dict[ipalloc.Prefix, tuple[str, str]]] = {}
        self._prefix_cache: tuple[list[ipalloc.Prefix], list[tuple[str, str]]] | None = None

    def peers(self) -> list[PeerInfo]:
        """Every peer of the file and the interface, built once: a plan asks for it several times (names taken,
        key unique, prefixes owned)."""
        if self._peers is None:
            with no_gc():
                self._peers = self._collect_peers()
        return self._peers

    def _collect_peers(self) -> list[PeerInfo]:
        names = self.doc.names
        out: dict[str, PeerInfo] = {}
        new = tuple.__new__  # PeerInfo(...) without the Python frame of a named tuple's __new__
        for view in self.doc.peers:
            if view.public_key:
                out[view.public_key] = new(PeerInfo, (view.public_key, view.name or "", True, False, view.allowed_ips))
        if self.runtime is not None:
            get, name_of = out.get, names.get
            for key, peer in self.runtime.peers.items():
                info = get(key)
                out[key] = new(PeerInfo, (key, name_of(key, ""), True, True, info[4]) if info is not None
                               else (key, name_of(key, ""), False, True, peer.allowed_ips))
        return list(out.values())

    def resolve(self, query: str) -> PeerInfo:
        """A peer by full public key, exact name, or unique key prefix (at least 4 characters)."""
        query = query.strip()
        peers = self.peers()
        for match in ([p for p in peers if p.public_key == query], [p for p in peers if p.name and p.name == query],
                      [p for p in peers if len(query) >= 4 and p.public_key.startswith(query)]):
            if len(match) == 1:
                return match[0]
            if len(match) > 1:
                listed = ", ".join(f"{p.name or '(unnamed)'} {keys.short_key(p.public_key)}" for p in match)
                raise ChangeRefused(f"{query!r} matches {len(match)} peers ({listed}); give more of the key.")
        raise ChangeRefused(f"No peer {query!r} on {self.ifname}: give a name, a public key or a unique prefix "
                            "of one (at least 4 characters)." + disabled_hint(self.doc, query, self.ifname))

    def prefix_owners(self, exclude: Iterable[str] = ()) -> dict[ipalloc.Network, tuple[str, str]]:
        """Every allowed-IP prefix in use (file and runtime), normalised, -> (public key, name)."""
        return {ipalloc.to_network(prefix): owner for prefix, owner in self.owned(exclude).items()}

    def owned(self, exclude: Iterable[str] = ()) -> dict[ipalloc.Prefix, tuple[str, str]]:
        """`prefix_owners` with integer prefixes (no ipaddress object per peer), in the same order; worked out once
        per set of excluded keys."""
        skip = frozenset(exclude)
        cached = self._owned_cache.get(skip)
        if cached is None:
            prefixes, owners = self._prefixes()
            with no_gc():
                # dict(): a prefix two peers claim goes to the later one, in the earlier one's place, as before.
                if skip:
                    cached = dict((p, o) for p, o in zip(prefixes, owners, strict=True) if o[0] not in skip)
                else:
                    cached = dict(zip(prefixes, owners, strict=True))
            self._owned_cache[skip] = cached
        return cached

    def _prefixes(self) -> tuple[list[ipalloc.Prefix], list[tuple[str, str]]]:
        """Every allowed IP of every peer (file, then runtime), read once: the prefixes and, for each, (public key,
        name) of its peer; what is no network is left out."""
        if self._prefix_cache is None:
            live = self.runtime.peers if self.runtime is not None else {}
            peers = self.peers()
            with no_gc():
                # Each peer's allowed IPs (its runtime ones after its file ones), and its owner once per IP.
                every = [(*p.allowed_ips, *live[p.public_key].allowed_ips) if p.public_key in live
                         else p.allowed_ips for p in peers] if live else list(map(_ALLOWED, peers))
                ips = list(chain.from_iterable(every))
                who = zip(map(_KEY, peers), map(_NAME, peers), strict=True)
                owners = list(chain.from_iterable(map(repeat, who, map(len, every))))
                # What prefix_of gives, the usual spellings read in one go; the others one by one.
                prefixes = ipalloc.fast_prefixes(ips)
                if None in prefixes:
                    kept: list[tuple[ipalloc.Prefix, tuple[str, str]]] = []
                    for ip, prefix, owner in zip(ips, prefixes, owners, strict=True):
                        if prefix is None:
                            try:
                                prefix = ipalloc.prefix_of(ip)
                            except ValueError:
                                continue
                        kept.append((prefix, owner))
                    self._prefix_cache = ([p for p, _ in kept], [o for _, o in kept])
                else:
                    self._prefix_cache = (prefixes, owners)  # type: ignore[assignment]  # no None among them
        assert self._prefix_cache is not None
        return self._prefix_cache

    def subnets(self) -> list[ipalloc.Interface]:
        """The interface's Address subnets, in the file's order: where `auto` picks a new peer's addresses."""
        iface = self.doc.interface
        out = []
        for text in iface.addresses if iface else ():
            try:
                out.append(ipaddress.ip_interface(text.strip()))
            except ValueError:
                continue
        return out

    def check_allowed_ips(self, ips: tuple[str, ...], owner: str,
                          exclude: Iterable[str]) -> tuple[list[str], list[str]]:
        """Refuse a prefix another peer has (it would silently move); warn on containment; note routes."""
        taken = self.owned(exclude)
        refuse_taken(ips, taken, owner)
        warnings: list[str] = []
        for ip in ips:
            net = ipalloc.prefix_of(ip)
            version, value, length = net
            bits = 32 if version == 4 else 128
            for other, (key, name) in taken.items():
                if other[0] != version:
                    continue
                shift = bits - (length if length < other[2] else other[2])
                if value >> shift == other[1] >> shift:  # ipalloc.overlaps: CIDR blocks overlap iff one holds the other
                    who = name or keys.short_key(key)
                    rel = "contains" if ipalloc.prefix_contains(net, other) else "lies inside"
                    warnings.append(f"{ipalloc.format_prefix(net)} {rel} {ipalloc.format_prefix(other)} of {who}: "
                                    "the kernel routes each address to the most specific prefix, so traffic may go "
                                    "to the other peer.")
        subnets = self.subnets()
        notes = []
        for ip in ips:
            net6 = ipalloc.network(ip)
            if subnets and not any(ipalloc.contains(s.network, net6) for s in subnets):
                notes.append(f"{net6} is outside {self.ifname}'s own subnets: it needs a route "
                             f"(`ip route add {net6} dev {self.ifname}`): wg-quick adds routes only at `up`.")
        return warnings, notes

    def auto_allowed_ips(self) -> tuple[str, ...]:
        """The next free host address in each Address subnet of the interface (one IPv4, one IPv6)."""
        subnets = self.subnets()
        by_version: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
        for version, value, length in (*self.owned(), *(ipalloc.prefix_of(str(s.ip)) for s in subnets)):
            spans = by_version[version]
            if length == 32 or length == 128:
                spans.append((value, value))  # a host (nearly every prefix of a large file)
            else:
                spans.append((value, value | ((1 << ((32 if version == 4 else 128) - length)) - 1)))
        picked: list[str] = []
        for version in (4, 6):
            spans = by_version[version]
            for subnet in (s for s in subnets if s.version == version):
                free = ipalloc.next_free_in(subnet, spans)
                if free is not None:
                    picked.append(str(free))
                    break
        if not picked:
            raise ChangeRefused(f"Cannot pick an address automatically: {self.config_path} has no Address in "
                                "[Interface] with room left. Give the allowed IPs explicitly.", "allowed_ips")
        return tuple(picked)


_KEY: Callable[[PeerInfo], str] = itemgetter(0)
_NAME: Callable[[PeerInfo], str] = itemgetter(1)
_ALLOWED: Callable[[PeerInfo], tuple[str, ...]] = itemgetter(4)


def refuse_taken(ips: Iterable[str], owners: Mapping[ipalloc.Prefix, tuple[str, str]], owner: str) -> None:
    """AllowedIPs are unique per interface: giving a peer another peer's exact prefix would silently move it.
    `owners` as PeerIndex.owned gives them (integer prefixes: no ipaddress object per peer)."""
    for ip in ips:
        net = ipalloc.prefix_of(ip)
        if net in owners:
            _taken(ipalloc.format_prefix(net), owners[net], owner)


def _taken(net: str, holder: tuple[str, str], owner: str) -> None:
    key, name = holder
    who = f"{name} ({keys.short_key(key)})" if name else keys.short_key(key)
    raise ChangeRefused(f"{net} already belongs to {who}. AllowedIPs are unique per interface: "
                        f"giving it to {owner} would silently take it from {who}.", "allowed_ips")
