"""Provides per-interface settings for client configs (server endpoint, DNS, routes) kept in CONFIG_DIR/wgtui.json."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from wgtui.store import StoreError, read_bytes, write_atomic

SETTINGS_FILE = "wgtui.json"
FULL_TUNNEL = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class ClientSettings:
    """What a client config needs that the server's own file does not say."""

    endpoint: str = ""
    """How clients reach this server, `vpn.example.com:51820`. Empty: asked for (the server cannot know its
    public name or the address behind a NAT)."""
    dns: tuple[str, ...] = ()
    allowed_ips: tuple[str, ...] = FULL_TUNNEL
    """What the client routes through the tunnel; everything by default, like most road-warrior setups."""
    keepalive: int = 25
    """Clients behind NAT need keepalives to stay reachable; 25 s is what wg(8) suggests."""
    handshake_timeout: int = 600
    """Seconds a staged rotation waits for the new key's first handshake."""
    extra: dict[str, object] = field(default_factory=dict, compare=False)


def _path(config_dir: Path) -> Path:
    return config_dir / SETTINGS_FILE


def load(config_dir: Path, ifname: str) -> ClientSettings:
    data = read_bytes(_path(config_dir))
    if not data:
        return ClientSettings()
    try:
        raw = json.loads(data).get("interfaces", {}).get(ifname, {})
    except (ValueError, AttributeError):
        raise StoreError(f"{_path(config_dir)} is not valid JSON; fix or remove it.") from None
    base = ClientSettings()
    return replace(
        base,
        endpoint=str(raw.get("endpoint", base.endpoint)),
        dns=tuple(raw.get("dns", base.dns)),
        allowed_ips=tuple(raw.get("allowed_ips", base.allowed_ips)),
        keepalive=int(raw.get("keepalive", base.keepalive)),
        handshake_timeout=int(raw.get("handshake_timeout", base.handshake_timeout)),
    )


def save(config_dir: Path, ifname: str, settings: ClientSettings) -> None:
    path = _path(config_dir)
    data = read_bytes(path)
    try:
        doc = json.loads(data) if data else {}
    except ValueError:
        doc = {}
    values = asdict(settings)
    values.pop("extra", None)
    doc.setdefault("interfaces", {})[ifname] = values
    write_atomic(path, (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode())
