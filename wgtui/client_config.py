"""Provides the client side of a new or rotated peer: its wg-quick config text, a terminal QR code, a 0600 file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from wgtui import paths
from wgtui.conf.lines import unsafe_char
from wgtui.store import write_atomic


class UnsafeClientValue(ValueError):
    """A value that would break the client config's lines (a line break could add `PostUp = …`, which runs as
    root on the client at `wg-quick up`)."""


@dataclass(frozen=True)
class ClientConfig:
    """Everything the client needs. Holds a private key: shown only on request, never logged."""

    private_key: str
    """The client's new private key; "" when the client keeps its own (a preshared-key rotation)."""
    addresses: tuple[str, ...]
    server_public_key: str
    server_endpoint: str
    allowed_ips: tuple[str, ...]
    dns: tuple[str, ...] = ()
    preshared_key: str | None = None
    keepalive: int = paths.CLIENT_KEEPALIVE

    @property
    def has_private_key(self) -> bool:
        return bool(self.private_key)

    def text(self) -> str:
        """The wg-quick file. Every value is checked once more here: settings come from files others may have
        edited, and nothing may add a line to a file that a client runs as root."""
        for value in (self.private_key, *self.addresses, *self.dns, self.server_public_key, self.server_endpoint,
                      *self.allowed_ips, self.preshared_key or ""):
            bad = unsafe_char(value)
            if bad is not None:
                raise UnsafeClientValue(f"Refusing to write a client config: the value {value!r} contains {bad}.")
        lines = ["[Interface]", f"PrivateKey = {self.private_key or '(the client keeps its own)'}"]
        if self.addresses:
            lines.append(f"Address = {', '.join(self.addresses)}")
        if self.dns:
            lines.append(f"DNS = {', '.join(self.dns)}")
        lines += ["", "[Peer]", f"PublicKey = {self.server_public_key}"]
        if self.preshared_key:
            lines.append(f"PresharedKey = {self.preshared_key}")
        lines.append(f"Endpoint = {self.server_endpoint or 'SERVER_ADDRESS:51820'}")
        lines.append(f"AllowedIPs = {', '.join(self.allowed_ips)}")
        if self.keepalive:
            lines.append(f"PersistentKeepalive = {self.keepalive}")
        return "\n".join(lines) + "\n"

    def warnings(self) -> list[str]:
        if not self.server_endpoint:
            return ["No server endpoint is set: the client config says SERVER_ADDRESS:51820. Set the address "
                    "clients use to reach this server (the form's server endpoint, `--server-endpoint`, or "
                    "`endpoint` in CONFIG_DIR/wgtui.json)."]
        return []


def client_config_path(config_dir: Path, ifname: str, name: str) -> Path:
    """Where wgtui keeps a client config it generated: CONFIG_DIR/clients/IF-NAME.conf (the name made safe
    for a file name: names are validated, but a path separator must never get through)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name).strip("-.")[:40] or "peer"
    return config_dir / "clients" / f"{ifname}-{safe}.conf"


def save_client_config(path: Path, config: ClientConfig) -> None:
    """Written 0600 and atomically: the file holds a private key."""
    write_atomic(path, config.text().encode())


def qr_lines(text: str, border: int = 2) -> list[str]:
    """The QR code as lines of half blocks: two modules per character cell vertically, dark on light.

    Drawn as dark characters on the terminal's light-on-dark background would invert it, and phones read
    inverted codes badly: callers draw these lines black on white.
    """
    import segno

    qr = segno.make(text, error="l", micro=False)
    matrix = [list(row) for row in qr.matrix]
    size = len(matrix)
    light = [0] * (size + 2 * border)
    rows = [light] * border + [[0] * border + [1 if v else 0 for v in row] + [0] * border for row in matrix]
    rows += [light] * border
    if len(rows) % 2:
        rows.append(light)
    chars = {(0, 0): " ", (1, 0): "▀", (0, 1): "▄", (1, 1): "█"}
    return ["".join(chars[(top, bottom)] for top, bottom in zip(rows[y], rows[y + 1], strict=True))
            for y in range(0, len(rows), 2)]
