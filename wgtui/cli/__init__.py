"""Provides the `wgtui` command line: argument parsing, backend choice, the dashboard and `show`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from wgtui import __version__
from wgtui.interrupts import Interrupted
from wgtui.model import REJECT_AFTER_TIME

if TYPE_CHECKING:
    from wgtui.backends.base import Backend

DEFAULT_CONFIG_DIR = Path("/etc/wireguard")
DEFAULT_DEMO_PEERS = 40

EPILOG = """\
states: ● online = handshake within --online-after seconds (default 180, the kernel's REJECT_AFTER_TIME:
a session older than that carries no data); ◐ stale = older handshake (an idle peer without keepalive
looks stale although nothing is wrong); ○ never = no handshake since the peer was added.

Reading WireGuard state needs root (CAP_NET_ADMIN for the kernel module, the socket in /var/run/wireguard
for wireguard-go and boringtun): run `sudo wgtui`. Without a readable interface the dashboard starts on the
demo backend and says so. Exit codes: 0 done, 1 refused or failed (why on stderr), 2 usage.
"""


def _demo_count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--demo takes a number of peers, not {text!r}") from None
    if not 0 <= n <= 200_000:
        raise argparse.ArgumentTypeError("--demo takes between 0 and 200000 peers")
    return n


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not {text!r}") from None
    if not 0.05 <= value <= 86400:
        raise argparse.ArgumentTypeError("expected between 0.05 and 86400 seconds")
    return value


def _add_source_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--demo", nargs="?", const=DEFAULT_DEMO_PEERS, type=_demo_count, metavar="N",
                   help=f"use simulated interfaces with N peers (default {DEFAULT_DEMO_PEERS}) instead of the "
                        "host's: no root, no WireGuard needed, nothing real is touched")
    p.add_argument("--config-dir", type=Path, default=None, metavar="DIR",
                   help=f"where IF.conf files live, for peer names and changes (default {DEFAULT_CONFIG_DIR})")
    p.add_argument("--online-after", type=_seconds, default=float(REJECT_AFTER_TIME), metavar="SEC",
                   help="a peer is online when its latest handshake is younger than this "
                        f"(default {REJECT_AFTER_TIME})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wgtui",
        description="A live terminal dashboard for WireGuard: every interface and peer, read through netlink "
                    "(kernel) or the UAPI socket (wireguard-go, boringtun), with names from your config "
                    "comments, handshakes, rates and history. Without a sub-command it starts the dashboard.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"wgtui {__version__}")
    _add_source_options(parser)
    parser.add_argument("--interface", "-i", action="append", metavar="IF",
                        help="watch only this interface (repeat for several; default: every one found)")
    parser.add_argument("--interval", type=_seconds, default=1.0, metavar="SEC",
                        help="seconds between polls (default 1); polls never overlap")
    parser.add_argument("--read-only", action="store_true",
                        help="hide every action that changes an interface or a config file")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    show = sub.add_parser("show", help="print interfaces and peers once, like `wg show`, or as JSON",
                          description="Print every interface (or IF) once, like `wg show`, with peer names and "
                                      "humanized figures; --json prints the schema documented in the README.")
    show.add_argument("interface", nargs="?", metavar="IF", help="only this interface")
    show.add_argument("--json", action="store_true", help="machine-readable output (schema in the README)")
    _add_source_options(show)
    from wgtui.cli.check import add_check_parser
    from wgtui.cli.peer import add_peer_parser

    add_peer_parser(sub)
    add_check_parser(sub)
    return parser


def open_backend(demo: int | None, config_dir: Path | None) -> tuple[Backend, Path]:
    """The backend to read from and the config directory to use with it."""
    if demo is not None:
        from wgtui.backends.demo import DemoBackend

        backend = DemoBackend(demo, config_dir=config_dir)
        return backend, backend.config_dir
    from wgtui.backends.host import HostBackend

    return HostBackend(), config_dir or DEFAULT_CONFIG_DIR


def run_tui(args: argparse.Namespace) -> int:
    from wgtui.backends.host import readable_interfaces

    backend, config_dir = open_backend(args.demo, args.config_dir)
    notice = None
    if args.demo is None:
        readable, reason = readable_interfaces(backend)
        if args.interface:
            missing = [name for name in args.interface if name not in readable]
            if missing and not readable:
                print(f"wgtui: cannot read {', '.join(missing)}: {reason}", file=sys.stderr)
                return 1
        elif not readable:
            backend.close()
            backend, config_dir = open_backend(DEFAULT_DEMO_PEERS, args.config_dir)
            notice = f"demo backend: {reason} Start with sudo to see the host's interfaces."
    # Textual is imported only here: `wgtui show` and `wgtui peer` start without it.
    from wgtui import interrupts
    from wgtui.ui.app import AppOptions, WgtuiApp

    options = AppOptions(interval=args.interval, online_after=args.online_after, interfaces=args.interface,
                         config_dir=config_dir, read_only=args.read_only, notice=notice)
    app = WgtuiApp(backend, options)
    interrupts.install(app.signal_from_handler)
    try:
        app.run()
    finally:
        # A change running in a worker thread finishes (or rolls back) before the process ends.
        interrupts.wait_idle(60)
        backend.close()
        interrupts.uninstall()
    return 128 + app.stopped_by if app.stopped_by else 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "show":
            from wgtui.cli.show import run_show

            return run_show(args)
        if args.command == "peer":
            from wgtui.cli.peer import run_peer

            return run_peer(args)
        if args.command == "check":
            from wgtui.cli.check import run_check

            return run_check(args)
        return run_tui(args)
    except KeyboardInterrupt:
        return 130
    except Interrupted as exc:
        return exc.exit_code
    except BrokenPipeError:
        # `wgtui show | head`: the reader left. Say nothing, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
