"""Provides `wgtui init`: a wg-quick file written from a running interface that has none, never over an existing one."""

from __future__ import annotations

import ipaddress
import json
import subprocess
from pathlib import Path

from wgtui import keys
from wgtui.backends.base import Backend, BackendError
from wgtui.changes.plan import ChangeRefused, Plan
from wgtui.conf import Document
from wgtui.store import check_directory, fingerprint, read_bytes


def interface_addresses(ifname: str) -> list[str]:
    """The addresses on the link, as `ip` reports them (wg-quick's Address): host address with its prefix."""
    try:
        done = subprocess.run(["ip", "-j", "addr", "show", "dev", ifname], capture_output=True, text=True,
                              timeout=10)
        entries = json.loads(done.stdout or "[]") if done.returncode == 0 else []
    except (OSError, ValueError, subprocess.SubprocessError):
        return []
    out = []
    for entry in entries:
        for info in entry.get("addr_info", []):
            local, plen = info.get("local"), info.get("prefixlen")
            if local is None or plen is None:
                continue
            try:
                address = ipaddress.ip_address(local)
            except ValueError:
                continue
            if address.is_link_local:
                continue  # the kernel adds these by itself; wg-quick must not
            out.append(f"{address}/{plen}")
    return out


def plan_init(ifname: str, config: Path, backend: Backend, *, addresses: list[str] | None = None) -> Plan:
    """The whole file from the running interface: PrivateKey, ListenPort, FwMark, Address, and every peer with
    its PresharedKey, AllowedIPs, Endpoint and PersistentKeepalive. Refused when the file exists."""
    check_directory(config.parent)
    if read_bytes(config) is not None:
        raise ChangeRefused(f"{config} exists already: wgtui init never overwrites a config file. Use `wgtui peer "
                            f"sync {ifname}` to bring it in step with the interface.")
    try:
        state = backend.read(ifname)
        private = backend.private_key(ifname)
    except BackendError as exc:
        raise ChangeRefused(f"Cannot read {ifname}: {exc}") from None
    if private is None:
        raise ChangeRefused(f"{ifname} has no private key: there is nothing to write a config for.")
    lines = [f"# {ifname}: written by `wgtui init` from the running interface", "[Interface]",
             f"PrivateKey = {private}"]
    if state.listen_port:
        lines.append(f"ListenPort = {state.listen_port}")
    if state.fwmark:
        lines.append(f"FwMark = {state.fwmark:#x}")
    found = interface_addresses(ifname) if addresses is None else addresses
    if found:
        lines.append(f"Address = {', '.join(found)}")
    text = "\n".join(lines) + "\n"
    doc = Document.parse(text)
    for key, peer in state.peers.items():
        psk = backend.preshared_key(ifname, key) if peer.has_preshared_key else None
        doc = doc.add_peer(key, allowed_ips=list(peer.allowed_ips), preshared_key=psk, endpoint=peer.endpoint,
                           persistent_keepalive=peer.persistent_keepalive or None)
    notes = [f"{len(state.peers)} peer(s) from {ifname}. Names: none yet (`wgtui peer edit {ifname} PEER --name "
             "NAME` adds them). The file is written 0600; nothing on the interface changes."]
    if not found:
        notes.append(f"{ifname} has no address: add `Address = …` to [Interface] before using `wg-quick up`.")
    return Plan(action="init", ifname=ifname, title=f"Write {config} from the running {ifname}", config_path=config,
                before="", before_fingerprint=fingerprint(None), after=doc.render(), notes=tuple(notes),
                public_key=keys.public_key(private))
