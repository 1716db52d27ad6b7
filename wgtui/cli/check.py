"""Provides `wgtui check`: what wg-quick would reject in a config file, and what is risky, with line numbers."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any, TextIO

from wgtui import keys
from wgtui.changes import journal
from wgtui.conf import Document
from wgtui.conf.check import Finding, Severity, check_and_parse, format_findings
from wgtui.store import StoreError, UnsafePath, check_directory, read_regular

EPILOG = """\
Errors are what wg or wg-quick would refuse, or what silently does not work: keys that are not 32 bytes of
base64, a duplicate PublicKey, two [Interface] sections, a peer with the interface's own key, NUL or non-UTF-8
bytes, values wg cannot parse, and a config directory that another user could write to (wgtui refuses to change
files there, like sshd's StrictModes). Warnings are risky but legal: an AllowedIPs prefix given to two peers (the
later one takes it), SaveConfig = true (wg-quick rewrites the file at `down` and drops every comment), keys wg-quick
does not know, a config readable by others, an `expires=`, `quota=` or `disabled=` item of a peer's `# wgtui:`
comment that does not parse (wgtui ignores it: no expiry, no quota, disabled by hand). wgtui refuses to change a
file with errors and shows this report.
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
    found, doc = check_and_parse(data, interface_public_key=_running_key(ifname))
    if doc is not None:
        found = sorted(found + policy_findings(doc), key=lambda f: (f.line is not None, f.line or 0))
    return out + found


_IGNORED = {"expires": "does not parse, so the peer never expires", "quota": "does not parse, so the peer has no quota",
            "disabled": "is no reason wgtui knows"}
"""What is wrong with an item, and what wgtui does instead, by item name."""


def policy_findings(doc: Document) -> list[Finding]:
    """A warning, on the line of the peer's `# wgtui:` comment, for each lifecycle item there that does not parse:
    the agent reads such an item as absent, so a peer meant to expire or to have a quota silently would not."""
    # wgtui.conf cannot ask this itself: the lifecycle rules are built on it (wgtui.lifecycle imports wgtui.conf).
    from wgtui.lifecycle.policy import malformed

    found = malformed(doc)
    if not found:
        return []
    blocks = _blocks(doc, {key for key, _, _ in found})
    out = []
    for key, item, why in found:
        line, who = _meta_place(doc, key, item, blocks.get(key, []))
        wrong = _IGNORED.get(item.split("=", 1)[0], "is not understood")
        out.append(Finding(Severity.WARNING, line, "bad-policy",
                           f"{who}: {item} in its `# wgtui:` comment {wrong}: {why.rstrip('.')}"))
    return out


_Block = tuple[int, int, str, str]
"""A peer block: its 0-based first line, one past its last, its name ("" when none), "peer" or "disabled peer"."""


def _blocks(doc: Document, wanted: set[str]) -> dict[str, list[_Block]]:
    """The live blocks, then the #[disabled] ones, of the peers with these keys (a key may be in several: a
    duplicate PublicKey is an error of its own, reported apart)."""
    out: dict[str, list[_Block]] = {}
    for view in doc.peers:
        if view.public_key in wanted:
            out.setdefault(view.public_key, []).append((view.section.start, view.section.end, view.name or "", "peer"))
    if wanted - out.keys():
        from wgtui.conf.disabled import disabled_peers  # parses each disabled block: only when one is wanted

        for off in disabled_peers(doc):
            if off.public_key in wanted:
                out.setdefault(off.public_key, []).append((off.start, off.end, off.name or "", "disabled peer"))
    return out


def _meta_place(doc: Document, key: str, item: str, blocks: list[_Block]) -> tuple[int | None, str]:
    """(1-based line of the `# wgtui:` comment holding `item` in one of the blocks of `key`, else the first block's
    first line; the peer as the message names it)."""
    if not blocks:
        return None, f"the peer {keys.short_key(key)}"
    for start, end, name, kind in blocks:
        for i in range(start, end):
            text = doc.lines[i].text
            if "wgtui:" in text and item in text.split():
                return i + 1, _peer(kind, name, key)
    start, _, name, kind = blocks[0]
    return start + 1, _peer(kind, name, key)


def _peer(kind: str, name: str, key: str) -> str:
    return f"{kind} {name!r}" if name else f"the {kind} {keys.short_key(key)}"


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
