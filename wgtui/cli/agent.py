"""Provides `wgtui agent --stdio`: the end of the fleet's ssh sessions that runs on each host."""

from __future__ import annotations

import argparse
from typing import Any

EPILOG = """\
Not for people: a wgtui on another machine runs it over ssh (`ssh HOST sudo -n wgtui agent --stdio`) and speaks a
line-delimited JSON protocol with it on standard input and output. The agent reads and changes WireGuard on this
host with the same code as a local wgtui (the same checks, journal, lock, audit log and rotations). For an admin
who is not root there, allow exactly this command without a password, e.g. in /etc/sudoers.d/wgtui:
    admin ALL=(root) NOPASSWD: /usr/local/bin/wgtui agent --stdio
"""


def add_agent_parser(sub: Any) -> None:
    p = sub.add_parser("agent", help="the remote end of `wgtui --host` (over ssh, not for people)",
                       description="Serve a remote wgtui over standard input and output.", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stdio", action="store_true", required=True, help="speak the protocol on stdin/stdout")
