"""Provides `wgtui check`: what wg-quick would reject in a config file, and what is risky, with line numbers."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any, TextIO

from wgtui.changes import journal
from wgtui.conf.check import Finding, Severity, check_bytes, format_findings
from wgtui.store import StoreError, UnsafePath, check_directory, read_regular

EPILOG = """\
Errors are what wg or wg-quick would refuse, or what silently does not work: keys that are not 32 bytes of
base64, a duplicate PublicKey, two [Interface] sections, a peer with the interface's own key, NUL or non-UTF-8
bytes, values wg cannot parse, and a config directory that another user could write to (wgtui refuses to change
files there, like sshd's StrictModes). Warnings are risky but legal: an AllowedIPs prefix given to two peers (the
later one takes it), SaveConfig = true (wg-quick rewrites the file at `down` and drops every comment), keys wg-quick
does not know, a config readable by others. wgtui refuses to change a file with errors and shows this report.
Exit codes: 0 no errors (warnings may be printed), 1 errors, 2 usage.
"""


def add_check_parser(sub: Any) -> None:
    from wgtui.cli.peer import DEFAULT_CONFIG_DIR

    p = sub.add_parser("check", help="report what wg-quick would reject in IF's config file (line numbers)",
                       description="Check a wg-quick config file the way wg and wg-quick read it.", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("interface", metavar="IF", help="the WireGuard interface, e.g. wg0")
    p.add_argument("--config", type=Path, metavar="FILE", help="the wg-quick file (default CONFIG_DIR/IF.conf)")
    p.add_argument("--config-dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                   help=f"where IF.conf lives (default {DEFAULT_CONFIG_DIR})")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")


def _running_key(ifname: str) -> str | None:
    """The running interface's public key, when it can be read (a peer with it is ignored by WireGuard)."""
    try:
        from wgtui.backends.host import HostBackend

        backend = HostBackend()
    except Exception:
        return None
    try:
        return backend.read(ifname).public_key
    except Exception:
        return None
    finally:
        backend.close()


def findings_for(ifname: str, config: Path) -> list[Finding]:
    """Every finding about the file, its mode and its directory."""
    out: list[Finding] = []
    try:
        check_directory(config.parent)
    except UnsafePath as exc:
        out.append(Finding(Severity.ERROR, None, "unsafe-directory", str(exc)))
    except StoreError as exc:
        out.append(Finding(Severity.ERROR, None, "unreadable", str(exc)))
    try:
        data = read_regular(config)
    except StoreError as exc:
        return [*out, Finding(Severity.ERROR, None, "unreadable", str(exc))]
    if data is None:
        return [*out, Finding(Severity.ERROR, None, "missing", f"There is no file {config}.")]
    mode = stat.S_IMODE(os.stat(config).st_mode)
    if mode & 0o077:
        out.append(Finding(Severity.WARNING, None, "mode", f"The file holds a private key but is readable or "
                           f"writable by others (mode {mode:04o}); wg-quick warns about it too. Fix: `chmod 600 "
                           f"{config}`."))
    if journal.exists(config):
        out.append(Finding(Severity.WARNING, None, "interrupted-change", "An interrupted change is waiting: "
                           f"`wgtui peer recover {ifname}` completes or undoes it."))
    return out + check_bytes(data, interface_public_key=_running_key(ifname))


def run_check(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    config = Path(args.config or Path(args.config_dir) / f"{args.interface}.conf")
    found = findings_for(args.interface, config)
    n_errors = sum(f.severity is Severity.ERROR for f in found)
    if args.json:
        json.dump({"interface": args.interface, "config": str(config), "errors": n_errors,
                   "warnings": len(found) - n_errors,
                   "findings": [{"severity": str(f.severity), "line": f.line, "code": f.code, "message": f.message}
                                for f in found]}, out, indent=2)
        out.write("\n")
    elif found:
        out.write(format_findings(str(config), found))
        out.write(f"{n_errors} error(s), {len(found) - n_errors} warning(s)\n")
    else:
        out.write(f"{config}: no errors, no warnings\n")
    return 1 if n_errors else 0
