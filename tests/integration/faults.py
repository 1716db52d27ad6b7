"""Provides fault injection at exact points of a real `wgtui peer add`: strace finds the transaction's system calls,
then delivers a signal on the N-th call of each; and the checks that every case must pass afterwards."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tests.integration.cli import ROOT
from tests.netns import Daemon, Lab
from wgtui import keys
from wgtui.conf import Document

TRACED = ("flock", "connect", "sendto", "fsync", "rename", "write", "unlink")
_LINE = re.compile(r"^(?:\d+ +)?(?P<name>\w+)\((?P<args>.*)\) += (?P<ret>-?\d+)")
_OPENAT = re.compile(r'openat\(AT_FDCWD, "(?P<path>[^"]+)".*\) += (?P<fd>\d+)')


@dataclass(frozen=True)
class Point:
    """One system call of the transaction: strace's `when` is its rank among the calls of that name."""

    syscall: str
    when: int
    what: str

    @property
    def label(self) -> str:
        return f"{self.syscall} #{self.when} ({self.what})"


def _short(path: str) -> str:
    name = Path(path).name
    name = re.sub(r"\.\d+\.wgtui-tmp$", " (temp)", name)
    return re.sub(r"wgu\w+?(?=[-.])", "IF", name)


def transaction_points(trace: str) -> list[Point]:
    """The calls from taking the lock to clearing the journal, each named after what it touches."""
    counts: Counter[str] = Counter()
    fds: dict[str, str] = {}
    points: list[Point] = []
    inside = False
    for line in trace.splitlines():
        opened = _OPENAT.search(line)
        if opened:
            fds[opened["fd"]] = opened["path"]
            continue
        match = _LINE.match(line)
        if match is None or match["name"] not in TRACED:
            continue
        name, args = match["name"], match["args"]
        counts[name] += 1
        fd = args.split(",", 1)[0]
        if name == "flock" and "wgtui-lock" in fds.get(fd, ""):
            inside = True
        if not inside:
            continue
        if name in ("rename", "unlink"):
            what = _short(args.split('"')[-2] if name == "rename" else args.split('"')[1])
        elif name in ("connect", "sendto"):
            what = "UAPI set" if "set=1" in args else ("UAPI get" if "get=1" in args else "UAPI socket")
        else:
            path = fds.get(fd, "")
            what = _short(path) if path else f"fd {fd}"
            if name == "fsync" and path and Path(path).is_dir():
                what = f"directory {Path(path).name or path}"
        if name == "write" and fd in ("1", "2"):
            continue  # the report after the change: not part of it
        points.append(Point(name, counts[name], what))
        if name == "unlink" and "wgtui-journal" in args:
            inside = False
    return points


def wgtui_cmd(ns: str, *args: str, strace: list[str] | None = None) -> list[str]:
    """`python -m wgtui ARGS` in the namespace. No bytecode is written: a first import would add renames of its own
    and shift the count of every later one."""
    prefix = ["strace", "-f", "-qq", *strace] if strace else []
    return ["ip", "netns", "exec", ns, "env", f"PYTHONPATH={ROOT}", "PYTHONDONTWRITEBYTECODE=1", *prefix,
            sys.executable, "-m", "wgtui", *args]


def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90, cwd="/")


@dataclass
class Scene:
    """One server with one peer, its config directory, and how to put both back between cases."""

    lab: Lab
    server: Daemon
    directory: Path
    original: bytes
    original_peers: frozenset[str]

    @property
    def conf(self) -> Path:
        return self.directory / f"{self.server.ifname}.conf"

    def add_args(self) -> list[str]:
        return ["peer", "add", self.server.ifname, "--name", "carol", "--config-dir", str(self.directory), "--yes"]

    def reset(self) -> None:
        for key in set(self.lab.dump(self.server).peers) - self.original_peers:
            self.lab.wg(self.server, "set", self.server.ifname, "peer", key, "remove")
        for path in self.directory.iterdir():
            if path.is_dir():
                shutil.rmtree(path)
            elif path != self.conf:
                path.unlink()
        self.conf.write_bytes(self.original)
        self.conf.chmod(0o600)

    def problems(self) -> list[str]:
        """What must hold after every case: the file and the interface agree, no journal, no temp file, and a
        peer with a generated key exists only together with its client config (whose key is its own)."""
        out = []
        live = {k: frozenset(p.allowed_ips) for k, p in self.lab.dump(self.server).peers.items()}
        doc = Document.read(self.conf)
        in_file = {p.public_key: frozenset(p.allowed_ips) for p in doc.peers if p.public_key}
        if live != in_file:
            out.append(f"interface {sorted(live)} != file {sorted(in_file)}")
        leftovers = [p.name for p in self.directory.rglob("*") if p.name.endswith((".wgtui-tmp", ".wgtui-journal"))]
        if leftovers:
            out.append(f"left behind: {leftovers}")
        client = self.directory / "clients" / f"{self.server.ifname}-carol.conf"
        new = set(live) - self.original_peers
        if new:
            if not client.exists():
                out.append("the new peer has no client config")
            else:
                private = Document.read(client).interface.private_key  # type: ignore[union-attr]
                if keys.public_key(private or "") not in new:
                    out.append("the client config holds another key")
        elif client.exists():
            out.append("a client config for a peer that does not exist")
        return out
