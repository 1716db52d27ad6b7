"""Provides `wgtui peer pending`: the rotations waiting in the config files, and finishing those whose key handshook."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any, TextIO

from wgtui import keys
from wgtui.backends.base import Backend, BackendError, InterfaceGone, NoWireGuard
from wgtui.changes.planner import Planner
from wgtui.changes.rotation import RotationSession, Step
from wgtui.cli.output import err
from wgtui.durations import short_age
from wgtui.settings import load as load_settings
from wgtui.store import StoreError

EPILOG = """\
A staged rotation is pending from the moment its new key is added (to the file and the interface) until that key
has handshaken and the AllowedIPs have moved to it. Whoever sees the handshake can finish it: the waiting
`wgtui peer rotate`, the dashboard, or this command with --finish, which a systemd timer or cron can run every
minute (the README shows the unit). Exit codes: 0 (nothing failed; rotations still waiting are fine), 1 a rotation
could not be finished or a config could not be read (why on stderr).
"""


def add_pending_parser(cmds: Any, fmt: type[argparse.HelpFormatter]) -> None:
    from wgtui.cli.peer import DEFAULT_CONFIG_DIR

    p = cmds.add_parser("pending", help="list pending key rotations; --finish completes those that handshook",
                        description="List the staged rotations that wait for their new key's first handshake.",
                        epilog=EPILOG, formatter_class=fmt)
    p.add_argument("interface", nargs="?", metavar="IF", help="only this interface (default: every IF.conf)")
    p.add_argument("--config", type=Path, metavar="FILE", help="the wg-quick file of IF (default CONFIG_DIR/IF.conf)")
    p.add_argument("--config-dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                   help=f"where the IF.conf files live (default {DEFAULT_CONFIG_DIR})")
    p.add_argument("--finish", action="store_true", help="finish every rotation whose new key has handshaken")
    p.add_argument("--state-dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                   help="where a finished rotation is recorded (usage follows the peer, events), when it exists")
    p.add_argument("--json", action="store_true", help="print the rotations as JSON")
    from wgtui.cli.fleet import add_fleet_options

    add_fleet_options(p, sub=True)


def _configs(args: argparse.Namespace) -> list[tuple[str, Path]]:
    if args.interface:
        return [(args.interface, Path(args.config or args.config_dir / f"{args.interface}.conf"))]
    try:
        files = sorted(p for p in Path(args.config_dir).glob("*.conf") if p.is_file())
    except OSError:
        files = []
    out = []
    for path in files:
        try:
            if b"wgtui: replaces=" in path.read_bytes():  # only files with a pending rotation are opened fully
                out.append((path.stem, path))
        except OSError:
            continue
    return out


def run_pending(args: argparse.Namespace, out: TextIO, backend: Backend | None = None) -> int:
    from wgtui.backends.host import HostBackend

    own = backend is None
    backend = backend if backend is not None else HostBackend()
    rows: list[dict[str, Any]] = []
    failed = False
    now = time.time()
    try:
        for ifname, config in _configs(args):
            try:
                planner = Planner(ifname, config, backend, client_settings=load_settings(config.parent, ifname))
                session = RotationSession.resume(planner)
            except (InterfaceGone, NoWireGuard) as exc:
                err(f"{ifname} is not running ({exc}): its pending rotations wait for it.")
                continue
            except (StoreError, BackendError, ValueError) as exc:  # ChangeRefused and ConfError are ValueErrors
                err(f"{ifname}: {exc}")
                failed = True
                continue
            state = planner.runtime
            for rotation in session.rotations:
                progress = rotation.check(state)
                if args.finish and progress.ready:
                    rotation.complete()
                    failed |= rotation.step is not Step.DONE
                rows.append({"interface": ifname, "name": rotation.pending.name or None,
                             "old_public_key": rotation.old_key, "new_public_key": rotation.new_key,
                             "started": rotation.pending.started, "state": str(rotation.step),
                             "message": rotation.message or None})
    finally:
        if own:
            backend.close()
    if args.json:
        json.dump({"time": int(now), "rotations": rows}, out, indent=2)
        out.write("\n")
    elif not rows:
        out.write("No key rotation is pending.\n")
    else:
        for row in rows:
            who = row["name"] or keys.short_key(row["old_public_key"])
            state = {"waiting": "waiting for the new key's first handshake",
                     "handshaken": "new key has handshaken: `wgtui peer pending --finish` moves it",
                     "done": "finished now", "blocked": "could not be finished"}.get(row["state"], row["state"])
            out.write(f"{row['interface']}  {who}  {keys.short_key(row['old_public_key'])} -> "
                      f"{keys.short_key(row['new_public_key'])}  pending {short_age(now - row['started'])}  {state}\n")
    for row in rows:
        if row["state"] == "blocked":
            err(f"{row['interface']}: {row['message']}")
    return 1 if failed else 0
