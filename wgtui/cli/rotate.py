"""Provides `wgtui peer rotate`: the staged rotation on the command line, waiting, resuming and cancelling."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from wgtui import interrupts, keys
from wgtui.changes.planner import Planner
from wgtui.changes.rotation import Stage, StagedRotation, plan_cancel
from wgtui.cli.output import err, preview, report
from wgtui.interrupts import Interrupted, signal_name

POLL = 0.1
"""Seconds between checks for the new key's handshake: the client is cut off between its switch and the move."""


def add_rotate_parser(cmds: Any, fmt: type[argparse.HelpFormatter]) -> None:
    from wgtui.cli.peer import CHANGE_EPILOG, _client_options, change_options

    rot = cmds.add_parser("rotate", help="give a peer a new key without stranding its client",
                          epilog=CHANGE_EPILOG + "\n--staged (default): the new key is added beside the old one "
                          "without AllowedIPs, in the file and on the interface; once it has handshaken, the "
                          "AllowedIPs move to it and the old key is removed. Until then the rotation is pending: "
                          "it survives this session (Ctrl-C, a dropped SSH connection, --timeout) and is finished "
                          "with --resume or undone with --cancel. --now swaps at once and cuts the old client off. "
                          "--psk rotates only the preshared key.", formatter_class=fmt)
    change_options(rot)
    rot.add_argument("peer", metavar="PEER")
    how = rot.add_mutually_exclusive_group()
    how.add_argument("--staged", action="store_const", dest="mode", const="staged", help="(default) see below")
    how.add_argument("--now", action="store_const", dest="mode", const="now", help="swap at once")
    how.add_argument("--psk", action="store_const", dest="mode", const="psk", help="new preshared key only")
    how.add_argument("--resume", action="store_const", dest="mode", const="resume",
                     help="wait again for the new key of a pending rotation, then finish it")
    how.add_argument("--cancel", action="store_const", dest="mode", const="cancel",
                     help="undo a pending rotation: the new key goes from the interface and the file")
    rot.add_argument("--public-key", metavar="KEY", help="the client's new public key (else one is generated)")
    rot.add_argument("--timeout", type=float, metavar="SEC",
                     help="staged: how long to wait for the handshake before leaving the rotation pending")
    _client_options(rot)


def run_staged(args: argparse.Namespace, planner: Planner, out: TextIO,
               sleep: Callable[[float], None] = time.sleep) -> int:
    from wgtui.cli.peer import print_client_first, with_client_target

    mode = args.mode or "staged"
    timeout = args.timeout or planner.settings.handshake_timeout
    rotation = StagedRotation(planner, args.peer, public_key=args.public_key, timeout=timeout,
                              resume=mode in ("resume", "cancel"))
    if mode == "cancel":
        return _cancel(args, rotation, planner, out)
    if mode == "resume":
        if not args.json:
            out.write(f"Resuming the rotation of {rotation.label}: waiting for new key "
                      f"{keys.short_key(rotation.new_key)} (timeout {int(timeout)} s).\n")
            out.flush()
        return _wait(args, rotation, out, None, sleep)
    rotation.plan = with_client_target(args, rotation.plan)
    plan = rotation.plan
    intro = (f"Staged rotation of {rotation.label}: new key {keys.short_key(rotation.new_key)} first (in the file and "
             f"on the interface), AllowedIPs moved after its first handshake (waiting up to {int(timeout)} s), old key "
             "removed last.\n")
    stop = preview(args, plan, out, "Start the rotation?", intro=intro)
    if stop is not None:
        return stop
    print_client_first(args, plan, out)
    progress = rotation.start()
    if rotation.stage is not Stage.WAITING:
        err(progress.message)
        return 1
    if not args.json:
        out.write(progress.message + "\n")
        if plan.writes_client:
            out.write(f"Client config (new private key, mode 0600): {plan.client_path}\n")
        out.flush()
    signum = interrupts.take()
    if signum is not None:
        err(f"{signal_name(signum)} arrived while the rotation was starting. {rotation.resume_hint()}")
        return 128 + signum
    return _wait(args, rotation, out, plan.client_path if plan.writes_client else None, sleep)


def _wait(args: argparse.Namespace, rotation: StagedRotation, out: TextIO, client: Path | None,
          sleep: Callable[[float], None]) -> int:
    try:
        while True:
            progress = rotation.check()
            if progress.ready:
                result = rotation.complete()
                if client is not None:
                    result = replace(result, client_paths=(client,))
                return report(args, rotation.plan, result, out)
            if progress.timed_out:
                err(progress.message)
                return 1
            sleep(POLL)
    except Interrupted as exc:
        err(f"Interrupted by {signal_name(exc.signum)} while waiting. {rotation.resume_hint()}")
        return exc.exit_code


def _cancel(args: argparse.Namespace, rotation: StagedRotation, planner: Planner, out: TextIO) -> int:
    assert rotation.pending is not None
    plan = plan_cancel(planner, rotation.pending)
    stop = preview(args, plan, out, "Cancel the rotation?")
    if stop is not None:
        return stop
    result = rotation.cancel("cancelled on request")
    return report(args, plan, replace(result, ok=rotation.stage is Stage.CANCELLED), out)
