"""Provides what every changing command prints and asks: the plan, the confirmation, the result, in text or JSON."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from typing import Any, TextIO

from wgtui.changes.plan import ChangeRefused, Plan, describe
from wgtui.changes.transaction import ApplyResult
from wgtui.interrupts import signal_name


def err(message: str) -> None:
    """A line on stderr that cannot fail: after SIGHUP the terminal is gone, and the audit log already has it."""
    with contextlib.suppress(OSError, ValueError):
        print(f"wgtui: {message}", file=sys.stderr, flush=True)


def print_plan(plan: Plan, out: TextIO, color: bool) -> None:
    out.write(f"{plan.title}\n")
    for w in plan.warnings:
        out.write(f"warning: {w}\n")
    for n in plan.notes:
        out.write(f"note: {n}\n")
    if plan.writes_client:
        out.write(f"note: the client config, with its new private key, is written to {plan.client_path} (0600) "
                  "before anything else changes.\n")
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
            "notes": list(plan.notes), "file_only": plan.file_only,
            "client_config": str(plan.client_path) if plan.writes_client else None}


def preview(args: argparse.Namespace, plan: Plan, out: TextIO, question: str, *, intro: str = "") -> int | None:
    """Show the plan (or its JSON for --dry-run --json) and ask. None: go on; else the exit code to stop with."""
    if args.json and args.dry_run:
        json.dump({"plan": plan_json(plan), "applied": False}, out, indent=2)
        out.write("\n")
        return 0
    if not args.json:
        out.write(intro)
        print_plan(plan, out, color=out.isatty())
    if args.dry_run:
        return 0
    if not args.yes and not confirm(question):
        err("not confirmed; nothing changed")
        return 1
    return None


def confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        raise ChangeRefused("Not applied: standard input is not a terminal, so nobody can confirm. Pass --yes "
                            "(after a --dry-run) to apply from a script.")
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def report(args: argparse.Namespace, plan: Plan, result: ApplyResult, out: TextIO, *,
           client_to_stdout: bool = False) -> int:
    """Print the result; the exit code: 0 done, 1 not done, 128 + N when signal N arrived during the change."""
    client = "-" if client_to_stdout else (str(result.client_paths[0]) if result.client_paths else None)
    try:
        if args.json:
            json.dump({"plan": plan_json(plan), "applied": result.ok, "outcome": str(result.outcome),
                       "message": result.message, "steps": list(result.steps), "client_config": client,
                       "rollback_failed": result.rollback_failed,
                       "interrupted": signal_name(result.interrupted) if result.interrupted else None}, out, indent=2)
            out.write("\n")
        if result.ok and not args.json:
            out.write(result.message + "\n")
            if client and client != "-":
                out.write(f"Client config (with its private key, mode 0600): {client}\n")
            if plan.action == "psk" and plan.client and plan.client.preshared_key:
                out.write("The client needs the new preshared key: put it in its [Peer] section (`PresharedKey =`); "
                          f"it is in {plan.config_path}.\n")
        out.flush()
    except OSError:
        pass  # the terminal is gone (SIGHUP): the audit log has the result
    if not result.ok:
        err(result.message)
    if result.interrupted:
        err(f"{signal_name(result.interrupted)} arrived while the change was being applied: it was "
            f"{'completed' if result.ok else 'not applied'} first, as said above. Stopping.")
        return 128 + result.interrupted
    return 0 if result.ok else 1
