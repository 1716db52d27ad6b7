"""Provides the `wgtui` command line: argument parsing, backend choice, the dashboard and `show`."""

from __future__ import annotations

import argparse
import atexit
import gc
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from wgtui import __version__, paths
from wgtui.cli.fleet import add_fleet_options
from wgtui.durations import parse_age
from wgtui.interrupts import Interrupted
from wgtui.model import REJECT_AFTER_TIME

if TYPE_CHECKING:
    from wgtui.backends.base import Backend
    from wgtui.remote.ssh import HostSpec

DEFAULT_CONFIG_DIR = paths.CONFIG_DIR
DEFAULT_DEMO_PEERS = paths.DEMO_PEERS

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


GLOBAL_DEFAULTS: dict[str, object] = {"demo": None, "config_dir": None, "online_after": float(REJECT_AFTER_TIME),
                                      "max_key_age": 0.0, "state_dir": paths.STATE_DIR}
"""Options that work before or after the sub-command: a sub-command's copy has no default of its own (SUPPRESS),
so `wgtui --config-dir D peer …` and `wgtui peer … --config-dir D` mean the same."""


def _add_source_options(p: argparse.ArgumentParser, *, sub: bool = False) -> None:
    def default(name: str) -> object:
        return argparse.SUPPRESS if sub else GLOBAL_DEFAULTS[name]

    p.add_argument("--demo", nargs="?", const=DEFAULT_DEMO_PEERS, type=_demo_count, metavar="N",
                   default=default("demo"),
                   help=f"use simulated interfaces with N peers (default {DEFAULT_DEMO_PEERS}) instead of the "
                        "host's: no root, no WireGuard needed, nothing real is touched")
    p.add_argument("--config-dir", type=Path, default=default("config_dir"), metavar="DIR",
                   help=f"where IF.conf files live, for peer names and changes (default {DEFAULT_CONFIG_DIR})")
    p.add_argument("--state-dir", type=Path, default=default("state_dir"), metavar="DIR",
                   help=f"where the usage ledger and the agent's state live (default {paths.STATE_DIR})")
    p.add_argument("--online-after", type=_seconds, default=default("online_after"), metavar="SEC",
                   help="a peer is online when its latest handshake is younger than this "
                        f"(default {REJECT_AFTER_TIME})")
    p.add_argument("--max-key-age", type=parse_age, default=default("max_key_age"), metavar="AGE",
                   help="keys older than AGE (90d, 12w) are marked overdue for rotation (default: max_key_age in "
                        "CONFIG_DIR/wgtui.json, else none)")


def finish_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.Namespace:
    """Fill what neither the command line before nor after the sub-command said, and refuse what cannot mix."""
    from wgtui.cli.fleet import FLEET_DEFAULTS

    for name, value in {**GLOBAL_DEFAULTS, **FLEET_DEFAULTS}.items():
        if not hasattr(args, name):
            setattr(args, name, value)
    if args.command in ("peer", "check", "init"):
        if args.demo is not None:
            parser.error(f"--demo is for the dashboard and `wgtui show`; `wgtui {args.command}` works on the host's "
                         "interfaces (try it with --file-only on a copy of a config file)")
        if args.config_dir is None:
            args.config_dir = DEFAULT_CONFIG_DIR
    if args.command == "show" and getattr(args, "only", None) is None and args.interface:
        if len(args.interface) > 1:
            parser.error("`wgtui show` shows one interface (IF) or all of them")
        args.only = args.interface[0]
    return args


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
    add_fleet_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    show = sub.add_parser("show", help="print interfaces and peers once, like `wg show`, or as JSON",
                          description="Print every interface (or IF) once, like `wg show`, with peer names and "
                                      "humanized figures; --json prints the schema documented in the README.")
    show.add_argument("only", nargs="?", metavar="IF", help="only this interface")
    show.add_argument("--json", action="store_true", help="machine-readable output (schema in the README)")
    _add_source_options(show, sub=True)
    add_fleet_options(show, sub=True)
    from wgtui.cli.agent import add_agent_parser
    from wgtui.cli.check import add_check_parser
    from wgtui.cli.init import add_init_parser
    from wgtui.cli.peer import add_peer_parser

    add_peer_parser(sub)
    add_check_parser(sub)
    add_init_parser(sub)
    add_agent_parser(sub)
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
            hint = " Start with sudo to see the host's interfaces." if os.geteuid() != 0 else ""
            notice = f"demo backend: {reason}{hint}"
    # Textual is imported only here: `wgtui show` and `wgtui peer` start without it.
    from wgtui import gcpolicy, interrupts
    from wgtui.ui.app import AppOptions, WgtuiApp

    options = AppOptions(interval=args.interval, online_after=args.online_after, interfaces=args.interface,
                         config_dir=config_dir, read_only=args.read_only, notice=notice,
                         max_key_age=args.max_key_age, state_dir=args.state_dir)
    gcpolicy.for_interactive()
    app = WgtuiApp(backend, options)
    interrupts.install(app.signal_from_handler, after_change=app.signal_after_change)
    try:
        app.run()
    finally:
        # A change running in a worker thread finishes (or rolls back) before the process ends.
        interrupts.wait_idle(60)
        backend.close()
        interrupts.uninstall()
    return 128 + app.stopped_by if app.stopped_by else 0


def run_fleet_command(args: argparse.Namespace, words: list[str]) -> int:
    """`wgtui show`, `wgtui peer …` and the fleet view on remote hosts (over ssh, through the agent there)."""
    from wgtui.cli.fleet import fleet_specs, one_host, run_show_hosts

    specs = fleet_specs(args)
    if not specs:
        print("wgtui: the host options name no host", file=sys.stderr)
        return 1
    if args.command == "show":
        return run_show_hosts(args, specs)
    if args.command == "peer":
        from wgtui.cli.remote_peer import run_remote_peer

        peer_at = words.index("peer")
        return run_remote_peer(args, words[peer_at:], one_host(specs))
    return run_fleet_tui(args, specs)


def run_fleet_tui(args: argparse.Namespace, specs: list[HostSpec]) -> int:
    """`wgtui --host A --host B`: the fleet view, one line per host; enter opens a host's dashboard (with one host
    too: the view then says how that host is reached, and escape from its dashboard comes back to it)."""
    from wgtui import gcpolicy, interrupts
    from wgtui.cli.fleet import ssh_options
    from wgtui.remote.fleet import Fleet
    from wgtui.remote.watch import FleetWatch
    from wgtui.ui.app import AppOptions, fleet_app

    fleet = Fleet(specs, ssh_options(args))
    # --read-only changes nothing anywhere: not even the rotations the fleet would finish on a host.
    watch = FleetWatch(fleet, interval=args.interval, online_after=args.online_after,
                       finish_rotations=not args.read_only)
    options = AppOptions(interval=args.interval, online_after=args.online_after, read_only=args.read_only,
                         max_key_age=args.max_key_age)
    gcpolicy.for_interactive()
    app = fleet_app(watch, options)
    interrupts.install(app.signal_from_handler, after_change=app.signal_after_change)
    try:
        app.run()
    finally:
        watch.stop(wait=False)  # a tick still waiting for a host ends with the process
        fleet.close()  # a frozen host's session is closed in the background: the exit never waits for it
        interrupts.uninstall()
    return 128 + app.stopped_by if app.stopped_by else 0


def _skip_final_collection() -> None:
    """At exit, the interpreter's last full collection would walk every object still alive: after a change to a
    file of 10,000 peers that is ~0.05-0.1 s of a 0.5 s command, spent after its work is done and said. Frozen objects
    are left out of it; they are still freed (by reference counting) as the interpreter clears its modules. Runs as an
    atexit hook: after the hooks registered later (they may still make garbage), before that collection."""
    gc.freeze()


def main(argv: list[str] | None = None) -> int:
    atexit.unregister(_skip_final_collection)  # once, however often main runs in this process (tests)
    atexit.register(_skip_final_collection)
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    args = finish_args(parser, parser.parse_args(words))
    try:
        if args.command in ("show", "peer", None) and (args.host_list or args.hosts_file or args.inventory):
            return run_fleet_command(args, words)
        if args.command == "show":
            from wgtui.cli.show import run_show

            return run_show(args)
        if args.command == "peer":
            from wgtui.cli.peer import run_peer

            return run_peer(args)
        if args.command == "check":
            from wgtui.cli.check import run_check

            return run_check(args)
        if args.command == "init":
            from wgtui.cli.init import run_init

            return run_init(args)
        if args.command == "agent":
            from wgtui.agent.server import run_agent

            return run_agent(args)
        return run_tui(args)
    except KeyboardInterrupt:
        return 130
    except Interrupted as exc:
        return exc.exit_code
    except BrokenPipeError:
        # `wgtui show | head`: the reader left. Say nothing, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
