"""Provides `wgtui peer qr`: a saved client config as a QR code in the terminal, or as a PNG file for a phone."""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from wgtui import keys
from wgtui.changes import ChangeRefused, Planner
from wgtui.cli.output import err
from wgtui.client_config import qr_lines
from wgtui.client_sync import check_saved
from wgtui.conf import ConfError
from wgtui.store import StoreError, write_atomic

EPILOG = """\
wgtui keeps the client config of every key pair it made (add, rotate) in CONFIG_DIR/clients/IF-NAME.conf. This
prints it as a QR code for the WireGuard app to scan (black on white; with NO_COLOR or when not on a terminal the
code is drawn in characters only, which phones read less well), or writes it as a PNG (0600: it holds the
client's private key). Warnings about anything in the saved config that no longer fits go to stderr.
Exit codes: 0 shown or written, 1 no saved config or it cannot be read, 2 usage.
"""


def add_qr_parser(cmds: Any, fmt: type[argparse.HelpFormatter]) -> None:
    from wgtui.cli.peer import DEFAULT_CONFIG_DIR

    p = cmds.add_parser("qr", help="show a peer's saved client config as a QR code (or write a PNG)",
                        description="Show the client config wgtui saved for PEER as a QR code.", epilog=EPILOG,
                        formatter_class=fmt)
    p.add_argument("interface", metavar="IF", help="the WireGuard interface, e.g. wg0")
    p.add_argument("peer", metavar="PEER", help="a name, a public key, or a unique prefix of a key")
    p.add_argument("--config", type=Path, metavar="FILE", help="the wg-quick file (default CONFIG_DIR/IF.conf)")
    p.add_argument("--config-dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                   help=f"where IF.conf and clients/ live (default {DEFAULT_CONFIG_DIR})")
    p.add_argument("--png", type=Path, metavar="FILE", help="write the QR code as a PNG image (mode 0600)")


def png_bytes(text: str, scale: int = 6) -> bytes:
    import segno

    buf = io.BytesIO()
    segno.make(text, error="l", micro=False).save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()


def run_qr(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from wgtui.cli.peer import config_path

    out = out or sys.stdout
    try:
        config = config_path(args)
        planner = Planner(args.interface, config, None, file_only=True)
        peer = planner.resolve(args.peer)
        path, text, warnings = check_saved(config.parent, args.interface, peer.public_key, peer.name, None)
    except (ChangeRefused, ConfError, StoreError) as exc:
        err(str(exc))
        return 1
    label = peer.name or keys.short_key(peer.public_key)
    if text is None:
        err(f"No saved client config for {label}: wgtui looked for {path}. The server never knows a client's "
            "private key, so there is one only for key pairs wgtui made (add, rotate); rotate the key to make one.")
        return 1
    for warning in warnings:
        err(f"warning: {warning}")
    if args.png:
        try:
            write_atomic(Path(args.png).absolute(), png_bytes(text))
        except StoreError as exc:
            err(str(exc))
            return 1
        out.write(f"Wrote the QR code of {path} to {args.png} (mode 0600: it holds {label}'s private key).\n")
        return 0
    color = out.isatty() and "NO_COLOR" not in os.environ
    for line in qr_lines(text):
        out.write(f"\033[30;47m{line}\033[0m\n" if color else line + "\n")
    out.write(f"{label}'s client config ({path}): scan it with the WireGuard app.\n")
    return 0
