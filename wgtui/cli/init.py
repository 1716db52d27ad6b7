"""Provides `wgtui init`: a wg-quick config file written from a running interface, shown first like any change."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from wgtui import interrupts
from wgtui.backends.base import BackendError
from wgtui.changes import ChangeRefused, transaction
from wgtui.changes.init import plan_init
from wgtui.cli.output import err, preview, report
from wgtui.conf import ConfError
from wgtui.interrupts import Interrupted
from wgtui.store import StoreError

EPILOG = """\
For an interface set up by hand (`ip link add`, `wg set`) or by a tool that keeps no wg-quick file: the file gets
the interface's private key, listening port, fwmark and addresses, and every peer with its preshared key, allowed
IPs, endpoint and keepalive. It is shown first (keys masked), written 0600, and never over an existing file.
Exit codes: 0 written (or --dry-run), 1 refused or failed (why on stderr), 2 usage.
"""


def add_init_parser(sub: Any) -> None:
    from wgtui.cli.peer import change_options

    p = sub.add_parser("init", help="write IF's wg-quick config file from the running interface",
                       description="Write a wg-quick config file from the running interface.", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    change_options(p, file_only=False)


def run_init(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from wgtui.backends.host import HostBackend
    from wgtui.cli.peer import config_path

    out = out or sys.stdout
    interrupts.install()
    backend = HostBackend()
    try:
        plan = plan_init(args.interface, config_path(args), backend)
        stop = preview(args, plan, out, "Write this file?")
        if stop is not None:
            return stop
        return report(args, plan, transaction.run(plan, backend), out)
    except Interrupted as exc:
        err("Interrupted before anything was written.")
        return exc.exit_code
    except (ChangeRefused, ConfError, BackendError, StoreError) as exc:
        err(str(exc))
        return 1
    finally:
        backend.close()
        interrupts.uninstall()

