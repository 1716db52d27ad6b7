"""Provides `wgtui show`: a one-shot text view like `wg show` with names and humanized figures, or JSON."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from wgtui import fmt
from wgtui.backends.base import Backend, BackendError
from wgtui.changes import journal
from wgtui.model import InterfaceState, PeerState
from wgtui.monitor import peer_status
from wgtui.store import StoreError


def peer_json(peer: PeerState, name: str, now: float, online_after: float) -> dict[str, Any]:
    return {
        "name": name or None,
        "public_key": peer.public_key,
        "endpoint": peer.endpoint,
        "allowed_ips": list(peer.allowed_ips),
        "latest_handshake": peer.latest_handshake or None,
        "rx_bytes": peer.rx_bytes,
        "tx_bytes": peer.tx_bytes,
        "persistent_keepalive": peer.persistent_keepalive,
        "has_preshared_key": peer.has_preshared_key,
        "state": peer_status(peer, now, online_after).value,
    }


def interrupted_change(config_dir: Path, ifname: str) -> dict[str, Any] | None:
    """The change a kill -9 or a crash interrupted on this interface, if its journal is there (read-only: `wgtui
    show` never recovers; without root the journal's content may be unreadable, its presence is still said)."""
    config = config_dir / f"{ifname}.conf"
    if not journal.exists(config):
        return None
    try:
        found = journal.read(config)
    except StoreError:
        found = None
    return {"action": found.action if found else None, "title": found.title if found else None,
            "started": int(found.started) if found else None}


def interface_json(iface: InterfaceState, names: Mapping[str, str], now: float, online_after: float,
                   interrupted: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": iface.name,
        "backend": iface.backend,
        "up": iface.up,
        "error": iface.error,
        "public_key": iface.public_key,
        "listen_port": iface.listen_port,
        "fwmark": iface.fwmark,
        "peers": [peer_json(p, names.get(k, ""), now, online_after) for k, p in iface.peers.items()],
        "interrupted_change": interrupted,
    }


def _by_handshake(iface: InterfaceState) -> list[PeerState]:
    # `wg show` lists the most recently active peers first; so do we.
    return sorted(iface.peers.values(), key=lambda p: p.latest_handshake, reverse=True)


def print_text(ifaces: list[InterfaceState], names_of: Mapping[str, Mapping[str, str]], now: float,
               online_after: float, out: TextIO) -> None:
    blocks: list[str] = []
    for iface in ifaces:
        names = names_of.get(iface.name, {})
        online = sum(peer_status(p, now, online_after).value == "online" for p in iface.peers.values())
        lines = [f"interface: {iface.name} ({iface.backend}{'' if iface.up else ', down'})"]
        if iface.error:
            lines.append(f"  error: {iface.error}")
        else:
            lines += [f"  public key: {iface.public_key or '(none)'}",
                      "  private key: (hidden)",
                      f"  listening port: {iface.listen_port}"]
            if iface.fwmark:
                lines.append(f"  fwmark: 0x{iface.fwmark:x}")
            lines.append(f"  peers: {online} online of {len(iface.peers)}")
        blocks.append("\n".join(lines))
        for peer in _by_handshake(iface):
            status = peer_status(peer, now, online_after)
            name = names.get(peer.public_key, "")
            plines = [f"{fmt.STATUS_GLYPH[status]} peer: {peer.public_key}" + (f"  ({name})" if name else ""),
                      f"  state: {status.value}"]
            if peer.has_preshared_key:
                plines.append("  preshared key: (hidden)")
            if peer.endpoint:
                plines.append(f"  endpoint: {peer.endpoint}")
            plines.append(f"  allowed ips: {fmt.allowed_ips(peer.allowed_ips)}")
            plines.append(f"  latest handshake: {fmt.handshake_ago(peer.latest_handshake, now)}")
            if peer.rx_bytes or peer.tx_bytes:
                plines.append(f"  transfer: {fmt.size(peer.rx_bytes)} received, {fmt.size(peer.tx_bytes)} sent")
            if peer.persistent_keepalive:
                plines.append(f"  persistent keepalive: every {peer.persistent_keepalive} seconds")
            blocks.append("\n".join(plines))
    out.write("\n\n".join(blocks) + "\n")


def read_all(backend: Backend, only: str | None) -> tuple[list[InterfaceState], str | None]:
    """Every interface (or just `only`), with the reason when nothing could be listed."""
    if only is not None:
        try:
            return [backend.read(only)], None
        except BackendError as exc:
            return [], str(exc)
    from wgtui.backends.host import readable_interfaces

    names, reason = readable_interfaces(backend)
    if not names:
        return [], reason
    return [backend.read(name) for name in names], None


def run_show(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from wgtui.cli import open_backend
    from wgtui.config_source import ConfigSource

    out = out or sys.stdout
    backend, config_dir = open_backend(args.demo, args.config_dir)
    try:
        ifaces, reason = read_all(backend, args.interface)
        if reason is not None:
            hint = "" if args.demo is not None else " Try `wgtui show --demo` to see what wgtui shows."
            print(f"wgtui: {reason}{hint}", file=sys.stderr)
            return 1
        now = time.time()
        source = ConfigSource(config_dir)
        names_of = {iface.name: source.names(iface.name) for iface in ifaces}
        waiting = {i.name: interrupted_change(config_dir, i.name) for i in ifaces}
        for name, change in waiting.items():
            if change is not None:
                what = f" ({change['title']})" if change["title"] else ""
                print(f"wgtui: an interrupted change to {config_dir / (name + '.conf')}{what} is waiting: `wgtui peer "
                      f"recover {name}` completes or undoes it (any change or the dashboard does it first).",
                      file=sys.stderr)
        if args.json:
            doc = {"time": int(now),
                   "interfaces": [interface_json(i, names_of[i.name], now, args.online_after, waiting[i.name])
                                  for i in ifaces]}
            json.dump(doc, out, indent=2)
            out.write("\n")
        else:
            print_text(ifaces, names_of, now, args.online_after, out)
        return 0
    finally:
        backend.close()
