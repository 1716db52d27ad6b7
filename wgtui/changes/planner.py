"""Provides change planning: add, remove, edit, rotate become plans (new file, diff, runtime operations, warnings)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

from wgtui import ipalloc, keys
from wgtui.backends.base import Backend
from wgtui.changes.peer_index import PeerIndex, PeerInfo, refuse_taken
from wgtui.changes.plan import ChangeRefused, NothingToDo, Plan, mask_secrets
from wgtui.changes.recheck import basis_of
from wgtui.client_config import ClientConfig, client_config_path
from wgtui.client_sync import client_addresses, follow
from wgtui.conf import Document
from wgtui.conf.check import Finding, check_and_parse, errors, format_findings
from wgtui.conf.errors import ValidationError
from wgtui.conf.meta import KEY_CREATED, format_meta, stamp
from wgtui.conf.parsed import parsed
from wgtui.conf.validate import (
    validate_allowed_ips,
    validate_endpoint,
    validate_keepalive,
    validate_key,
    validate_name,
)
from wgtui.lifecycle.periods import Expiry, Quota
from wgtui.lifecycle.policy import PolicyFieldError, policy_items
from wgtui.model import KEEP, InterfaceState, PeerUpdate, Unchanged
from wgtui.settings import ClientSettings
from wgtui.store import check_directory, fingerprint, read_bytes


def _parsed(path: Path, raw: bytes, interface_public_key: str | None) -> tuple[list[Finding], Document | None]:
    """check_and_parse's errors and document for `raw`: one parse serves the check and the plans; a change needs
    the check's errors only, not its warnings. The document (and the check) of the same bytes read before, by a
    planner or the dashboard's monitor, is used again: reading the file under the lock is needed, parsing the same
    bytes again is not (0.25-0.38 s at 10,000 peers)."""
    return check_and_parse(raw, interface_public_key=interface_public_key, errors_only=True,
                           parse=lambda data: parsed(path, data))


class Planner:
    """Reads the file and the running interface once, then turns requests into plans.

    With `backend=None` (or file_only) plans change only the file: `--file-only` must work where WireGuard
    does not run at all.
    """

    def __init__(self, ifname: str, config_path: Path, backend: Backend | None, *, file_only: bool = False,
                 client_settings: ClientSettings | None = None, clock: Callable[[], float] = time.time) -> None:
        self.ifname = ifname
        self.clock = clock
        """What `key-created` stamps use (tests and the demo run on a clock of their own)."""
        self.config_path = config_path
        self.backend = None if file_only else backend
        self.file_only = file_only or backend is None
        self.settings = client_settings or ClientSettings()
        check_directory(config_path.parent)  # refused up front: a plan that could never be applied helps nobody
        raw = read_bytes(config_path)
        if raw is None:
            raise ChangeRefused(f"There is no config file at {config_path}. wgtui keeps the file and the running "
                                f"interface in step, so it needs one: write it from the running interface with "
                                f"`wgtui init {ifname}`, or say where it is (--config FILE, --config-dir DIR).")
        self.runtime: InterfaceState | None = self.backend.read(ifname) if self.backend is not None else None
        findings, doc = _parsed(config_path, raw, self.runtime.public_key if self.runtime else None)
        if errors(findings) or doc is None:
            raise ChangeRefused(f"{config_path} has errors that wg-quick would refuse, so wgtui changes nothing in "
                                "it (`wgtui check` shows them again):\n"
                                + format_findings(str(config_path), errors(findings)).rstrip("\n"))
        self.before = raw.decode("utf-8", errors="replace")
        self.before_fingerprint = fingerprint(raw)
        self.doc: Document = doc
        self.index = PeerIndex(ifname, config_path, doc, self.runtime)

    def fresh(self) -> Planner:
        """A planner on the file and the interface as they are now (a staged rotation spans several changes)."""
        return Planner(self.ifname, self.config_path, self.backend, file_only=self.file_only,
                       client_settings=self.settings, clock=self.clock)

    # -- looking things up ---------------------------------------------------------------------------------

    def peers(self) -> list[PeerInfo]:
        """Every peer of the file and the interface (read once in __init__, so built once)."""
        return self.index.peers()

    def resolve(self, query: str) -> PeerInfo:
        """A peer by full public key, exact name, or unique key prefix (at least 4 characters)."""
        return self.index.resolve(query)

    def _policy(self, expires: str | Expiry | Unchanged | None,
                quota: str | Quota | Unchanged | None) -> tuple[dict[str, str | None], list[str]]:
        """The meta items of an expiry and a quota (see policy_items); a value that does not parse is refused."""
        try:
            return policy_items(expires=expires, quota=quota, now=self.clock())
        except PolicyFieldError as exc:
            raise ChangeRefused(str(exc), exc.field) from None

    def prefix_owners(self, exclude: Iterable[str] = ()) -> dict[ipaddress_net, tuple[str, str]]:
        """Every allowed-IP prefix in use (file and runtime), normalised, -> (public key, name)."""
        return self.index.prefix_owners(exclude)

    def subnets(self) -> list[ipalloc.Interface]:
        """The interface's Address subnets, in the file's order: where `auto` picks a new peer's addresses."""
        return self.index.subnets()

    def _check_allowed_ips(self, ips: tuple[str, ...], owner: str,
                           exclude: Iterable[str]) -> tuple[list[str], list[str]]:
        """Refuse a prefix another peer has (it would silently move); warn on containment; note routes."""
        return self.index.check_allowed_ips(ips, owner, exclude)

    def auto_allowed_ips(self) -> tuple[str, ...]:
        """The next free host address in each Address subnet of the interface (one IPv4, one IPv6)."""
        return self.index.auto_allowed_ips()

    def new_key(self, public_key: str | None) -> tuple[str | None, str]:
        """(private key or None, public key): the given key validated, else a fresh pair; never an existing peer."""
        private = None
        if public_key:
            public_key = validate_key(public_key)
        else:
            private, public_key = keys.keypair()
        if any(p.public_key == public_key for p in self.peers()):
            raise ChangeRefused(f"{keys.short_key(public_key)} is already a peer of {self.ifname}.", "public_key")
        if public_key == self.own_public_key():
            raise ChangeRefused(f"{keys.short_key(public_key)} is {self.ifname}'s own public key: WireGuard silently "
                                "ignores a peer with the interface's own key. Give the client's public key.",
                                "public_key")
        return private, public_key

    def own_public_key(self) -> str | None:
        """The interface's public key: the running one, else derived from the file's PrivateKey."""
        return (self.runtime.public_key if self.runtime else None) or _server_public_key(self.doc)

    def _common_warnings(self) -> list[str]:
        if self.doc.save_config:
            return [f"{self.config_path} has SaveConfig = true: at the next `wg-quick down` wg-quick rewrites "
                    "the file from the running interface and this edit, with every comment, is lost. Turn it off "
                    "(wgtui offers it) unless you rely on it."]
        return []

    def make_plan(self, action: str, title: str, after: Document | None, runtime: list[PeerUpdate],
              warnings: list[str], notes: list[str], public_key: str, **extra: object) -> Plan:
        if self.file_only:
            runtime = []
            notes = [*notes, "File only: the running interface is left as it is (apply later with wg syncconf "
                             "or a restart, or let wgtui show the drift)."]
        elif runtime:
            kind = self.runtime.backend if self.runtime else "kernel"
            via = {"userspace": "the UAPI socket", "demo": "the simulated demo interface"}.get(kind, "netlink")
            notes = [*notes, f"Applies live through {via}: no restart, no dropped sessions."]
        basis, owners = basis_of(self.runtime, runtime) if self.runtime is not None and runtime else ({}, {})
        client = extra.get("client")
        if isinstance(client, ClientConfig) and client.has_private_key and "client_path" not in extra:
            name = str(extra.get("peer_name") or keys.short_key(public_key))
            extra["client_path"] = client_config_path(self.config_path.parent, self.ifname, name)
        return Plan(action=action, ifname=self.ifname, title=title, config_path=self.config_path,
                    before=self.before, before_fingerprint=self.before_fingerprint,
                    after=after.render() if after is not None else None, runtime=tuple(runtime),
                    warnings=tuple(warnings + self._common_warnings()), notes=tuple(notes),
                    file_only=self.file_only, public_key=public_key, basis=basis, owners=owners,
                    **extra)  # type: ignore[arg-type]

    def psk_of(self, key: str) -> str | None:
        view = self.doc.find_peer(key)
        if view is not None and view.preshared_key:
            return view.preshared_key
        if self.backend is not None and self.runtime is not None and key in self.runtime.peers:
            return self.backend.preshared_key(self.ifname, key)
        return None

    def client_for(self, private_key: str, addresses: tuple[str, ...], psk: str | None) -> ClientConfig:
        server_key = (self.runtime.public_key if self.runtime else None) or _server_public_key(self.doc)
        s = self.settings
        return ClientConfig(private_key=private_key, addresses=addresses, server_public_key=server_key or "",
                            server_endpoint=s.endpoint, allowed_ips=s.allowed_ips, dns=s.dns,
                            preshared_key=psk, keepalive=s.keepalive)

    # -- the changes -----------------------------------------------------------------------------------------

    def add(self, name: str, *, public_key: str | None = None, allowed_ips: str | tuple[str, ...] = "auto",
            preshared_key: bool = False, keepalive: int | str | None = None, endpoint: str | None = None,
            expires: str | Expiry | Unchanged | None = KEEP, quota: str | Quota | Unchanged | None = KEEP) -> Plan:
        name = validate_name(name, self.doc.naming.convention, taken=[p.name for p in self.peers() if p.name])
        policy, more = self._policy(expires, quota)
        private, public_key = self.new_key(public_key)
        ips = self.auto_allowed_ips() if allowed_ips == "auto" else validate_allowed_ips(allowed_ips)
        warnings, notes = self._check_allowed_ips(ips, name, exclude=())
        warnings += more
        ka = validate_keepalive(keepalive) if keepalive not in (None, "") else None
        ep = validate_endpoint(endpoint) if endpoint else None
        psk = keys.generate_preshared_key() if preshared_key else None
        created = format_meta({KEY_CREATED: stamp(self.clock()), **{k: v for k, v in policy.items() if v}})
        after = self.doc.add_peer(public_key, allowed_ips=list(ips), name=name, preshared_key=psk, endpoint=ep,
                                  persistent_keepalive=ka or None, comments=[created])
        update = PeerUpdate(public_key, allowed_ips=ips, preshared_key=psk if psk else KEEP,
                            persistent_keepalive=ka if ka else KEEP, endpoint=ep if ep else KEEP)
        client = self.client_for(private, ips, psk) if private else None
        if client:
            warnings += client.warnings()
        return self.make_plan("add", f"Add peer {name} to {self.ifname}", after, [update], warnings, notes,
                          public_key, client=client, peer_name=name)

    def remove(self, query: str) -> Plan:
        peer = self.resolve(query)
        after = self.doc.remove_peer(peer.public_key) if peer.in_file else None
        runtime = [PeerUpdate(peer.public_key, remove=True)] if peer.in_runtime else []
        notes = [] if peer.in_file else ["The peer is not in the config file: only the running interface changes."]
        if not peer.in_runtime and not self.file_only:
            notes.append("The peer is not on the running interface: only the file changes.")
        label = peer.name or keys.short_key(peer.public_key)
        gone = follow(self.config_path.parent, self.ifname, peer.public_key, peer.name, delete=True)
        if gone:
            notes.append(f"Its saved client config {gone[0][0]} (with its private key) is deleted too.")
        return self.make_plan("remove", f"Remove peer {label} from {self.ifname}", after, runtime, [], notes,
                          peer.public_key, peer_name=peer.name, client_updates=gone)

    def edit(self, query: str, *, name: str | Unchanged = KEEP, allowed_ips: str | tuple[str, ...] | Unchanged = KEEP,
             keepalive: int | str | Unchanged = KEEP, endpoint: str | Unchanged = KEEP,
             expires: str | Expiry | Unchanged | None = KEEP, quota: str | Quota | Unchanged | None = KEEP) -> Plan:
        """`expires` and `quota` (text as people write it, or parsed; None, `never`, `none` lift them) go into the
        block's `# wgtui:` comment."""
        peer = self.resolve(query)
        if not peer.in_file:
            raise ChangeRefused(f"{peer.name or keys.short_key(peer.public_key)} is on the running interface "
                                "but not in the config file: adopt it into the file first (sync).")
        policy, warnings = self._policy(expires, quota)
        doc, update = self.doc.set_peer_meta(peer.public_key, policy), PeerUpdate(peer.public_key)
        notes: list[str] = []
        label = peer.name or keys.short_key(peer.public_key)
        new_name: str | None = None
        new_ips: tuple[str, ...] | None = None
        if name is not KEEP:
            new_name = validate_name(name, doc.naming.convention,
                                     taken=[p.name for p in self.peers() if p.name and p.public_key != peer.public_key])
            doc = doc.rename_peer(peer.public_key, new_name)
            label = new_name
        if allowed_ips is not KEEP:
            ips = self.auto_allowed_ips() if allowed_ips == "auto" else validate_allowed_ips(allowed_ips)
            more, notes = self._check_allowed_ips(ips, label, exclude=[peer.public_key])
            warnings += more
            doc = doc.set_peer_field(peer.public_key, "AllowedIPs", list(ips))
            update = _with(update, allowed_ips=ips)
            new_ips = ips
        if keepalive is not KEEP:
            ka = validate_keepalive(keepalive) if keepalive != "" else 0
            doc = doc.set_peer_field(peer.public_key, "PersistentKeepalive", ka or None)
            update = _with(update, persistent_keepalive=ka)  # 0 is sent: leaving it out does not clear it
        if endpoint is not KEEP:
            if endpoint:
                ep = validate_endpoint(endpoint)
                doc = doc.set_peer_field(peer.public_key, "Endpoint", ep)
                update = _with(update, endpoint=ep)
            else:
                doc = doc.set_peer_field(peer.public_key, "Endpoint", None)
                notes.append("WireGuard cannot clear an endpoint at runtime: the running interface keeps the "
                             "last one until the peer roams or the interface restarts.")
        if doc == self.doc and update == PeerUpdate(peer.public_key):
            raise NothingToDo("Nothing to change: the values given are the ones the peer already has.")
        runtime = [update] if peer.in_runtime and update != PeerUpdate(peer.public_key) else []
        if not peer.in_runtime and not self.file_only:
            notes.append("The peer is not on the running interface: only the file changes.")
        saved = follow(self.config_path.parent, self.ifname, peer.public_key, peer.name, new_name=new_name,
                       addresses=client_addresses(new_ips) if new_ips is not None else None)
        if saved:
            notes.append(f"Its saved client config follows: {saved[0][0]}.")
        return self.make_plan("edit", f"Edit peer {label} on {self.ifname}", doc, runtime, warnings, notes,
                          peer.public_key, client_updates=saved)

    def rotate_now(self, query: str, *, public_key: str | None = None) -> Plan:
        """Swap at once: the new key takes the AllowedIPs and the old key goes, in one runtime transaction."""
        old = self.resolve(query)
        if not old.in_file:
            raise ChangeRefused("Only peers in the config file can be rotated (adopt it into the file first).")
        private, public_key = self.new_key(public_key)
        view = self.doc.peer(old.public_key)
        psk = self.psk_of(old.public_key)
        ips = tuple(str(ipalloc.network(ip)) for ip in view.allowed_ips)
        after = self.doc.replace_public_key(old.public_key, public_key).set_peer_meta(
            public_key, {KEY_CREATED: stamp(self.clock())})
        runtime = []
        if old.in_runtime:
            live = self.runtime.peers[old.public_key] if self.runtime else None
            runtime = [PeerUpdate(public_key, allowed_ips=live.allowed_ips if live else ips,
                                  preshared_key=psk if psk else KEEP,
                                  persistent_keepalive=live.persistent_keepalive if live else KEEP),
                       PeerUpdate(old.public_key, remove=True)]
        label = old.name or keys.short_key(old.public_key)
        warnings = [f"The client still using the old key ({label}) is cut off at once: give it the new config now. "
                    "Use a staged rotation to avoid that."]
        client = self.client_for(private, client_addresses(ips), psk) if private else None
        title = f"Rotate the key of {label} on {self.ifname} (now)"
        return self.make_plan("rotate", title, after, runtime, warnings + (client.warnings() if client else []),
                          [], public_key,
                          old_public_key=old.public_key, client=client, peer_name=old.name)

    def rotate_psk(self, query: str) -> Plan:
        """A new preshared key in place: same peer, same AllowedIPs; the client must get the new PSK too."""
        peer = self.resolve(query)
        if not peer.in_file:
            raise ChangeRefused("Only peers in the config file can have their preshared key rotated.")
        psk = keys.generate_preshared_key()
        after = self.doc.set_peer_field(peer.public_key, "PresharedKey", psk)
        runtime = [PeerUpdate(peer.public_key, preshared_key=psk)] if peer.in_runtime else []
        label = peer.name or keys.short_key(peer.public_key)
        warnings = [f"Handshakes with {label} fail until its client has the new preshared key "
                    "(the session in progress lasts at most 3 minutes)."]
        client = ClientConfig(private_key="", addresses=(), server_public_key="",
                              server_endpoint="", allowed_ips=(), preshared_key=psk)
        saved = follow(self.config_path.parent, self.ifname, peer.public_key, peer.name, preshared_key=psk)
        notes = [f"Its saved client config {saved[0][0]} gets the new preshared key too."] if saved else []
        return self.make_plan("psk", f"Rotate the preshared key of {label} on {self.ifname}", after, runtime,
                          warnings, notes, peer.public_key, client=client, client_updates=saved)

    def disable_save_config(self) -> Plan:
        after = self.doc.set_interface_field("SaveConfig", False)
        return self.make_plan("edit", f"Turn SaveConfig off in {self.config_path.name}", after, [], [],
                          ["Only the file changes: SaveConfig matters to wg-quick at `down`, not to the kernel."], "")


ipaddress_net = ipalloc.Network


def _with(update: PeerUpdate, **fields: object) -> PeerUpdate:
    from dataclasses import replace

    return replace(update, **fields)  # type: ignore[arg-type]


def _server_public_key(doc: Document) -> str | None:
    iface = doc.interface
    if iface is None or not iface.private_key:
        return None
    try:
        return keys.public_key(iface.private_key)
    except (keys.KeyError_, ValueError):
        return None


__all__ = ["ChangeRefused", "PeerInfo", "Plan", "Planner", "ValidationError", "mask_secrets", "refuse_taken"]
