"""Provides `wgtui peer add|remove|edit|rotate|sync|pending|recover`: changes for scripts, --dry-run and --json."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from wgtui import interrupts, paths
from wgtui.backends.base import Backend, BackendError
from wgtui.changes import ChangeRefused, NothingToDo, Plan, Planner, journal, transaction
from wgtui.changes.audit import Outcome, record
from wgtui.changes.recovery import recover
from wgtui.cli.output import err, preview, report
from wgtui.conf import ConfError
from wgtui.interrupts import Interrupted, signal_name
from wgtui.lifecycle.periods import PolicyError, parse_expiry, parse_quota
from wgtui.model import KEEP
from wgtui.settings import load as load_settings
from wgtui.store import StoreError

DEFAULT_CONFIG_DIR = paths.CONFIG_DIR

CHANGE_EPILOG = """\
PEER is a name, a public key, or a unique prefix of a key (4 characters at least).
Every change is first worked out as a plan: the unified diff of the config file (keys masked), the runtime
operations, and warnings. Applying it is one transaction under the file's lock: the interface and the file are
re-read (a change made meanwhile by hand refuses it), a journal is written, a generated client config is saved
(0600) first, then the running interface is changed (netlink or UAPI, no restart) and the file written atomically
(0600, previous version kept as IF.conf.bak); if either half fails the other is undone. Ctrl-C, SIGTERM and SIGHUP
wait until the change is done; after a kill -9 or a power cut the next wgtui completes or undoes it (see
`wgtui peer recover`). Exit codes: 0 done, 1 refused or failed (why on stderr, nothing changed), 2 usage,
128+N stopped by signal N (what was done is said first).
"""


def change_options(p: argparse.ArgumentParser, *, file_only: bool = True) -> None:
    p.add_argument("interface", metavar="IF", help="the WireGuard interface, e.g. wg0")
    p.add_argument("--config", type=Path, metavar="FILE", help="the wg-quick file (default CONFIG_DIR/IF.conf)")
    p.add_argument("--config-dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                   help=f"where IF.conf lives (default {DEFAULT_CONFIG_DIR})")
    p.add_argument("--dry-run", action="store_true", help="print the plan and the diff; change nothing")
    p.add_argument("--yes", "-y", action="store_true", help="apply without asking")
    if file_only:
        p.add_argument("--file-only", action="store_true",
                       help="write the file, leave the running interface alone (works without WireGuard)")
    p.add_argument("--json", action="store_true", help="print the plan and the result as JSON")
    p.add_argument("--state-dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                   help=f"where the usage ledger and the event outbox live (default {paths.STATE_DIR}); a change "
                        "is recorded there (final usage, events) when the directory exists")
    from wgtui.cli.fleet import add_fleet_options

    add_fleet_options(p, sub=True)


def _client_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--client-config", metavar="FILE",
                   help="write the client's config (with its new private key) here, mode 0600, before anything else "
                        "changes; `-` prints it. Default when a key is generated: CONFIG_DIR/clients/IF-NAME.conf")
    p.add_argument("--server-endpoint", metavar="HOST:PORT",
                   help="how clients reach this server, for the client config (remembered in CONFIG_DIR/wgtui.json)")


EXPIRES_HELP = ("when the peer stops working: 2026-12-31T18:00+01:00 (a date, a time and its zone), 2026-12-31 (the "
                "end of that day in this host's zone), or never (lifts it). The agent disables the peer then "
                "(#[disabled], reason expired); written into the block's `# wgtui:` comment")
QUOTA_HELP = ("received + sent bytes allowed: 50GB/month, 20GB/week, 5GB/day (calendar periods in this host's zone), "
              "10GB (no period: for the peer's lifetime), or none (lifts it); units kB MB GB TB or KiB MiB GiB TiB. "
              "The agent disables the peer when it is used up (reason quota) and enables it when a new period "
              "starts; written into the block's `# wgtui:` comment")


def _expires_arg(text: str) -> str:
    """--expires, checked here so that a typo is a usage error (exit 2) with the accepted forms."""
    try:
        parse_expiry(text)
    except PolicyError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _quota_arg(text: str) -> str:
    try:
        parse_quota(text)
    except PolicyError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _policy_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--expires", type=_expires_arg, metavar="WHEN|never", help=EXPIRES_HELP)
    p.add_argument("--quota", type=_quota_arg, metavar="SIZE[/PERIOD]|none", help=QUOTA_HELP)


def add_peer_parser(sub: Any) -> None:
    peer = sub.add_parser("peer", help="add, remove, edit or rotate a peer (diff preview, live, atomic)",
                          description="Change peers live and in the config file, never one without the other.")
    cmds = peer.add_subparsers(dest="peer_command", metavar="ACTION", required=True)
    fmt = argparse.RawDescriptionHelpFormatter

    add = cmds.add_parser("add", help="add a peer", epilog=CHANGE_EPILOG, formatter_class=fmt,
                          description="Add a peer. Without --public-key a key pair is generated and the client "
                                      "config is written (see --client-config).")
    change_options(add)
    add.add_argument("--name", required=True, help="the peer's name, written in the file's naming convention")
    add.add_argument("--public-key", metavar="KEY", help="the client's public key (else a key pair is generated)")
    add.add_argument("--allowed-ips", default="auto", metavar="auto|CIDR[,CIDR…]",
                     help="`auto` (default): the next free address in each Address subnet of the interface")
    add.add_argument("--preshared-key", action="store_true", help="generate a preshared key for this peer")
    add.add_argument("--keepalive", metavar="SEC", help="persistent keepalive, 0..65535 (0 = off)")
    add.add_argument("--endpoint", metavar="HOST:PORT", help="the peer's endpoint, if it has a fixed one")
    _policy_options(add)
    _client_options(add)

    rm = cmds.add_parser("remove", help="remove a peer", epilog=CHANGE_EPILOG, formatter_class=fmt)
    change_options(rm)
    rm.add_argument("peer", metavar="PEER")

    off = cmds.add_parser("disable", help="take a peer off the interface but keep it in the file (#[disabled])",
                          epilog=CHANGE_EPILOG, formatter_class=fmt,
                          description="Disable a peer without deleting it: it leaves the running interface, and its "
                                      "block stays in the config file with every line commented out as "
                                      "`#[disabled] …` (as PiVPN does), keys and settings included.")
    change_options(off)
    off.add_argument("peer", metavar="PEER")
    on = cmds.add_parser("enable", help="bring a disabled peer back (the same lines, the same keys)",
                         epilog=CHANGE_EPILOG, formatter_class=fmt,
                         description="Enable a disabled peer: its block gets its lines back byte for byte, and it "
                                     "returns to the running interface with its AllowedIPs, preshared key and "
                                     "keepalive. PEER: the name or key in the disabled block. A peer whose expiry "
                                     "has passed needs a new one (--expires) or --force.")
    change_options(on)
    on.add_argument("peer", metavar="PEER")
    on.add_argument("--expires", type=_expires_arg, metavar="WHEN|never",
                    help="a new expiry, set as the peer is enabled: " + EXPIRES_HELP.split(": ", 1)[1])
    on.add_argument("--force", action="store_true",
                    help="enable a peer whose expiry has passed without giving a new one (the passed expiry is "
                         "lifted, or the agent would disable the peer again at once)")

    edit = cmds.add_parser("edit", help="change a peer's name, allowed IPs, keepalive, endpoint, expiry or quota",
                           epilog=CHANGE_EPILOG, formatter_class=fmt,
                           description="Change a live peer. --expires and --quota are policies the agent (`wgtui "
                                       "agent`) enforces; they live in the block's `# wgtui:` comment, so the diff "
                                       "shows them and backups carry them. A disabled peer is changed by `peer "
                                       "enable` (with --expires for a new expiry).")
    change_options(edit)
    edit.add_argument("peer", metavar="PEER", help="a name, a public key, or a unique prefix of a key")
    edit.add_argument("--name", help="a new name, written where the file keeps the old one (in its convention)")
    edit.add_argument("--allowed-ips", metavar="auto|CIDR[,CIDR…]",
                      help="replace the peer's allowed IPs (`auto`: the next free address of each Address subnet); "
                           "a prefix another peer has is refused, since WireGuard would silently move it")
    edit.add_argument("--keepalive", metavar="SEC", help="0 turns it off (sent as 0: leaving it out clears nothing)")
    edit.add_argument("--endpoint", metavar="HOST:PORT", help="an empty string removes it from the file")
    _policy_options(edit)

    undo = cmds.add_parser("undo", help="revert the last change wgtui made to IF (file and interface)",
                           epilog=CHANGE_EPILOG, formatter_class=fmt,
                           description="Revert the last change wgtui made to IF: the file byte for byte as it was, "
                                       "the peers it touched as they were, client configs included; previewed like "
                                       "any change. Refused when the file or those peers changed since. Undoing "
                                       "twice redoes.")
    change_options(undo, file_only=False)
    undo.set_defaults(file_only=False)

    from wgtui.cli.apply import add_apply_parser
    from wgtui.cli.pending import add_pending_parser
    from wgtui.cli.qr import add_qr_parser
    from wgtui.cli.recover import add_recover_parser
    from wgtui.cli.rotate import add_rotate_parser

    add_rotate_parser(cmds, fmt)
    add_pending_parser(cmds, fmt)
    add_qr_parser(cmds, fmt)
    add_apply_parser(cmds, fmt)

    sync = cmds.add_parser("sync", help="bring the file and the running interface back in step (drift)",
                           epilog=CHANGE_EPILOG + "\nBy default nothing is deleted: a peer only on the interface is "
                           "adopted into the file, a peer only in the file is brought up, and for differing "
                           "AllowedIPs, keepalive or PSK the file wins. --adopt picks one side for the peers named.",
                           formatter_class=fmt)
    change_options(sync)
    sync.add_argument("peers", nargs="*", metavar="PEER", help="only these peers (default: every drifting peer)")
    sync.add_argument("--adopt", choices=["file", "runtime"],
                      help="file: the interface takes the file's values; runtime: the file takes the interface's")
    add_recover_parser(cmds, fmt)


def config_path(args: argparse.Namespace) -> Path:
    return Path(args.config or Path(args.config_dir) / f"{args.interface}.conf")


def recover_first(args: argparse.Namespace, config: Path, backend: Backend | None) -> int | None:
    """An interrupted change to this file is completed or undone before a new one is planned; None: go on."""
    if not journal.exists(config):
        return None
    if args.dry_run:
        err(f"an interrupted change to {config} is waiting: applying this change completes or undoes it first "
            "(`wgtui peer recover` does it alone).")
        return None
    if backend is None:
        err(f"an interrupted change to {config} is waiting, and it may need the running interface: run `wgtui peer "
            f"recover {args.interface}` first.")
        return 1
    done = recover(config, backend)
    err(done.message)
    return None if done.ok else 1


def run_peer(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    interrupts.install()
    from wgtui.lifecycle.record import recorder

    # Every change this command applies (rotations and batches too) leaves its final usage readings and events.
    previous = transaction.set_recorder(recorder(getattr(args, "state_dir", paths.STATE_DIR)))
    backend: Backend | None = None
    plan: Plan | None = None
    try:
        if args.peer_command == "recover":
            from wgtui.cli.recover import run_recover

            return run_recover(args, out)
        if args.peer_command == "pending":
            from wgtui.cli.pending import run_pending

            return run_pending(args, out)
        if args.peer_command == "qr":
            from wgtui.cli.qr import run_qr

            return run_qr(args, out)
        if not args.file_only:
            from wgtui.backends.host import HostBackend

            backend = HostBackend()
        planner, stop = open_planner(args, backend)
        if planner is None:
            return stop or 0
        if args.peer_command == "rotate" and args.mode not in ("now", "psk"):
            from wgtui.cli.rotate import run_rotate

            return run_rotate(args, planner, out)
        if args.peer_command == "apply":
            from wgtui.cli.apply import run_apply

            return run_apply(args, planner, out)
        plan = make_plan(args, planner)
        stop = preview(args, plan, out, "Apply this change?")
        if stop is not None:
            return stop
        to_stdout = print_client_first(args, plan, out)
        result = transaction.run(plan, backend)
        return report(args, plan, result, out, client_to_stdout=to_stdout)
    except Interrupted as exc:
        return interrupted(exc, plan)
    except NothingToDo as exc:
        out.write(f"{exc}\n")
        return 0
    except (ChangeRefused, ConfError, BackendError, StoreError) as exc:
        err(str(exc))
        return 1
    finally:
        if backend is not None:
            backend.close()
        interrupts.uninstall()
        transaction.set_recorder(previous)


def open_planner(args: argparse.Namespace, backend: Backend | None) -> tuple[Planner | None, int | None]:
    """The planner of a change command (the agent runs the same): settings remembered, an interrupted change
    recovered first. (None, exit code) when it stops there."""
    config = config_path(args)
    settings = load_settings(config.parent, args.interface)
    if getattr(args, "server_endpoint", None):
        from wgtui.conf.validate import validate_endpoint
        from wgtui.settings import save as save_settings

        settings = replace(settings, endpoint=validate_endpoint(args.server_endpoint))
        if not args.dry_run:
            save_settings(config.parent, args.interface, settings)
    stop = recover_first(args, config, backend)
    if stop is not None:
        return None, stop
    return Planner(args.interface, config, backend, file_only=args.file_only, client_settings=settings), None


def backend_of(planner: Planner) -> Backend | None:
    return None if planner.file_only else planner.backend


def make_plan(args: argparse.Namespace, planner: Planner) -> Plan:
    """The plan of a change command, with its client config where the command line says."""
    return with_client_target(args, _make_plan(args, planner))


def interrupted(exc: Interrupted, plan: Plan | None) -> int:
    """A signal outside any change: nothing was changed; say so, and log it when a change was on its way."""
    message = f"Interrupted by {signal_name(exc.signum)} before anything was changed."
    err(message)
    if plan is not None:
        record(plan.config_path, interface=plan.ifname, action=plan.action, title=plan.title,
               outcome=Outcome.INTERRUPTED, message=message, public_key=plan.public_key,
               old_public_key=plan.old_public_key)
    return exc.exit_code


def with_client_target(args: argparse.Namespace, plan: Plan) -> Plan:
    """Where the client config goes: --client-config FILE, or `-` (standard output), else the planner's default."""
    target = getattr(args, "client_config", None)
    if not target or not plan.writes_client:
        return plan
    return replace(plan, client_path=None if target == "-" else Path(target).absolute())


def print_client_first(args: argparse.Namespace, plan: Plan, out: TextIO) -> bool:
    """`--client-config -`: the private key goes to standard output before anything changes."""
    if getattr(args, "client_config", None) != "-" or plan.client is None or not plan.client.has_private_key:
        return False
    out.write(plan.client.text())
    out.flush()
    return True


def _given(value: str | None) -> Any:
    return KEEP if value is None else value


def _make_plan(args: argparse.Namespace, planner: Planner) -> Plan:
    cmd = args.peer_command
    if cmd == "add":
        return planner.add(args.name, public_key=args.public_key, allowed_ips=args.allowed_ips,
                           preshared_key=args.preshared_key, keepalive=args.keepalive, endpoint=args.endpoint,
                           expires=_given(args.expires), quota=_given(args.quota))
    if cmd == "remove":
        return planner.remove(args.peer)
    if cmd == "undo":
        from wgtui.changes.undo import plan_undo

        return plan_undo(planner)
    if cmd in ("disable", "enable"):
        from wgtui.changes.disable import plan_disable, plan_enable

        if cmd == "disable":
            return plan_disable(planner, args.peer)
        return plan_enable(planner, args.peer, force=args.force, expires=_given(args.expires))
    if cmd == "edit":
        return planner.edit(args.peer, name=_given(args.name), allowed_ips=_given(args.allowed_ips),
                            keepalive=_given(args.keepalive), endpoint=_given(args.endpoint),
                            expires=_given(args.expires), quota=_given(args.quota))
    if cmd == "sync":
        from wgtui.changes.sync import Side, default_side, drift_of, plan_sync

        if not args.peers and not args.adopt:
            return plan_sync(planner)
        drift = drift_of(planner)
        targets = [planner.resolve(p).public_key for p in args.peers] if args.peers else list(drift)
        sides: dict[str, Side] = {k: args.adopt or default_side(drift.get(k, ())) for k in targets}
        return plan_sync(planner, sides)
    if len(args.peers) != 1 or args.all or args.older_than:
        raise ChangeRefused("--now and --psk rotate one peer at a time: name it (several peers: a staged rotation).")
    if args.mode == "psk":
        return planner.rotate_psk(args.peers[0])
    return planner.rotate_now(args.peers[0], public_key=args.public_key)
