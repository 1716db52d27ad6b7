"""Provides per-interface settings for client configs (server endpoint, DNS, routes) kept in CONFIG_DIR/wgtui.json."""

from __future__ import annotations

import ipaddress
import json
from argparse import ArgumentTypeError
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from wgtui import paths
from wgtui.conf.errors import ValidationError
from wgtui.conf.validate import validate_allowed_ips, validate_endpoint, validate_hostname, validate_keepalive
from wgtui.durations import parse_age
from wgtui.store import StoreError, read_regular, write_atomic

SETTINGS_FILE = "wgtui.json"
FULL_TUNNEL = ("0.0.0.0/0", "::/0")


class SettingsError(StoreError):
    """wgtui.json holds something wgtui will not use; the message names the file, the key and the fix."""


@dataclass(frozen=True)
class ClientSettings:
    """What a client config needs that the server's own file does not say."""

    endpoint: str = ""
    """How clients reach this server, `vpn.example.com:51820`. Empty: asked for (the server cannot know its
    public name or the address behind a NAT)."""
    dns: tuple[str, ...] = ()
    allowed_ips: tuple[str, ...] = FULL_TUNNEL
    """What the client routes through the tunnel; everything by default, like most road-warrior setups."""
    keepalive: int = paths.CLIENT_KEEPALIVE
    """Clients behind NAT need keepalives to stay reachable; 25 s is what wg(8) suggests."""
    handshake_timeout: int = paths.HANDSHAKE_TIMEOUT
    """Seconds a staged rotation waits for the new key's first handshake."""
    max_key_age: int = 0
    """Seconds after which a peer's key is overdue for rotation (`"90d"` in the file); 0: no policy."""
    extra: dict[str, object] = field(default_factory=dict, compare=False)


def _path(config_dir: Path) -> Path:
    return config_dir / SETTINGS_FILE


def _endpoint(value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationError("endpoint", "must be a string like vpn.example.com:51820")
    return validate_endpoint(value) if value.strip() else ""


def _dns(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ValidationError("dns", "must be a list of addresses or search domains")
    out = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            out.append(str(ipaddress.ip_address(item)))
        except ValueError:
            out.append(validate_hostname(item, "dns"))  # wg-quick takes a non-address as a search domain
    return tuple(out)


def _allowed_ips(value: Any) -> tuple[str, ...]:
    if not isinstance(value, str | list | tuple) or not all(isinstance(i, str) for i in value):
        raise ValidationError("allowed_ips", "must be a list of networks like 0.0.0.0/0")
    return validate_allowed_ips(value)


def _keepalive(value: Any) -> int:
    if not isinstance(value, int | str):
        raise ValidationError("keepalive", "must be a number of seconds from 0 to 65535")
    return validate_keepalive(value, "keepalive")


def _max_key_age(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationError("max_key_age", "must be an age like \"90d\" or a number of seconds")
    if isinstance(value, int):
        if value < 0:
            raise ValidationError("max_key_age", "must not be negative")
        return value
    try:
        return int(parse_age(value))
    except ArgumentTypeError as exc:
        raise ValidationError("max_key_age", str(exc)) from None


def _timeout(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 10 <= value <= 86400:
        raise ValidationError("handshake_timeout", "must be a whole number of seconds from 10 to 86400")
    return value


_FIELDS: dict[str, Callable[[Any], object]] = {"endpoint": _endpoint, "dns": _dns, "allowed_ips": _allowed_ips,
                                               "keepalive": _keepalive, "handshake_timeout": _timeout,
                                               "max_key_age": _max_key_age}


def _read(path: Path) -> dict[str, Any]:
    """The whole file as an object ({} when absent); never through a symlink, never anything but an object."""
    data = read_regular(path, follow=False)
    if not data:
        return {}
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise SettingsError(f"{path} is not valid JSON ({exc}): fix or remove it.") from None
    if not isinstance(doc, dict):
        raise SettingsError(f"{path} must hold a JSON object, not {type(doc).__name__}: fix or remove it.")
    interfaces = doc.get("interfaces", {})
    if not isinstance(interfaces, dict):
        raise SettingsError(f"{path}: \"interfaces\" must be an object mapping interface names to settings.")
    for name, entry in interfaces.items():
        if not isinstance(entry, dict):
            raise SettingsError(f"{path}: interfaces.{name} must be an object, not {type(entry).__name__}.")
    return doc


def load(config_dir: Path, ifname: str) -> ClientSettings:
    """The settings of `ifname`, each value checked with the validators the command line uses: a value that could
    not be typed on the command line (a line break in an endpoint, say) is an error naming its key."""
    path = _path(config_dir)
    raw = _read(path).get("interfaces", {}).get(ifname, {})
    values: dict[str, object] = {}
    for key, value in raw.items():
        check = _FIELDS.get(key)
        if check is None:
            raise SettingsError(f"{path}: interfaces.{ifname}.{key} is not a setting wgtui knows (known: "
                                f"{', '.join(_FIELDS)}).")
        try:
            values[key] = check(value)
        except ValidationError as exc:
            raise SettingsError(f"{path}: interfaces.{ifname}.{key}: {exc.message}.") from None
    return replace(ClientSettings(), **values)  # type: ignore[arg-type]


def save(config_dir: Path, ifname: str, settings: ClientSettings) -> None:
    path = _path(config_dir)
    doc = _read(path)
    values = asdict(settings)
    values.pop("extra", None)
    doc.setdefault("interfaces", {})[ifname] = values
    write_atomic(path, (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode())
