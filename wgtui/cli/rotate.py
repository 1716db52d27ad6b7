"""Provides `wgtui peer rotate`: staged rotations of one peer or many, waiting, resuming and cancelling them."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from wgtui import interrupts, keys
from wgtui.changes.plan import ChangeRefused, Plan
from wgtui.changes.planner import Planner
from wgtui.changes.rotation import RotationSession, StagedRotation, Step
from wgtui.changes.rotation_plans import plan_cancel
from wgtui.cli.output import err, plan_json, preview, report
from wgtui.conf.meta import all_meta, key_created, rotation_marks
from wgtui.durations import parse_age
from wgtui.interrupts import Interrupted, signal_name

POLL = 0.1
"""Seconds between checks for a new key's handshake: the client is cut off between its switch and the move."""


def add_rotate_parser(cmds: Any, fmt: type[argparse.HelpFormatter]) -> None:
    from wgtui.cli.peer import CHANGE_EPILOG, _client_options, change_options

    rot = cmds.add_parser("rotate", help="give peers new keys without stranding their clients",
                          epilog=CHANGE_EPILOG + "\n--staged (default): each new key is added beside the old one "
                          "without AllowedIPs, in the file and on the interface; once it has handshaken, the "
                          "AllowedIPs move to it and the old key is removed. Until then the rotation is pending: it "
                          "survives this session (Ctrl-C, a dropped SSH connection, --timeout, --no-wait) and is "
                          "finished by any wgtui that sees the handshake (--resume, `wgtui peer pending --finish`, "
                          "the dashboard) or undone with --cancel. --now swaps at once and cuts the old client off. "
                          "--psk rotates only the preshared key.", formatter_class=fmt)
    change_options(rot)
    rot.add_argument("peers", nargs="*", metavar="PEER", help="the peers to rotate (or --all, --older-than)")
    which = rot.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="every peer in the file and on the interface")
    which.add_argument("--older-than", metavar="AGE", type=parse_age,
                       help="peers whose key is older than AGE (90d, 12w, 36h; keys of unknown age count as old)")
    how = rot.add_mutually_exclusive_group()
    how.add_argument("--staged", action="store_const", dest="mode", const="staged", help="(default) see below")
    how.add_argument("--now", action="store_const", dest="mode", const="now", help="swap at once (one peer)")
    how.add_argument("--psk", action="store_const", dest="mode", const="psk", help="new preshared key only (one peer)")
    how.add_argument("--resume", action="store_const", dest="mode", const="resume",
                     help="wait again for the new keys of pending rotations, then finish them")
    how.add_argument("--cancel", action="store_const", dest="mode", const="cancel",
                     help="undo pending rotations: the new keys go from the interface and the file")
    rot.add_argument("--no-wait", action="store_true",
                     help="start the rotations, write the client configs and exit 0; they stay pending")
    rot.add_argument("--public-key", metavar="KEY", help="the client's new public key (one peer; else generated)")
    rot.add_argument("--timeout", type=float, metavar="SEC",
                     help="how long to wait for the handshakes before leaving the rotations pending")
    rot.add_argument("--client-config-dir", type=Path, metavar="DIR",
                     help="write each client's config (new private key, 0600) into DIR as IF-NAME.conf")
    _client_options(rot)


def chosen_peers(args: argparse.Namespace, planner: Planner) -> list[str]:
    """The peers to rotate, as public keys: those named, --all, or those whose key is older than --older-than."""
    if args.peers and (args.all or args.older_than):
        raise ChangeRefused("Name peers, or use --all or --older-than, not both.")
    marks = rotation_marks(planner.doc)  # pending new keys are not rotated themselves
    if args.peers:
        return [planner.resolve(q).public_key for q in args.peers]
    everyone = [p.public_key for p in planner.peers() if p.in_file and p.in_runtime and p.public_key not in marks]
    if args.all:
        return everyone
    if args.older_than is not None:
        created = key_created(all_meta(planner.doc))
        limit = time.time() - args.older_than
        return [k for k in everyone if created.get(k, 0) < limit]
    raise ChangeRefused("Which peers? Name them, or use --all or --older-than AGE.")


def run_rotate(args: argparse.Namespace, planner: Planner, out: TextIO,
               sleep: Callable[[float], None] = time.sleep) -> int:
    from wgtui.cli.peer import print_client_first

    mode = args.mode or "staged"
    timeout = args.timeout or planner.settings.handshake_timeout
    if mode in ("resume", "cancel"):
        session = RotationSession.resume(planner, args.peers, timeout=timeout)
        if not session.rotations:
            out.write(f"No rotation is pending on {planner.ifname}.\n")
            return 0
        return _cancel(args, session, out) if mode == "cancel" else _wait(args, session, out, sleep)
    targets = chosen_peers(args, planner)
    if not targets:
        out.write("No peer to rotate: every key is younger than --older-than.\n")
        return 0
    if args.client_config and len(targets) > 1:
        raise ChangeRefused("--client-config names one file: with several peers use --client-config-dir DIR.")
    session = RotationSession.new(planner, targets, public_key=args.public_key, timeout=timeout,
                                  client_dir=args.client_config_dir)
    assert session.plan is not None
    from wgtui.cli.peer import with_client_target

    session.plan = with_client_target(args, session.plan)
    plan = session.plan
    intro = (f"Staged rotation: each new key first (in the file and on the interface), its AllowedIPs moved after its "
             f"first handshake (waiting up to {int(timeout)} s), the old key removed last.\n")
    stop = preview(args, plan, out, "Start the rotation?", intro=intro)
    if stop is not None:
        return stop
    print_client_first(args, plan, out)
    result = session.start()
    if not result.ok:
        err(result.message)
        return 1
    _started(args, session, plan, out)
    signum = interrupts.take()
    if signum is not None:
        err(f"{signal_name(signum)} arrived while the rotations were starting. " + _hints(session))
        return 128 + signum
    if args.no_wait:
        if not args.json:
            out.write(_hints(session) + "\n")
        return 0
    return _wait(args, session, out, sleep)


def _started(args: argparse.Namespace, session: RotationSession, plan: Plan, out: TextIO) -> None:
    if args.json:
        return
    for r in session.rotations:
        path = plan.client_path if r is session.rotations[0] and plan.client_path else r.client_path
        where = f"; client config (new private key, 0600): {path}" if path and r.client else ""
        out.write(f"{r.label}: new key {keys.short_key(r.new_key)} added beside the old one{where}\n")
    out.flush()


def _hints(session: RotationSession) -> str:
    pending = [r for r in session.rotations if r.step in (Step.WAITING, Step.HANDSHAKEN, Step.BLOCKED)]
    if len(pending) == 1:
        return pending[0].resume_hint()
    if not pending:
        return "No rotation is pending."
    return (f"{len(pending)} rotations stay pending on {session.ifname} (both keys in the file and on the interface; "
            f"the old keys keep working). Finish them with `wgtui peer pending {session.ifname} --finish` (or "
            f"`wgtui peer rotate {session.ifname} --resume PEER…`), undo them with `… --cancel PEER…`.")


def _wait(args: argparse.Namespace, session: RotationSession, out: TextIO, sleep: Callable[[float], None]) -> int:
    if not args.json:
        for r in session.rotations:
            out.write(f"{r.label}: waiting for new key {keys.short_key(r.new_key)}'s first handshake\n")
        out.flush()
    try:
        while not session.finished:
            for r in session.poll():
                if not args.json:
                    out.write(f"{r.label}: {r.step}: {r.message}\n")
                    out.flush()
            if session.finished:
                break
            if session.timed_out():
                err(f"No handshake within {int(session.rotations[0].timeout)} s. " + _hints(session))
                _summary(args, session, out)
                return 1
            sleep(POLL)
    except Interrupted as exc:
        err(f"Interrupted by {signal_name(exc.signum)} while waiting. " + _hints(session))
        return exc.exit_code
    _summary(args, session, out)
    return 0 if all(r.step is Step.DONE for r in session.rotations) else 1


def _summary(args: argparse.Namespace, session: RotationSession, out: TextIO) -> None:
    if args.json:
        json.dump({"interface": session.ifname, "plan": plan_json(session.plan) if session.plan else None,
                   "rotations": [rotation_json(r) for r in session.rotations]}, out, indent=2)
        out.write("\n")
    for r in session.rotations:
        if r.step is Step.BLOCKED:
            err(r.message)


def rotation_json(r: StagedRotation) -> dict[str, Any]:
    return {"name": r.pending.name or None, "old_public_key": r.old_key, "new_public_key": r.new_key,
            "started": r.pending.started, "step": str(r.step), "message": r.message,
            "client_config": str(r.client_path) if r.client_path and r.client else None}


def _cancel(args: argparse.Namespace, session: RotationSession, out: TextIO) -> int:
    planner = session.planner
    if len(session.rotations) == 1:
        plan = plan_cancel(planner, session.rotations[0].pending)
        stop = preview(args, plan, out, "Cancel the rotation?")
        if stop is not None:
            return stop
    elif not args.yes and not args.dry_run:
        raise ChangeRefused("Cancelling several rotations at once needs --yes (see them with `wgtui peer pending`).")
    elif args.dry_run:
        out.write("".join(f"would cancel the rotation of {r.label}\n" for r in session.rotations))
        return 0
    results = session.cancel_all("cancelled on request")
    ok = all(r.step is Step.CANCELLED for r in session.rotations)
    if len(session.rotations) == 1:
        return report(args, plan, replace(results[0], ok=ok), out)
    for r in session.rotations:
        (out.write(f"{r.label}: {r.message}\n") if r.step is Step.CANCELLED else err(f"{r.label}: {r.message}"))
    return 0 if ok else 1

