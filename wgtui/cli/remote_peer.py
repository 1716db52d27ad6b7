"""Provides `wgtui peer … --host HOST`: the change planned by the agent there, previewed here, applied there."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from typing import Any, TextIO

from wgtui import interrupts
from wgtui.changes.plan import ChangeRefused
from wgtui.cli.fleet import ssh_options, strip_fleet
from wgtui.cli.output import confirm, err
from wgtui.interrupts import Interrupted, signal_name
from wgtui.remote.host import RemoteHost
from wgtui.remote.ssh import HostError, HostSpec


def print_remote_plan(plan: dict[str, Any], host: str, out: TextIO) -> None:
    out.write(f"{plan['title']} — on {host}\n")
    for w in plan["warnings"]:
        out.write(f"warning: {w}\n")
    for n in plan["notes"]:
        out.write(f"note: {n}\n")
    if plan.get("client_config"):
        out.write(f"note: the client config, with its new private key, is written on {host} to "
                  f"{plan['client_config']} (0600) before anything else changes.\n")
    for line in plan["runtime"]:
        out.write(f"runtime: {line}\n")
    out.write(plan["diff"] or "(the config file does not change)\n")


def run_remote_peer(args: argparse.Namespace, argv: list[str], spec: HostSpec, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    interrupts.install()
    host = RemoteHost(spec, ssh_options(args))
    token: str | None = None
    try:
        host.connect()
        words = strip_fleet(argv)[1:]  # without "peer": the agent parses `peer WORDS`
        if args.peer_command == "pending":
            answer = host.request("pending", interface=args.interface, finish=args.finish)
            json.dump({"host": spec.name, "rotations": answer["rotations"]}, out, indent=2) if args.json else \
                out.write("".join(f"{r['interface']}  {r['name'] or r['old_public_key'][:8]}  {r['state']}\n"
                                  for r in answer["rotations"]) or "No key rotation is pending.\n")
            return int(answer["exit"])
        if args.peer_command == "recover":
            answer = host.request("recover", interface=args.interface, rollback=args.rollback)
            (out if answer["recovered"] else sys.stderr).write(f"{spec.name}: {answer['message']}\n")
            return 0 if answer["recovered"] else 1
        if args.peer_command == "qr":
            raise HostError("`peer qr` reads the saved config on this machine: run it on the host")
        rows = None
        if args.peer_command == "apply":
            from wgtui.changes.batch import raw_rows, rows_from_wire

            rows = raw_rows(args.source)  # the file is here; the host gets its rows
            rows_from_wire(rows)  # a bad row is refused before anything is sent
        answer = host.request("plan", timeout=60, argv=words, rows=rows)
        if args.peer_command == "apply" and answer.get("token") is None:
            out.write(f"Nothing to do: every one of the {len(answer['outcomes'])} row(s) already holds on "
                      f"{args.interface} on {spec.name}.\n")
            return 0
        token = str(answer["token"])
        plan = answer.get("plan")
        if args.json and args.dry_run:
            json.dump({"host": spec.name, "plan": plan, "session": answer.get("session"), "applied": False}, out,
                      indent=2)
            out.write("\n")
            return 0
        if plan is not None and not args.json:
            for number, name, key, outcome, changes in answer.get("outcomes", []):
                if outcome != "unchanged":
                    what = f" ({', '.join(changes)})" if changes else ""
                    out.write(f"row {number}: {name or key}: {outcome}{what}\n")
            print_remote_plan(plan, spec.name, out)
        elif not args.json:
            out.write(f"{len(answer['session']['rotations'])} pending rotation(s) on {spec.name}.\n")
        if args.dry_run:
            return 0
        if not args.yes and not confirm(f"Apply this change on {spec.name}?"):
            err("not confirmed; nothing changed")
            return 1
        applied = host.request("apply", timeout=120, token=token)
        kept, token = token, None  # a rotation session stays there under this token, for session_poll
        return _report(args, {**applied, "token": kept}, spec, host, out)
    except Interrupted as exc:
        err(f"Interrupted by {signal_name(exc.signum)}: a change that was being applied on {spec.name} finishes "
            "there by itself (the agent holds its signals the same way); see `wgtui show --host` for the state.")
        return exc.exit_code
    except (HostError, ChangeRefused) as exc:
        err(f"{spec.name}: {exc}")
        return 1
    finally:
        if token is not None:
            with contextlib.suppress(HostError):
                host.request("discard", timeout=5, token=token)
        host.close()
        interrupts.uninstall()


def _report(args: argparse.Namespace, applied: dict[str, Any], spec: HostSpec, host: RemoteHost,
            out: TextIO) -> int:
    result = applied.get("result")
    if result is not None:
        if args.json:
            json.dump({"host": spec.name, **result}, out, indent=2)
            out.write("\n")
        elif result["applied"]:
            out.write(f"{spec.name}: {result['message']}\n")
            if getattr(args, "client_config", None) == "-" and result.get("client_text"):
                out.write(result["client_text"])
            elif result["client_config"]:
                out.write(f"Client config (with its private key, mode 0600) on {spec.name}: "
                          f"{', '.join(result['client_config'])}\n")
        if not result["applied"]:
            err(f"{spec.name}: {result['message']}")
            return 1
        return 0
    session = applied["session"]
    if args.peer_command == "rotate" and args.mode != "cancel" and not getattr(args, "no_wait", False):
        return _wait(args, applied, spec, host, out)
    out.write("".join(f"{spec.name}: {r['name'] or r['old_public_key'][:8]}: {r['step']}\n"
                      for r in session["rotations"]))
    return 0


def _wait(args: argparse.Namespace, applied: dict[str, Any], spec: HostSpec, host: RemoteHost, out: TextIO) -> int:
    """Ask the agent ten times a second to finish each rotation whose new key has handshaken."""
    token = applied.get("token")
    shown: dict[str, str] = {}
    session = applied["session"]
    try:
        while True:
            for r in session["rotations"]:
                if shown.get(r["old_public_key"]) != r["step"]:
                    shown[r["old_public_key"]] = r["step"]
                    out.write(f"{spec.name}: {r['name'] or r['old_public_key'][:8]}: {r['step']}"
                              + (f": {r['message']}" if r["message"] else "") + "\n")
                    out.flush()
            if session["finished"]:
                return 0 if all(r["step"] == "done" for r in session["rotations"]) else 1
            if session["timed_out"]:
                err(f"No handshake in time on {spec.name}: the rotations stay pending there (`wgtui peer pending "
                    f"--host {spec.name} --finish` finishes them).")
                return 1
            time.sleep(0.1)
            session = host.request("session_poll", token=token)["session"]
    except Interrupted as exc:
        err(f"Interrupted by {signal_name(exc.signum)} while waiting: the rotations stay pending on {spec.name}.")
        return exc.exit_code
