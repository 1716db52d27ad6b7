"""Provides the saved client configs kept in step with their peers: what a change rewrites, and what no longer fits."""

# wgtui keeps the client config of every key pair it made (CONFIG_DIR/clients/IF-NAME.conf, 0600): the server never
# knows a client's private key, so that file is the only way to hand a client its config again. A change that
# alters what the client needs (its preshared key, its Address, its name, the peer itself) rewrites, moves or
# deletes that file in the same transaction; `c` in the dashboard warns about anything that still does not fit.

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from wgtui import keys
from wgtui.backends.base import Backend, BackendError
from wgtui.client_config import client_config_path
from wgtui.conf import ConfError, Document
from wgtui.model import KEEP, Unchanged
from wgtui.store import StoreError, read_regular


def client_addresses(ips: Sequence[str]) -> tuple[str, ...]:
    """The client's own addresses: the host prefixes among its AllowedIPs on the server."""
    return tuple(ip for ip in ips if ip.endswith("/32") or ip.endswith("/128")) or tuple(ips)


def owned_text(path: Path, public_key: str) -> str | None:
    """The saved config at `path` if it holds the private key of `public_key` (another peer's file, or one from
    before a rotation, is never rewritten or deleted on this peer's behalf)."""
    try:
        data = read_regular(path, follow=False)
        if data is None:
            return None
        text = data.decode("utf-8")
        iface = Document.parse(text).interface
        private = iface.private_key if iface else None
        return text if private and keys.public_key(private) == public_key else None
    except (StoreError, UnicodeDecodeError, ConfError, keys.KeyError_, ValueError):
        return None


def updated_text(text: str, *, addresses: Sequence[str] | None = None,
                 preshared_key: str | Unchanged | None = KEEP, endpoint: str | None = None) -> str:
    """The client config with the fields that follow the server changed, every other byte kept."""
    doc = Document.parse(text)
    if addresses is not None:
        doc = doc.set_interface_field("Address", list(addresses))
    server = next((p.public_key for p in doc.peers if p.public_key), None)
    if server is not None:
        if preshared_key is not KEEP:
            doc = doc.set_peer_field(server, "PresharedKey", preshared_key)
        if endpoint:
            doc = doc.set_peer_field(server, "Endpoint", endpoint)
    return doc.render()


def mismatches(text: str, *, public_key: str, addresses: Sequence[str], preshared_key: str | None,
               server_public_key: str | None, server_endpoint: str | None) -> list[str]:
    """Sentences for what in a saved client config no longer matches the server's view of the peer."""
    try:
        doc = Document.parse(text)
    except ConfError as exc:
        return [f"This file is not a wg-quick file ({exc}): it may not be a client config written by wgtui."]
    iface = doc.interface
    private = iface.private_key if iface else None
    try:
        derived = keys.public_key(private) if private else None
    except (keys.KeyError_, ValueError):
        derived = None
    if derived != public_key:
        if derived is None:
            return ["This file has no readable PrivateKey: it may not be a client config written by wgtui."]
        return [f"This file's private key belongs to {keys.short_key(derived)}, not to this peer's current key "
                f"{keys.short_key(public_key)}: it is an older config (before a key rotation) or another peer's, "
                "and a client using it cannot connect. Rotate the key (r) to make a new one."]
    out = []
    have = set(iface.addresses) if iface else set()
    if addresses and have != set(addresses):
        out.append(f"Its Address is {', '.join(sorted(have)) or '(none)'} but the server routes "
                   f"{', '.join(addresses)} to this peer: the client's packets would be dropped.")
    server = next((p for p in doc.peers if p.public_key), None)
    if server is None:
        return [*out, "It has no [Peer] for the server."]
    if (server.preshared_key or None) != (preshared_key or None):
        out.append("Its PresharedKey differs from the server's for this peer: handshakes fail." if preshared_key
                   else "It has a PresharedKey the server does not use for this peer: handshakes fail.")
    if server_public_key and server.public_key != server_public_key:
        out.append(f"It names the server key {keys.short_key(server.public_key)}, but the server's key is "
                   f"{keys.short_key(server_public_key)}.")
    if server_endpoint and server.endpoint != server_endpoint:
        out.append(f"Its Endpoint is {server.endpoint or '(none)'}; clients are told {server_endpoint} now.")
    return out


def check_saved(config_dir: Path, ifname: str, public_key: str, name: str,
                backend: Backend | None) -> tuple[Path, str | None, list[str]]:
    """The saved client config of a peer: its path, its text (None when there is none) and what no longer fits."""
    from wgtui.settings import load as load_settings

    path = client_config_path(config_dir, ifname, name or keys.short_key(public_key))
    try:
        data = read_regular(path, follow=False)
    except StoreError as exc:
        return path, None, [str(exc)]
    if data is None:
        return path, None, []
    text = data.decode("utf-8", errors="replace")
    try:
        doc = Document.from_bytes(read_regular(config_dir / f"{ifname}.conf") or b"")
    except (StoreError, ConfError):
        doc = None
    view = doc.find_peer(public_key) if doc is not None else None
    ips: Sequence[str] = view.allowed_ips if view is not None else ()
    psk = view.preshared_key if view is not None else None
    server_key = None
    if backend is not None:
        try:
            state = backend.read(ifname)
            server_key = state.public_key
            live = state.peers.get(public_key)
            if live is not None:
                ips = live.allowed_ips
                if view is None and live.has_preshared_key:
                    psk = backend.preshared_key(ifname, public_key)
        except BackendError:
            pass
    try:
        endpoint = load_settings(config_dir, ifname).endpoint or None
    except StoreError:
        endpoint = None
    return path, text, mismatches(text, public_key=public_key, addresses=client_addresses(ips), preshared_key=psk,
                                  server_public_key=server_key, server_endpoint=endpoint)


def follow(config_dir: Path, ifname: str, public_key: str, name: str, *, new_name: str | None = None,
           new_key: str | None = None, addresses: Sequence[str] | None = None,
           preshared_key: str | Unchanged | None = KEEP, delete: bool = False) -> tuple[tuple[Path, str | None], ...]:
    """How the peer's saved client config follows a change: (path, new text or None to delete) pairs for the
    transaction; nothing when there is no saved config of this peer's key."""
    path = client_config_path(config_dir, ifname, name or keys.short_key(public_key))
    text = owned_text(path, public_key)
    if text is None:
        return ()
    if delete:
        return ((path, None),)
    new = text
    if addresses is not None or preshared_key is not KEEP:
        new = updated_text(text, addresses=addresses, preshared_key=preshared_key)
    target = path
    if new_name is not None or new_key is not None:
        target = client_config_path(config_dir, ifname, new_name or name or keys.short_key(new_key or public_key))
    if target != path:
        return ((target, new), (path, None))
    return ((path, new),) if new != text else ()
