"""Provides `wgtui peer add|remove|edit|rotate|sync`: the change pipeline for scripts, with --dry-run and --json."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from wgtui import keys
from wgtui.backends.base import Backend, BackendError
from wgtui.changes import ChangeRefused, Plan, Planner
from wgtui.changes.apply import ApplyResult, apply_plan, describe
from wgtui.client_config import client_config_path, save_client_config
from wgtui.conf import ConfError
from wgtui.model import KEEP
from wgtui.settings import load as load_settings
from wgtui.store import StoreError

DEFAULT_CONFIG_DIR = Path("/etc/wireguard")

CHANGE_EPILOG = """\
PEER is a name, a public key, or a unique prefix of a key (4 characters at least).
Every change is first worked out as a plan: the unified diff of the config file (keys masked), the runtime
operations, and warnings. It is applied to the running interface (netlink or UAPI, no restart), then the file
is written atomically (0600, previous version kept as IF.conf.bak); if either half fails the other is undone.
Exit codes: 0 done, 1 refused or failed (why on stderr, nothing changed), 2 usage.
"""


def _change_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("interface", metavar="IF", help="the WireGuard interface, e.g. wg0")
    p.add_argument("--config", type=Path, metavar="FILE", help="the wg-quick file (default CONFIG_DIR/IF.conf)")
    p.add_argument("--config-dir", type=Path, default=DEFAULT_CONFIG_DIR, metavar="DIR",
                   help=f"where IF.conf lives (default {DEFAULT_CONFIG_DIR})")
    p.add_argument("--dry-run", action="store_true", help="print the plan and the diff; change nothing")
    p.add_argument("--yes", "-y", action="store_true", help="apply without asking")
    p.add_argument("--file-only", action="store_true",
                   help="write the file, leave the running interface alone (works without WireGuard)")
    p.add_argument("--json", action="store_true", help="print the plan and the result as JSON")


def _client_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--client-config", metavar="FILE",
                   help="write the client's config (with its new private key) here, mode 0600; `-` prints it. "
                        "Default when a key is generated: CONFIG_DIR/clients/IF-NAME.conf")
    p.add_argument("--server-endpoint", metavar="HOST:PORT",
                   help="how clients reach this server, for the client config (remembered in CONFIG_DIR/wgtui.json)")


def add_peer_parser(sub: Any) -> None:
    peer = sub.add_parser("peer", help="add, remove, edit or rotate a peer (diff preview, live, atomic)",
                          description="Change peers live and in the config file, never one without the other.")
    cmds = peer.add_subparsers(dest="peer_command", metavar="ACTION", required=True)
    fmt = argparse.RawDescriptionHelpFormatter

    add = cmds.add_parser("add", help="add a peer", epilog=CHANGE_EPILOG, formatter_class=fmt,
                          description="Add a peer. Without --public-key a key pair is generated and the client "
                                      "config is written (see --client-config).")
    _change_options(add)
    add.add_argument("--name", required=True, help="the peer's name, written in the file's naming convention")
    add.add_argument("--public-key", metavar="KEY", help="the client's public key (else a key pair is generated)")
    add.add_argument("--allowed-ips", default="auto", metavar="auto|CIDR[,CIDR…]",
                     help="`auto` (default): the next free address in each Address subnet of the interface")
    add.add_argument("--preshared-key", action="store_true", help="generate a preshared key for this peer")
    add.add_argument("--keepalive", metavar="SEC", help="persistent keepalive, 0..65535 (0 = off)")
    add.add_argument("--endpoint", metavar="HOST:PORT", help="the peer's endpoint, if it has a fixed one")
    _client_options(add)

    rm = cmds.add_parser("remove", help="remove a peer", epilog=CHANGE_EPILOG, formatter_class=fmt)
    _change_options(rm)
    rm.add_argument("peer", metavar="PEER")

    edit = cmds.add_parser("edit", help="change a peer's name, allowed IPs, keepalive or endpoint",
                           epilog=CHANGE_EPILOG, formatter_class=fmt)
    _change_options(edit)
    edit.add_argument("peer", metavar="PEER")
    edit.add_argument("--name")
    edit.add_argument("--allowed-ips", metavar="auto|CIDR[,CIDR…]")
    edit.add_argument("--keepalive", metavar="SEC", help="0 turns it off (sent as 0: leaving it out clears nothing)")
    edit.add_argument("--endpoint", metavar="HOST:PORT", help="an empty string removes it from the file")

    rot = cmds.add_parser("rotate", help="give a peer a new key without stranding its client",
                          epilog=CHANGE_EPILOG + "\n--staged (default): the new key is added beside the old one "
                          "without AllowedIPs; once it has handshaken, the AllowedIPs move to it and the old key is "
                          "removed. --now swaps at once and cuts the old client off. --psk rotates only the "
                          "preshared key.", formatter_class=fmt)
    _change_options(rot)
    rot.add_argument("peer", metavar="PEER")
    how = rot.add_mutually_exclusive_group()
    how.add_argument("--staged", action="store_const", dest="mode", const="staged", help="(default) see below")
    how.add_argument("--now", action="store_const", dest="mode", const="now", help="swap at once")
    how.add_argument("--psk", action="store_const", dest="mode", const="psk", help="new preshared key only")
    rot.add_argument("--public-key", metavar="KEY", help="the client's new public key (else one is generated)")
    rot.add_argument("--timeout", type=float, metavar="SEC", help="staged: how long to wait for the handshake")
    _client_options(rot)

    sync = cmds.add_parser("sync", help="bring the file and the running interface back in step (drift)",
                           epilog=CHANGE_EPILOG + "\nBy default nothing is deleted: a peer only on the interface is "
                           "adopted into the file, a peer only in the file is brought up, and for differing "
                           "AllowedIPs, keepalive or PSK the file wins. --adopt picks one side for the peers named.",
                           formatter_class=fmt)
    _change_options(sync)
    sync.add_argument("peers", nargs="*", metavar="PEER", help="only these peers (default: every drifting peer)")
    sync.add_argument("--adopt", choices=["file", "runtime"],
                      help="file: the interface takes the file's values; runtime: the file takes the interface's")


def _print_plan(plan: Plan, out: TextIO, color: bool) -> None:
    out.write(f"{plan.title}\n")
    for w in plan.warnings:
        out.write(f"warning: {w}\n")
    for n in plan.notes:
        out.write(f"note: {n}\n")
    for update in plan.runtime:
        out.write(f"runtime: {describe(update)}\n")
    diff = plan.diff
    if not diff:
        out.write("(the config file does not change)\n")
        return
    for line in diff.splitlines():
        if color and line.startswith(("+", "-")) and not line.startswith(("+++", "---")):
            line = f"\033[{32 if line[0] == '+' else 31}m{line}\033[0m"
        out.write(line + "\n")


def plan_json(plan: Plan) -> dict[str, Any]:
    return {"action": plan.action, "interface": plan.ifname, "title": plan.title, "config": str(plan.config_path),
            "public_key": plan.public_key or None, "old_public_key": plan.old_public_key or None,
            "diff": plan.diff, "runtime": [describe(u) for u in plan.runtime], "warnings": list(plan.warnings),
            "notes": list(plan.notes), "file_only": plan.file_only}


def _preview(args: argparse.Namespace, plan: Plan, out: TextIO, question: str, *, intro: str = "",
             action: str | None = None) -> int | None:
    """Show the plan (or its JSON for --dry-run --json) and ask. None: go on; else the exit code to stop with."""
    if args.json and args.dry_run:
        shown = plan_json(plan) | ({"action": action} if action else {})
        json.dump({"plan": shown, "applied": False}, out, indent=2)
        out.write("\n")
        return 0
    if not args.json:
        out.write(intro)
        _print_plan(plan, out, color=out.isatty())
    if args.dry_run:
        return 0
    if not args.yes and not _confirm(question):
        print("wgtui: not confirmed; nothing changed", file=sys.stderr)
        return 1
    return None


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        raise ChangeRefused("Not applied: standard input is not a terminal, so nobody can confirm. Pass --yes "
                            "(after a --dry-run) to apply from a script.")
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def _write_client(args: argparse.Namespace, plan: Plan, config_dir: Path, out: TextIO) -> str | None:
    if plan.client is None or plan.client.private_key.startswith("("):
        return None
    target = args.client_config
    if target == "-":
        out.write(plan.client.text())
        return "-"
    path = Path(target) if target else client_config_path(config_dir, plan.ifname, plan.peer_name)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    save_client_config(path, plan.client)
    return str(path)


def run_peer(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    ifname = args.interface
    config_dir: Path = args.config_dir
    config = args.config or config_dir / f"{ifname}.conf"
    backend: Backend | None = None
    try:
        settings = load_settings(config.parent, ifname)
        if getattr(args, "server_endpoint", None):
            from dataclasses import replace

            from wgtui.conf.validate import validate_endpoint
            from wgtui.settings import save as save_settings

            settings = replace(settings, endpoint=validate_endpoint(args.server_endpoint))
            if not args.dry_run:
                save_settings(config.parent, ifname, settings)
        if not args.file_only:
            from wgtui.backends.host import HostBackend

            backend = HostBackend()
        planner = Planner(ifname, config, backend, file_only=args.file_only, client_settings=settings)
        if args.peer_command == "rotate" and (args.mode or "staged") == "staged":
            return _run_staged(args, planner, out)
        plan = _make_plan(args, planner)
        stop = _preview(args, plan, out, "Apply this change?")
        if stop is not None:
            return stop
        result = apply_plan(plan, backend)
        client_path = _write_client(args, plan, config_dir, out) if result.ok else None
        return _report(args, plan, result, client_path, out)
    except (ChangeRefused, ConfError, BackendError, StoreError) as exc:
        print(f"wgtui: {exc}", file=sys.stderr)
        return 1
    finally:
        if backend is not None:
            backend.close()


def _make_plan(args: argparse.Namespace, planner: Planner) -> Plan:
    cmd = args.peer_command
    if cmd == "add":
        return planner.add(args.name, public_key=args.public_key, allowed_ips=args.allowed_ips,
                           preshared_key=args.preshared_key, keepalive=args.keepalive, endpoint=args.endpoint)
    if cmd == "remove":
        return planner.remove(args.peer)
    if cmd == "edit":
        def given(value: str | None) -> Any:
            return KEEP if value is None else value

        return planner.edit(args.peer, name=given(args.name), allowed_ips=given(args.allowed_ips),
                            keepalive=given(args.keepalive), endpoint=given(args.endpoint))
    if cmd == "sync":
        from wgtui.changes.sync import Side, default_side, drift_of, plan_sync

        if not args.peers and not args.adopt:
            return plan_sync(planner)
        drift = drift_of(planner)
        targets = [planner.resolve(p).public_key for p in args.peers] if args.peers else list(drift)
        sides: dict[str, Side] = {k: args.adopt or default_side(drift.get(k, ())) for k in targets}
        return plan_sync(planner, sides)
    if args.mode == "psk":
        return planner.rotate_psk(args.peer)
    return planner.rotate_now(args.peer, public_key=args.public_key)


def _report(args: argparse.Namespace, plan: Plan, result: ApplyResult, client_path: str | None,
            out: TextIO) -> int:
    if args.json:
        json.dump({"plan": plan_json(plan), "applied": result.ok, "message": result.message,
                   "steps": list(result.steps), "client_config": client_path,
                   "rollback_failed": result.rollback_failed}, out, indent=2)
        out.write("\n")
    if not result.ok:
        print(f"wgtui: {result.message}", file=sys.stderr)
        return 1
    if not args.json:
        out.write(result.message + "\n")
        if client_path and client_path != "-":
            out.write(f"Client config (with its private key, mode 0600): {client_path}\n")
        if plan.action == "psk" and plan.client and plan.client.preshared_key:
            out.write("The client needs the new preshared key: put it in its [Peer] section (`PresharedKey =`); "
                      f"it is in {plan.config_path}.\n")
    return 0


def _run_staged(args: argparse.Namespace, planner: Planner, out: TextIO,
                sleep: Callable[[float], None] = time.sleep) -> int:
    from wgtui.changes.rotation import Stage, StagedRotation

    timeout = args.timeout or planner.settings.handshake_timeout
    rotation = StagedRotation(planner, args.peer, public_key=args.public_key, timeout=timeout)
    plan = rotation.plan
    intro = (f"Staged rotation of {rotation.label}: new key {keys.short_key(rotation.new_key)} first, AllowedIPs "
             f"moved after its first handshake (timeout {int(timeout)} s), old key removed last.\n")
    stop = _preview(args, plan, out, "Start the rotation?", intro=intro, action="rotate-staged")
    if stop is not None:
        return stop
    progress = rotation.start()
    if rotation.stage is not Stage.WAITING:
        print(f"wgtui: {progress.message}", file=sys.stderr)
        return 1
    client_path = _write_client(args, plan, args.config_dir, out)
    if not args.json:
        out.write(progress.message + "\n")
        if client_path and client_path != "-":
            out.write(f"Client config (new private key, mode 0600): {client_path}\n")
        out.flush()
    try:
        while True:
            progress = rotation.check()
            if rotation.stage is not Stage.WAITING:
                break
            if progress.ready:
                result = rotation.complete()
                return _report(args, plan, result, client_path, out)
            sleep(0.2)  # the client is cut off between its key switch and the move: keep that short
    except KeyboardInterrupt:
        result = rotation.cancel("cancelled by the user")
        print(f"wgtui: {result.message}", file=sys.stderr)
        return 1
    print(f"wgtui: {progress.message}", file=sys.stderr)
    return 1
