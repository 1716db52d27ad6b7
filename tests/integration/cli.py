"""Provides running the real `wgtui` command inside a test's network namespace, optionally unprivileged."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


# The interpreter lives under /root, which user nobody cannot enter: so the process starts as root, loads the
# code, and drops to nobody (no capabilities, no root-owned sockets) before wgtui does anything.
AS_NOBODY = """
import os, sys, locale, gettext, json
import wgtui.cli, wgtui.cli.show, wgtui.backends.host, wgtui.backends.netlink, wgtui.backends.uapi, wgtui.config_source
wgtui.cli.build_parser().parse_args(sys.argv[1:])
os.setgroups([]); os.setgid(65534); os.setuid(65534)
sys.exit(wgtui.cli.main(sys.argv[1:]))
"""


def wgtui_in(ns: str, *args: str, nobody: bool = False) -> subprocess.CompletedProcess[str]:
    """Run `python -m wgtui ARGS` inside the namespace, as a real user would (optionally unprivileged)."""
    entry = ["-c", AS_NOBODY] if nobody else ["-m", "wgtui"]
    return subprocess.run(["ip", "netns", "exec", ns, "env", f"PYTHONPATH={ROOT}", sys.executable, *entry, *args],
                          capture_output=True, text=True, timeout=60, cwd="/")


def wgtui_popen(ns: str, *args: str) -> subprocess.Popen[str]:
    """`python -m wgtui ARGS` in the background inside the namespace (a staged rotation waits for a handshake)."""
    return subprocess.Popen(["ip", "netns", "exec", ns, "env", f"PYTHONPATH={ROOT}", sys.executable, "-m", "wgtui",
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/")
