"""Provides `wgtui show`: a one-shot text view like `wg show` with names and humanized figures, or JSON."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from wgtui import fmt, keys
from wgtui.backends.base import Backend, BackendError
from wgtui.changes import journal
from wgtui.cli.show_lifecycle import InterfaceUsage, UsageReader, lifecycle_json, lifecycle_lines
from wgtui.conf import PeerView
from wgtui.config_source import PeerMeta
from wgtui.durations import short_age
from wgtui.model import InterfaceState, PeerState
from wgtui.monitor import peer_status
from wgtui.store import StoreError


def rotation_json(meta: PeerMeta | None, peers: Mapping[str, PeerState]) -> dict[str, Any] | None:
    """The pending rotation of a peer being rotated: its new key, since when, and whether that key has handshaken."""
    if meta is None or not meta.rotating_to:
        return None
    new = peers.get(meta.rotating_to)
    return {"new_public_key": meta.rotating_to, "started": meta.rotation_started,
            "state": "handshaken" if new is not None and new.latest_handshake > 0 else "waiting"}


DISABLED_GLYPH = fmt.DISABLED_GLYPH
"""A disabled peer: neither online, stale nor never, and a different shape from all three."""


def peer_json(peer: PeerState, name: str, now: float, online_after: float, meta: PeerMeta | None = None,
              peers: Mapping[str, PeerState] | None = None, usage: InterfaceUsage | None = None) -> dict[str, Any]:
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
        "key_created": meta.key_created if meta is not None else None,
        "rotation": rotation_json(meta, peers or {}),
        **lifecycle_json(peer.public_key, meta, usage or InterfaceUsage(""), now),
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


def disabled_json(view: PeerView, name: str, meta: PeerMeta | None = None, usage: InterfaceUsage | None = None,
                  now: float = 0.0) -> dict[str, Any]:
    """A disabled peer (commented out in the file, off the interface), in the shape of a live one; its
    disabled_reason is `manual` unless the block says `expired` or `quota`."""
    lifecycle = lifecycle_json(view.public_key or "", meta, usage or InterfaceUsage(""), now)
    return {"name": name or None, "public_key": view.public_key, "endpoint": view.endpoint,
            "allowed_ips": list(view.allowed_ips), "latest_handshake": None, "rx_bytes": 0, "tx_bytes": 0,
            "persistent_keepalive": view.persistent_keepalive or 0, "has_preshared_key": bool(view.preshared_key),
            "state": "disabled", "key_created": meta.key_created if meta is not None else None, "rotation": None,
            **lifecycle, "disabled_reason": lifecycle["disabled_reason"] or "manual"}


def interface_json(iface: InterfaceState, names: Mapping[str, str], now: float, online_after: float,
                   interrupted: dict[str, Any] | None = None, meta: Mapping[str, PeerMeta] | None = None,
                   disabled: Mapping[str, PeerView] | None = None,
                   usage: InterfaceUsage | None = None) -> dict[str, Any]:
    meta = meta or {}
    off = [disabled_json(v, names.get(k, ""), meta.get(k), usage, now) for k, v in (disabled or {}).items()
           if k not in iface.peers]
    return {
        "name": iface.name,
        "backend": iface.backend,
        "up": iface.up,
        "error": iface.error,
        "public_key": iface.public_key,
        "listen_port": iface.listen_port,
        "fwmark": iface.fwmark,
        "peers": [peer_json(p, names.get(k, ""), now, online_after, meta.get(k), iface.peers, usage)
                  for k, p in iface.peers.items()] + off,
        "interrupted_change": interrupted,
    }


def _by_handshake(iface: InterfaceState) -> list[PeerState]:
    # `wg show` lists the most recently active peers first; so do we.
    return sorted(iface.peers.values(), key=lambda p: p.latest_handshake, reverse=True)


def _meta_lines(meta: PeerMeta | None, names: Mapping[str, str], peers: Mapping[str, PeerState],
                now: float, max_age: float) -> list[str]:
    if meta is None:
        return []
    out = []
    if meta.key_created is not None:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(meta.key_created))
        overdue = f", OVERDUE: older than {short_age(max_age)}" if max_age and now - meta.key_created > max_age \
            else ""
        out.append(f"  key created: {when} ({short_age(now - meta.key_created)} ago{overdue})")
    rotation = rotation_json(meta, peers)
    if rotation is not None:
        waits = "its first handshake is done: the move is due" if rotation["state"] == "handshaken" else \
            "waiting for its first handshake"
        out.append(f"  rotation: pending for {short_age(now - meta.rotation_started)}, new key "
                   f"{keys.short_key(meta.rotating_to)} ({waits})")
    if meta.replaces:
        out.append(f"  replaces: {names.get(meta.replaces) or keys.short_key(meta.replaces)} once it has "
                   "handshaken (a pending key rotation)")
    return out


def print_text(ifaces: list[InterfaceState], names_of: Mapping[str, Mapping[str, str]], now: float,
               online_after: float, out: TextIO, meta_of: Mapping[str, Mapping[str, PeerMeta]] | None = None,
               max_age_of: Mapping[str, float] | None = None,
               disabled_of: Mapping[str, Mapping[str, PeerView]] | None = None,
               usage_of: Mapping[str, InterfaceUsage] | None = None) -> None:
    blocks: list[str] = []
    for iface in ifaces:
        names = names_of.get(iface.name, {})
        metas = (meta_of or {}).get(iface.name, {})
        usage = (usage_of or {}).get(iface.name) or InterfaceUsage(iface.name)
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
            plines += _meta_lines(metas.get(peer.public_key), names, iface.peers, now,
                                  (max_age_of or {}).get(iface.name, 0.0))
            plines += lifecycle_lines(peer.public_key, metas.get(peer.public_key), usage, now)
            blocks.append("\n".join(plines))
        for key, view in (disabled_of or {}).get(iface.name, {}).items():
            if key in iface.peers:
                continue
            name = names.get(key, "")
            reason = {"expired": "its expiry passed", "quota": "its quota is used up"}.get(
                getattr(metas.get(key), "disabled_reason", None) or "", "by hand")
            blocks.append("\n".join([f"{DISABLED_GLYPH} peer: {key}" + (f"  ({name})" if name else ""),
                                     f"  state: disabled, {reason} (commented out in the file, off the interface; "
                                     "`wgtui peer enable` brings it back)",
                                     f"  allowed ips: {fmt.allowed_ips(view.allowed_ips)}",
                                     *lifecycle_lines(key, metas.get(key), usage, now)]))
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


def _max_age(args: argparse.Namespace, config_dir: Path, ifname: str) -> float:
    """--max-key-age, else the interface's max_key_age in wgtui.json, else no policy (0)."""
    if getattr(args, "max_key_age", 0.0):
        return float(args.max_key_age)
    from wgtui.settings import load

    try:
        return float(load(config_dir, ifname).max_key_age)
    except StoreError:
        return 0.0


def run_show(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from wgtui.cli import open_backend
    from wgtui.config_source import ConfigSource

    out = out or sys.stdout
    backend, config_dir = open_backend(args.demo, args.config_dir)
    try:
        ifaces, reason = read_all(backend, args.only)
        if reason is not None:
            hint = "" if args.demo is not None else " Try `wgtui show --demo` to see what wgtui shows."
            print(f"wgtui: {reason}{hint}", file=sys.stderr)
            if args.json:  # a script still gets JSON: no interfaces, and why
                json.dump({"time": int(time.time()), "interfaces": [], "error": reason}, out, indent=2)
                out.write("\n")
            return 1
        now = time.time()
        source = ConfigSource(config_dir)
        views = {iface.name: source(iface.name) for iface in ifaces}
        names_of = {name: view.names for name, view in views.items()}
        meta_of = {name: view.meta for name, view in views.items()}
        disabled_of = {name: view.disabled for name, view in views.items()}
        waiting = {i.name: interrupted_change(config_dir, i.name) for i in ifaces}
        reader = UsageReader(getattr(args, "state_dir", None))
        try:
            usage_of = {i.name: reader.read(i.name, dict(meta_of[i.name]), now) for i in ifaces}
        finally:
            reader.close()
        if reader.problem is not None:
            print(f"wgtui: lifetime totals and quota use unknown: {reader.problem}", file=sys.stderr)
        for name, change in waiting.items():
            if change is not None:
                what = f" ({change['title']})" if change["title"] else ""
                print(f"wgtui: an interrupted change to {config_dir / (name + '.conf')}{what} is waiting: `wgtui peer "
                      f"recover {name}` completes or undoes it (any change or the dashboard does it first).",
                      file=sys.stderr)
        if args.json:
            doc = {"time": int(now),
                   "interfaces": [interface_json(i, names_of[i.name], now, args.online_after, waiting[i.name],
                                                 meta_of[i.name], disabled_of[i.name], usage_of[i.name])
                                  for i in ifaces]}
            json.dump(doc, out, indent=2)
            out.write("\n")
        else:
            print_text(ifaces, names_of, now, args.online_after, out, meta_of,
                       {i.name: _max_age(args, config_dir, i.name) for i in ifaces}, disabled_of, usage_of)
        return 0
    finally:
        backend.close()
