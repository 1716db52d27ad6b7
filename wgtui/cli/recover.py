"""Provides `wgtui peer recover`: finish or undo a change that a kill -9, a crash or a power cut interrupted."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from wgtui.backends.base import Backend
from wgtui.changes.recovery import Recovery, describe_plan, peek, recover
from wgtui.cli.output import confirm, err
from wgtui.store import sweep_temps

EPILOG = """\
Every change first writes a journal beside the config file (.IF.conf.wgtui-journal, 0600). A change that was
stopped by something no program can intercept (kill -9, a crash, a power cut) leaves it behind. The config file is
written by an atomic rename, so it is either the file the change started from or the one it was making:
  - the file already has the change: the change is completed (its runtime operations, which are idempotent, are
    applied again, and its client config is written if it is missing);
  - the file does not have it: the change is undone (the peers it touched are put back as they were, its client
    config removed).
If the file was edited by something else since, wgtui cannot tell which half to keep and says so; --rollback then
undoes the runtime part and leaves the file as it is. Any wgtui that changes the interface (or opens the dashboard)
does this first by itself; `wgtui show` only reports it. Temporary files of killed runs are removed too.
Exit codes: 0 the interface and the file agree (nothing to do, or recovered), 1 not recovered (why on stderr).
"""


def add_recover_parser(cmds: Any, fmt: type[argparse.HelpFormatter]) -> None:
    from wgtui.cli.peer import DEFAULT_CONFIG_DIR

    rec = cmds.add_parser("recover", help="complete or undo a change that was interrupted", epilog=EPILOG,
                          formatter_class=fmt, description="Complete or undo an interrupted change (see below).")
    rec.add_argument("interface", metavar="IF", help="the WireGuard interface, e.g. wg0")
    rec.add_argument("--config", type=Path, metavar="FILE", help="the wg-quick file (default CONFIG_DIR/IF.conf)")
    rec.add_argument("--config-dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                     help=f"where IF.conf lives (default {DEFAULT_CONFIG_DIR})")
    rec.add_argument("--rollback", action="store_true",
                     help="undo the interrupted change's runtime part even though the file changed since")
    rec.add_argument("--dry-run", action="store_true", help="say what would be done; change nothing")
    rec.add_argument("--yes", "-y", action="store_true", help="do it without asking")
    rec.add_argument("--json", action="store_true", help="print the outcome as JSON")
    from wgtui.cli.fleet import add_fleet_options

    add_fleet_options(rec, sub=True)


def _json(args: argparse.Namespace, done: Recovery, out: TextIO) -> None:
    found = done.journal
    change = None if found is None else {"id": found.id, "action": found.action, "title": found.title,
                                         "started": int(found.started), "user": found.user, "pid": found.pid}
    doc: dict[str, Any] = {"interface": args.interface, "outcome": str(done.outcome), "ok": done.ok,
                           "message": done.message, "change": change, "steps": list(done.steps)}
    json.dump(doc, out, indent=2)
    out.write("\n")


def run_recover(args: argparse.Namespace, out: TextIO) -> int:
    from wgtui.backends.host import HostBackend
    from wgtui.changes.audit import Outcome
    from wgtui.cli.peer import config_path

    config = config_path(args)
    found = peek(config)
    if found is None:
        swept = [] if args.dry_run else sweep_temps(config.parent)
        done = Recovery(Outcome.NOTHING, f"Nothing to recover for {config}: no interrupted change is waiting"
                        + (f" (removed {len(swept)} temporary file(s) a killed wgtui left)." if swept else "."))
        if args.json:
            _json(args, done, out)
        else:
            out.write(done.message + "\n")
        return 0
    what = describe_plan(found, config, rollback=args.rollback)
    if args.dry_run:
        if args.json:
            _json(args, Recovery(Outcome.NOTHING, what, found), out)
        else:
            out.write(what + "\n")
        return 0
    if not args.json:
        out.write(what + "\n")
        out.flush()
    if not args.yes and not confirm("Recover now?"):
        err("not confirmed; nothing changed")
        return 1
    backend: Backend = HostBackend()
    try:
        done = recover(config, backend, rollback=args.rollback)
    finally:
        backend.close()
    if args.json:
        _json(args, done, out)
    elif done.ok:
        out.write(done.message + "\n")
    if not done.ok:
        err(done.message)
    return 0 if done.ok else 1
