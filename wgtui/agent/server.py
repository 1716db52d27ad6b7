"""Provides `wgtui agent --stdio`: what a remote wgtui talks to on each host, doing every read and change there."""

# The agent does all WireGuard and file work on its host with the code a local run uses (backends, document,
# planner, transaction with its journal, lock, audit log, rotations); the other side only renders and asks. Polls
# answer with what changed since the previous poll, so an idle host costs a few dozen bytes a second.

from __future__ import annotations

import argparse
import contextlib
import getpass
import io
import itertools
import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from wgtui import __version__, interrupts
from wgtui.agent.protocol import (
    VERSION,
    ProtocolError,
    config_to_json,
    iface_to_json,
    only_counters,
    peer_to_json,
    receive,
    send,
)
from wgtui.backends.base import Backend, BackendError
from wgtui.changes import ChangeRefused, Plan, transaction
from wgtui.conf import ConfError
from wgtui.config_source import ConfigSource, ConfigView
from wgtui.model import InterfaceState, PeerState
from wgtui.store import StoreError

Handler = Callable[[dict[str, Any]], dict[str, Any]]
REFUSALS = (ChangeRefused, ConfError, BackendError, StoreError)


class Agent:
    """One session's state: what the other side last saw (for deltas) and the plans it may still apply."""

    def __init__(self, backend: Backend, config_dir: Path, state_dir: Path | None = None) -> None:
        self.backend = backend
        self.config_dir = config_dir
        self.state_dir = state_dir
        """This host's usage ledger (--state-dir), read for `lifecycle` and `usage`; None: no usage here."""
        self.source = ConfigSource(config_dir)
        self.seen: dict[str, dict[str, PeerState]] = {}
        self.seen_iface: dict[str, dict[str, Any]] = {}
        self.seen_config: dict[str, ConfigView] = {}
        self.ids: dict[str, dict[str, int]] = {}
        """Per interface, the session id each peer was sent with (counter updates name peers by it)."""
        self._next_id = itertools.count(1)
        self.plans: dict[str, Any] = {}
        self._tokens = (f"p{n}" for n in itertools.count(1))
        self.handlers: dict[str, Handler] = {
            "hello": self.hello, "poll": self.poll, "plan": self.plan, "apply": self.apply,
            "session_poll": self.session_poll, "discard": self.discard, "pending": self.pending,
            "recover": self.recover, "context": self.context, "lifecycle": self.lifecycle,
            "usage": self.usage,
        }

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        handler = self.handlers.get(str(request.get("op")))
        if handler is None:
            return {"ok": False, "error": f"this agent (wgtui {__version__}) has no operation {request.get('op')!r}"}
        try:
            return {"ok": True, "error": None, **handler(request)}
        except REFUSALS as exc:
            return {"ok": False, "error": str(exc)}

    # -- reading ---------------------------------------------------------------------------------------------

    def hello(self, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("version") != VERSION:
            raise ChangeRefused(f"this agent speaks protocol {VERSION}, the other side {request.get('version')}: "
                                "install the same wgtui on both")
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = str(os.getuid())
        return {"version": VERSION, "wgtui": __version__, "host": socket.gethostname(), "user": user,
                "root": os.geteuid() == 0, "config_dir": str(self.config_dir), "backend": self.backend.kind}

    def poll(self, request: dict[str, Any]) -> dict[str, Any]:
        """Every interface: what changed since this session's previous poll (everything on the first)."""
        try:
            names = self.backend.interfaces()
        except BackendError as exc:
            return {"error_all": str(exc), "interfaces": {}, "gone": sorted(self.seen)}
        out: dict[str, Any] = {}
        for name in names:
            try:
                state = self.backend.read(name)
            except BackendError as exc:
                state = InterfaceState(name=name, backend=self.backend.kind, up=False, error=str(exc))
            out[name] = self._delta(state)
        gone = sorted(set(self.seen) - set(names))
        for name in gone:
            self.seen.pop(name, None)
            self.seen_iface.pop(name, None)
            self.seen_config.pop(name, None)
            self.ids.pop(name, None)
        return {"interfaces": {k: v for k, v in out.items() if v}, "gone": gone}

    def _delta(self, state: InterfaceState) -> dict[str, Any]:
        name, before = state.name, self.seen.get(state.name)
        delta: dict[str, Any] = {}
        iface = iface_to_json(state)
        if self.seen_iface.get(name) != iface:
            delta["iface"] = iface
            self.seen_iface[name] = iface
        ids = self.ids.setdefault(name, {})
        if before is None:
            ids.clear()
            delta["reset"] = True
            delta["upserts"] = [self._full(p, ids) for p in state.peers.values()]
        else:
            upserts, counters = [], []
            for key, peer in state.peers.items():
                old = before.get(key)
                if old is None or old is peer or old == peer:
                    if old is None:
                        upserts.append(self._full(peer, ids))
                    continue
                if only_counters(old, peer):
                    counters.append([ids[key], peer.latest_handshake, peer.rx_bytes, peer.tx_bytes])
                else:
                    upserts.append(self._full(peer, ids))
            removed = [k for k in before if k not in state.peers]
            for key in removed:
                ids.pop(key, None)
            if upserts:
                delta["upserts"] = upserts
            if counters:
                delta["counters"] = counters
            if removed:
                delta["removed"] = removed
        self.seen[name] = dict(state.peers)
        config = self.source(name)
        if self.seen_config.get(name) is not config:
            delta["config"] = config_to_json(config)
            self.seen_config[name] = config
        return delta

    def lifecycle(self, request: dict[str, Any]) -> dict[str, Any]:
        """Expiry, quota with its use, disabled reason and lifetime totals of every peer (live and disabled) of the
        asked interfaces, as `wgtui show --json` reports them here: from this host's ledger, in its zone."""
        from wgtui.cli.show_lifecycle import read_lifecycle

        asked = request.get("interfaces")
        names = [str(n) for n in asked] if asked is not None else self.backend.interfaces()
        wanted = {}
        for name in names:
            live = self.seen.get(name)
            if live is None:
                with contextlib.suppress(BackendError):
                    live = dict(self.backend.read(name).peers)
            config = self.source(name)
            wanted[name] = ([*(live or {}), *(k for k in config.disabled if k not in (live or {}))], config.meta)
        now = time.time()
        found, problem = read_lifecycle(self.state_dir, wanted, now)
        return {"time": int(now), "interfaces": found, "problem": problem}

    def usage(self, request: dict[str, Any]) -> dict[str, Any]:
        """One peer's quota use (under its quota in this host's file) and, when a span is asked, its day/week/month
        history, from this host's ledger: what the detail screen shows of a local peer."""
        from wgtui.lifecycle.peer_usage import SPANS, Usage, read_usage, usage_to_json

        ifname, key, span = str(request["interface"]), str(request["public_key"]), request.get("span")
        if span is not None and span not in SPANS:
            raise ChangeRefused(f"no usage span {span!r}: one of {', '.join(SPANS)}")
        meta = self.source(ifname).meta.get(key)
        quota = meta.quota if meta is not None else None
        if self.state_dir is None:
            found = Usage(problem="no usage recorded: the agent on this host keeps no ledger")
        else:
            found = read_usage(self.state_dir, ifname, key, quota, span, time.time())
        return {"usage": usage_to_json(found)}

    def _full(self, peer: PeerState, ids: dict[str, int]) -> list[Any]:
        """A peer in full, with its session id (a new one the first time it is sent)."""
        ident = ids.get(peer.public_key)
        if ident is None:
            ident = ids[peer.public_key] = next(self._next_id)
        return [*peer_to_json(peer), ident]

    # -- changes ---------------------------------------------------------------------------------------------

    def _args(self, argv: list[str]) -> argparse.Namespace:
        from wgtui.cli import build_parser, finish_args

        parser = build_parser()
        with contextlib.redirect_stderr(io.StringIO()) as said:
            try:
                args = finish_args(parser, parser.parse_args(["peer", *argv]))
            except SystemExit:
                raise ChangeRefused(said.getvalue().strip().splitlines()[-1]) from None
        if args.config is None and "--config-dir" not in argv:
            args.config_dir = self.config_dir
        return args

    def plan(self, request: dict[str, Any]) -> dict[str, Any]:
        """Work out a change as `wgtui peer ARGV` would, and keep it for `apply` (the preview is what is applied)."""
        from wgtui.changes.rotation import RotationSession
        from wgtui.cli.output import plan_json
        from wgtui.cli.peer import make_plan, open_planner
        from wgtui.cli.rotate import chosen_peers

        args = self._args([str(a) for a in request.get("argv", [])])
        if args.peer_command not in ("add", "remove", "edit", "disable", "enable", "undo", "sync", "rotate", "apply"):
            raise ChangeRefused(f"`peer {args.peer_command}` is not a change the agent plans")
        planner, _ = open_planner(args, None if args.file_only else self.backend)
        if planner is None:
            raise ChangeRefused(f"an interrupted change is waiting on {args.interface}: recover it first")
        token = next(self._tokens)
        if args.peer_command == "rotate" and args.mode not in ("now", "psk"):
            timeout = args.timeout or planner.settings.handshake_timeout
            if args.mode in ("resume", "cancel"):
                session = RotationSession.resume(planner, args.peers, timeout=timeout)
                plan = None
            else:
                session = RotationSession.new(planner, chosen_peers(args, planner), public_key=args.public_key,
                                              timeout=timeout, client_dir=args.client_config_dir)
                plan = session.plan
            self.plans[token] = (session, args)
            return {"token": token, "plan": plan_json(plan) if plan else None, "session": _session_json(session)}
        if args.peer_command == "apply":
            from wgtui.changes.batch import plan_batch, rows_from_wire

            batch = plan_batch(planner, rows_from_wire(request.get("rows") or []), client_dir=args.client_config_dir)
            outcomes = [[o.row, o.name, o.public_key, o.outcome, list(o.changes)] for o in batch.outcomes]
            if not batch.changes_anything:
                return {"token": None, "plan": None, "outcomes": outcomes}
            self.plans[token] = (batch.plan, args)
            return {"token": token, "plan": plan_json(batch.plan), "outcomes": outcomes}
        plan = make_plan(args, planner)
        self.plans[token] = (plan, args)
        return {"token": token, "plan": plan_json(plan)}

    def context(self, request: dict[str, Any]) -> dict[str, Any]:
        """What a peer form on the other side is filled from: the same facts a local form gets."""
        from wgtui.changes.form_facts import facts_to_json, form_facts
        from wgtui.changes.planner import Planner
        from wgtui.settings import load as load_settings

        ifname = str(request["interface"])
        planner = Planner(ifname, self.config_dir / f"{ifname}.conf", self.backend,
                          client_settings=load_settings(self.config_dir, ifname))
        key = request.get("public_key")
        return {"context": facts_to_json(form_facts(planner, str(key) if key else None), planner)}

    def apply(self, request: dict[str, Any]) -> dict[str, Any]:
        from wgtui.changes.rotation import RotationSession

        kept = self.plans.pop(str(request.get("token")), None)
        if kept is None:
            raise ChangeRefused("no such plan (it was applied or discarded already): plan the change again")
        item, args = kept
        if isinstance(item, RotationSession):
            if args.mode == "cancel":
                item.cancel_all("cancelled on request")
            elif args.mode != "resume":
                result = item.start()
                if not result.ok:
                    return {"result": _result_json(result, item.plan), "session": _session_json(item)}
            self.plans[str(request["token"])] = (item, args)  # kept for session_poll
            return {"result": None, "session": _session_json(item)}
        plan: Plan = item
        result = transaction.run(plan, None if args.file_only else self.backend)
        return {"result": _result_json(result, plan)}

    def session_poll(self, request: dict[str, Any]) -> dict[str, Any]:
        from wgtui.changes.rotation import RotationSession

        kept = self.plans.get(str(request.get("token")))
        if kept is None or not isinstance(kept[0], RotationSession):
            raise ChangeRefused("no such rotation session")
        session: RotationSession = kept[0]
        session.poll()
        return {"session": _session_json(session)}

    def discard(self, request: dict[str, Any]) -> dict[str, Any]:
        self.plans.pop(str(request.get("token")), None)
        return {}

    def pending(self, request: dict[str, Any]) -> dict[str, Any]:
        from wgtui.cli.pending import run_pending

        args = self._args(["pending", *([str(request["interface"])] if request.get("interface") else []),
                           *(["--finish"] if request.get("finish") else []), "--json"])
        out = io.StringIO()
        with contextlib.redirect_stderr(io.StringIO()) as said:
            code = run_pending(args, out, backend=self.backend)
        import json

        return {"exit": code, "rotations": json.loads(out.getvalue())["rotations"], "stderr": said.getvalue()}

    def recover(self, request: dict[str, Any]) -> dict[str, Any]:
        from wgtui.changes.recovery import recover

        config = self.config_dir / f"{request['interface']}.conf"
        done = recover(config, self.backend, rollback=bool(request.get("rollback")))
        return {"outcome": str(done.outcome), "recovered": done.ok, "message": done.message,
                "steps": list(done.steps)}


def _result_json(result: transaction.ApplyResult, plan: Plan | None) -> dict[str, Any]:
    client = None
    if plan is not None and plan.writes_client and plan.client is not None and result.ok:
        client = plan.client.text()  # the admin hands it to the client: it crosses their own ssh session only
    return {"applied": result.ok, "outcome": str(result.outcome), "message": result.message,
            "steps": list(result.steps), "rollback_failed": result.rollback_failed,
            "client_config": [str(p) for p in result.client_paths], "client_text": client}


def _session_json(session: Any) -> dict[str, Any]:
    from wgtui.cli.rotate import rotation_json

    return {"interface": session.ifname, "finished": session.finished, "timed_out": session.timed_out(),
            "rotations": [rotation_json(r) for r in session.rotations]}


def serve(stdin: IO[bytes], stdout: IO[bytes], agent: Agent) -> int:
    """Answer requests until the other side closes the session."""
    while True:
        try:
            request = receive(stdin)
        except ProtocolError as exc:
            print(f"wgtui agent: {exc}", file=sys.stderr)
            return 1
        if request is None:
            return 0
        answer = agent.handle(request)
        try:
            send(stdout, {"id": request.get("id"), **answer})
        except OSError:
            return 1  # the session is gone; what was done is in the audit log
        signum = interrupts.take()
        if signum is not None:
            return 128 + signum  # a signal waited for the change in progress: now leave


def run_agent(args: argparse.Namespace) -> int:
    from wgtui.cli import open_backend
    from wgtui.conf import lines

    # Long-running, and never in a hurry: a large file's objects are left to the collector, not frozen with
    # whatever else is alive at that moment (which would then never be freed).
    lines.leave_to_collector()
    if not args.stdio:
        from wgtui.cli.agent import run_agent_command

        return run_agent_command(args)

    interrupts.install()  # a change in progress finishes before the agent goes (the ssh session may drop)
    backend, config_dir = open_backend(args.demo, args.config_dir)
    from wgtui.lifecycle.record import recorder

    transaction.set_recorder(recorder(args.state_dir))  # changes asked for remotely are recorded on this host
    try:
        return serve(sys.stdin.buffer, sys.stdout.buffer, Agent(backend, config_dir, args.state_dir))
    except interrupts.Interrupted as exc:
        return exc.exit_code
    finally:
        backend.close()
