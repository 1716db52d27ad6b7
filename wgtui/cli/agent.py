"""Provides `wgtui agent`: the resident service that keeps time on a host (expiry, quotas, usage, metrics, webhooks),
`--once` for timers, and `--stdio`, the end of the fleet's ssh sessions."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from wgtui.durations import parse_age

EPILOG = """\
Without options it runs until stopped (SIGTERM or SIGINT: a change in progress finishes first), as the systemd
unit does (`wgtui agent --print-unit`, `--install-unit`; the README shows the steps). Each poll records every
peer's counters in the usage database under --state-dir, disables a peer the moment its expiry passes or its
quota is used up (reason expired or quota, through the same journal and #[disabled] format as `wgtui peer
disable`), enables peers disabled for their quota when a new period starts, warns before expiries and at quota
thresholds, finishes pending key rotations whose new key has handshaken, and queues events for the webhooks of
CONFIG_DIR/wgtui.json (SIGHUP, `systemctl reload wgtui-agent`, reads them again). Deadlines are kept exactly:
the agent wakes at an expiry, not at its next poll. --once does one pass (catching up on whatever passed while no
agent ran), delivers what it can and exits: for a systemd timer or cron every minute. Exit codes: 0 stopped or
done, 1 a real error (why on stderr), 2 usage.

--stdio is not for people: a wgtui on another machine runs it over ssh (`ssh HOST sudo -n wgtui agent --stdio`)
and speaks a line-delimited JSON protocol with it on standard input and output. The agent reads and changes
WireGuard on this host with the same code as a local wgtui (the same checks, journal, lock, audit log and
rotations). For an admin who is not root there, allow exactly this command without a password, e.g. in
/etc/sudoers.d/wgtui:
    admin ALL=(root) NOPASSWD: /usr/local/bin/wgtui agent --stdio
"""


def _listen(text: str) -> str:
    """ADDR:PORT, or a bare PORT meaning 127.0.0.1:PORT (never an implicit 0.0.0.0)."""
    from wgtui.lifecycle.metrics import parse_listen  # http.server: only for the agent, not every command

    full = f"127.0.0.1:{text}" if text.isdigit() else text
    try:
        parse_listen(full)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return full


def _ages(text: str) -> tuple[int, ...]:
    items = [t for t in text.split(",") if t.strip()] if text.strip().lower() != "none" else []
    return tuple(sorted({int(parse_age(t)) for t in items}, reverse=True))


def _percents(text: str) -> tuple[int, ...]:
    if text.strip().lower() == "none":
        return ()
    out = set()
    for item in text.split(","):
        cleaned = item.strip().rstrip("%")
        if not cleaned.isdigit() or not 1 <= int(cleaned) <= 100:
            raise argparse.ArgumentTypeError(f"{item!r}: --warn-at takes percentages from 1 to 100, like 80,100")
        out.add(int(cleaned))
    return tuple(sorted(out))


def add_agent_parser(sub: Any) -> None:
    p = sub.add_parser("agent", help="the resident service (expiry, quotas, usage, metrics, webhooks); --stdio for "
                                     "`wgtui --host`",
                       description="Keep time on this host: enforce expiries and quotas, account usage, serve "
                                   "metrics and send webhooks; or serve a remote wgtui over stdin/stdout (--stdio).",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stdio", action="store_true", help="speak the fleet protocol on stdin/stdout (over ssh)")
    p.add_argument("--once", action="store_true", help="one pass (catch-up included), then exit: for timers")
    p.add_argument("--metrics", type=_listen, metavar="ADDR:PORT",
                   help="serve Prometheus metrics on http://ADDR:PORT/metrics (a bare PORT means 127.0.0.1:PORT)")
    p.add_argument("--textfile", type=Path, metavar="DIR",
                   help="write DIR/wgtui.prom each poll for node_exporter's textfile collector (temp, then rename)")
    p.add_argument("--interval", type=float, default=argparse.SUPPRESS, metavar="SEC",
                   help="seconds between polls (default 1, or the global --interval); deadlines are kept exactly")
    p.add_argument("--warn-before", type=_ages, default=(7 * 86400, 3 * 86400, 86400), metavar="AGES",
                   help="warn this long before an expiry (default 7d,3d,1d; none for no warning)")
    p.add_argument("--warn-at", type=_percents, default=(80, 100), metavar="PERCENTS",
                   help="warn when a quota period's use reaches these percentages (default 80,100; none)")
    unit = p.add_mutually_exclusive_group()
    unit.add_argument("--print-unit", action="store_true", help="print the systemd unit and exit")
    unit.add_argument("--install-unit", action="store_true",
                      help="write the systemd unit to /etc/systemd/system/wgtui-agent.service and exit")


def run_agent_command(args: argparse.Namespace) -> int:
    """`wgtui agent` without --stdio: the unit, --once, or the resident service."""
    from wgtui.agent.unit import UNIT, UNIT_NAME, install_unit

    if args.print_unit:
        sys.stdout.write(UNIT)
        return 0
    if args.install_unit:
        try:
            path = install_unit()
        except OSError as exc:
            print(f"wgtui agent: cannot write the unit: {exc.strerror or exc} (run it as root)", file=sys.stderr)
            return 1
        print(f"Wrote {path}. Start it with: systemctl daemon-reload && systemctl enable --now {UNIT_NAME}")
        return 0
    if args.once and args.metrics:
        print("wgtui agent: --metrics serves a running agent; with --once use --textfile DIR", file=sys.stderr)
        return 2
    if not 0.05 <= args.interval <= 86400:
        print("wgtui agent: --interval takes between 0.05 and 86400 seconds", file=sys.stderr)
        return 2
    from wgtui.agent.service import run_resident
    from wgtui.cli import open_backend

    backend, config_dir = open_backend(args.demo, args.config_dir)
    try:
        return run_resident(args, backend, config_dir)
    finally:
        backend.close()
