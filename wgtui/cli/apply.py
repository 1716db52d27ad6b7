"""Provides `wgtui peer apply`: peers from a JSON or CSV file as one previewed, all-or-nothing change."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from wgtui.changes import transaction
from wgtui.changes.planner import Planner
from wgtui.cli.output import err, plan_json, preview, report

if TYPE_CHECKING:
    from wgtui.changes.batch import BatchPlan

EPILOG = """\
FILE is a JSON list of objects or a CSV file with a header row; the fields are name, public_key, allowed_ips
(`auto`, a list, or comma-separated in one CSV cell), preshared_key (true/false), keepalive, endpoint and state
(present — the default —, absent, disabled). A row finds its peer by public key, else by name; peers the file
does not mention are left alone. It is one plan: one diff, one lock, one journal, one runtime transaction, one
file write. Applying the same file again changes nothing and says so (exit 0). One bad row refuses the whole batch
and names the row. Without a public key a key pair is made and its client config written (0600) to
CONFIG_DIR/clients/IF-NAME.conf, or --client-config-dir DIR.
"""


def add_apply_parser(cmds: Any, fmt: type[argparse.HelpFormatter]) -> None:
    from wgtui.cli.peer import CHANGE_EPILOG, change_options

    p = cmds.add_parser("apply", help="add, change, disable or remove many peers from a JSON or CSV file",
                        description="Bring peers to the state a JSON or CSV file describes, as one change.",
                        epilog=EPILOG + "\n" + CHANGE_EPILOG, formatter_class=fmt)
    change_options(p)
    p.add_argument("--from", dest="source", type=Path, required=True, metavar="FILE", help="the JSON or CSV file")
    p.add_argument("--client-config-dir", type=Path, metavar="DIR",
                   help="where the client configs of generated key pairs go (default CONFIG_DIR/clients)")


def _peers_json(batch: BatchPlan) -> list[dict[str, Any]]:
    return [{"row": o.row, "name": o.name, "public_key": o.public_key, "outcome": o.outcome, "changes": o.changes}
            for o in batch.outcomes]


def run_apply(args: argparse.Namespace, planner: Planner, out: TextIO) -> int:
    from wgtui.changes.batch import plan_batch, read_rows  # here: every other command's parser imports this module
    from wgtui.cli.peer import backend_of

    batch = plan_batch(planner, read_rows(args.source), client_dir=args.client_config_dir)
    if not batch.changes_anything:
        if args.json:
            json.dump({"plan": None, "applied": False, "peers": _peers_json(batch)}, out, indent=2)
            out.write("\n")
        else:
            out.write(f"Nothing to do: every one of the {len(batch.outcomes)} row(s) already holds on "
                      f"{planner.ifname}.\n")
        return 0
    if args.json and args.dry_run:
        json.dump({"plan": plan_json(batch.plan), "applied": False, "peers": _peers_json(batch)}, out, indent=2)
        out.write("\n")
        return 0
    if not args.json:
        for o in batch.outcomes:
            if o.outcome != "unchanged":
                what = f" ({', '.join(o.changes)})" if o.changes else ""
                out.write(f"row {o.row}: {o.name or o.public_key}: {o.outcome}{what}\n")
    stop = preview(args, batch.plan, out, f"Apply these {len(batch.outcomes)} row(s)?")
    if stop is not None:
        return stop
    result = transaction.run(batch.plan, backend_of(planner))
    if args.json:
        json.dump({"plan": plan_json(batch.plan), "applied": result.ok, "outcome": str(result.outcome),
                   "message": result.message, "peers": _peers_json(batch) if result.ok else []}, out, indent=2)
        out.write("\n")
        if not result.ok:
            err(result.message)
        return 0 if result.ok else 1
    return report(args, batch.plan, result, out)
