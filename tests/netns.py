"""Provides a network-namespace lab for integration tests: namespaces, veth links, wireguard-go, wg and ping.

Typical use (the `lab` fixture of tests/conftest.py closes the lab even when a test fails; state_differences is in
tests/wgdump.py):

    a, b = lab.pair()                    # two namespaces, a veth underlay and a working tunnel
    assert lab.ping(a, b.address).ok
    with entered(a.ns):                  # this thread now lives in a's network namespace
        state = UapiBackend().read(a.ifname)
    assert not state_differences(state, lab.dump(a))

Names are unique per lab (`wgu…`), because /var/run/wireguard is shared by every namespace on the host.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.wgdump import parse_dump
from wgtui import keys
from wgtui.model import InterfaceState

SOCKET_DIR = Path("/var/run/wireguard")
TOOLS = ("ip", "wireguard-go", "wg", "ping")
PREFIX = "wgu"
_CLONE_NEWNET = 0x40000000
_counter = itertools.count()


def skip_reason() -> str | None:
    """Why namespace tests cannot run here, or None when they can."""
    if os.geteuid() != 0:
        return "netns tests need root (network namespaces, wireguard-go)"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return (f"netns tests need {', '.join(missing)}: apt-get install -y --no-install-recommends "
                "wireguard-go wireguard-tools iproute2 iputils-ping")
    return None


def run(*args: str, input: str | None = None, check: bool = True, timeout: float = 20) -> str:
    """Run a command, return its stdout; on failure raise with the command and its stderr."""
    proc = subprocess.run(args, input=input, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


@contextlib.contextmanager
def entered(ns: str) -> Iterator[None]:
    """Move the calling thread into network namespace `ns` (named, under /run/netns) and back afterwards."""
    libc = ctypes.CDLL(None, use_errno=True)

    def setns(fd: int) -> None:
        if libc.setns(fd, _CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns: {os.strerror(err)}")

    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(f"/run/netns/{ns}", os.O_RDONLY)
        try:
            setns(target)
        finally:
            os.close(target)
        try:
            yield
        finally:
            setns(home)
    finally:
        os.close(home)


@dataclass
class Daemon:
    """One wireguard-go process and the interface it runs, inside one namespace."""

    ns: str
    ifname: str
    proc: subprocess.Popen[bytes]
    log: Path
    private_key: str
    public_key: str
    listen_port: int
    address: str | None
    """The tunnel address without prefix length (what to ping), if one was given."""
    underlay: str
    """The namespace's veth address (from `Lab.link`), where other namespaces reach this daemon."""

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def socket(self) -> Path:
        return SOCKET_DIR / f"{self.ifname}.sock"

    @property
    def endpoint(self) -> str:
        return f"{self.underlay}:{self.listen_port}"


@dataclass(frozen=True)
class PingResult:
    wanted: int
    sent: int
    received: int
    output: str

    @property
    def ok(self) -> bool:
        """Every requested reply arrived (with a deadline, ping re-probes after a loss: sent may exceed it)."""
        return self.received >= self.wanted


class Lab:
    """Namespaces, links and daemons made for one test, all removed by `close()`."""

    def __init__(self) -> None:
        # Random, so that parallel runs do not collide; counted, so that labs of one run never do.
        self.tag = _base36(secrets.randbelow(36**3)).rjust(3, "0") + _base36(next(_counter) % 1296).rjust(2, "0")
        self.tmp = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-{os.getpid()}-{self.tag}-"))
        self.namespaces: list[str] = []
        self.daemons: list[Daemon] = []
        self.procs: list[subprocess.Popen[bytes]] = []
        self._names = itertools.count()
        self._subnets = itertools.count()
        self._underlay: dict[str, str] = {}
        self._ping_counts: dict[int, int] = {}

    def _name(self) -> str:
        return f"{PREFIX}{self.tag}{_base36(next(self._names))}"

    # --- building ---------------------------------------------------------------------------------------

    def netns(self) -> str:
        """A fresh namespace with loopback up; its name embeds our PID so `sweep()` can spot orphans."""
        ns = f"{PREFIX}-{os.getpid()}-{self._name()}"
        run("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        run("ip", "-n", ns, "link", "set", "lo", "up")
        return ns

    def link(self, ns_a: str, ns_b: str) -> tuple[str, str]:
        """A veth pair between two namespaces, with addresses 10.99.N.1/24 and .2; returns the addresses."""
        n = next(self._subnets)
        addr_a, addr_b = f"10.99.{n}.1", f"10.99.{n}.2"
        run("ip", "link", "add", f"v{n}a", "netns", ns_a, "type", "veth", "peer", "name", f"v{n}b", "netns", ns_b)
        for ns, dev, addr in ((ns_a, f"v{n}a", addr_a), (ns_b, f"v{n}b", addr_b)):
            run("ip", "-n", ns, "-batch", "-", input=f"addr add {addr}/24 dev {dev}\nlink set {dev} up\n")
            self._underlay.setdefault(ns, addr)
        return addr_a, addr_b

    def spawn(self, ns: str, *cmd: str, log: Path | None = None) -> subprocess.Popen[bytes]:
        """A background process inside `ns`, killed and reaped by `close()`."""
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600) if log else subprocess.DEVNULL
        try:
            # A session of its own: a Ctrl-C at the terminal must leave the clean-up to close().
            proc = subprocess.Popen(["ip", "netns", "exec", ns, *cmd], stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        finally:
            if log:
                os.close(out)
        self.procs.append(proc)
        return proc

    def wireguard(self, ns: str, address: str | None = None, listen_port: int = 51820,
                  private_key: str | None = None) -> Daemon:
        """Start wireguard-go in `ns`, bring its link UP, then give it a key and port (in that order:
        configuring a link that is still down makes wireguard-go drop the first handshake, costing 5 s)."""
        ifname = self._name()
        sock = SOCKET_DIR / f"{ifname}.sock"
        if sock.exists():
            raise RuntimeError(f"{sock} already exists: another test uses the name {ifname}")
        log = self.tmp / f"{ifname}.log"
        proc = self.spawn(ns, "wireguard-go", "-f", ifname, log=log)
        private = private_key or keys.generate_private_key()
        daemon = Daemon(ns, ifname, proc, log, private, keys.public_key(private), listen_port,
                        address.split("/")[0] if address else None, self._underlay.get(ns, ""))
        self.daemons.append(daemon)
        _wait_for_socket(daemon)
        batch = (f"addr add {address} dev {ifname}\n" if address else "") + f"link set {ifname} up\n"
        run("ip", "-n", ns, "-batch", "-", input=batch)
        key_file = self._secret(private)
        self.wg(daemon, "set", ifname, "private-key", str(key_file), "listen-port", str(listen_port))
        return daemon

    def pair(self) -> tuple[Daemon, Daemon]:
        """Two namespaces joined by veth, a wireguard-go in each, peered: 10.98.N.1 <-> 10.98.N.2."""
        ns_a, ns_b = self.netns(), self.netns()
        self.link(ns_a, ns_b)
        n = next(self._subnets)
        a = self.wireguard(ns_a, f"10.98.{n}.1/24")
        b = self.wireguard(ns_b, f"10.98.{n}.2/24")
        self.set_peer(a, b.public_key, endpoint=b.endpoint, allowed_ips=[f"{b.address}/32"])
        self.set_peer(b, a.public_key, endpoint=a.endpoint, allowed_ips=[f"{a.address}/32"])
        return a, b

    def _secret(self, value: str) -> Path:
        path = self.tmp / f"key{next(self._names)}"
        path.touch(mode=0o600)
        path.write_text(value + "\n")
        return path

    # --- talking to wg ----------------------------------------------------------------------------------

    def wg(self, daemon: Daemon, *args: str) -> str:
        return run("ip", "netns", "exec", daemon.ns, "wg", *args)

    def set_peer(self, daemon: Daemon, public_key: str, *, endpoint: str | None = None,
                 allowed_ips: Sequence[str] | None = None, keepalive: int | None = None,
                 preshared_key: str | None = None, remove: bool = False) -> None:
        """`wg set IF peer …`: the reference way to configure, independent of the code under test."""
        args = ["set", daemon.ifname, "peer", public_key]
        if remove:
            args.append("remove")
        if preshared_key is not None:
            args += ["preshared-key", str(self._secret(preshared_key))]
        if endpoint is not None:
            args += ["endpoint", endpoint]
        if allowed_ips is not None:
            args += ["allowed-ips", ",".join(allowed_ips)]
        if keepalive is not None:
            args += ["persistent-keepalive", str(keepalive)]
        self.wg(daemon, *args)

    def addconf(self, daemon: Daemon, text: str) -> None:
        """`wg addconf` with a config text: the fast way to load thousands of peers."""
        path = self.tmp / f"conf{next(self._names)}"
        path.touch(mode=0o600)
        path.write_text(text)
        self.wg(daemon, "addconf", daemon.ifname, str(path))

    def dump(self, daemon: Daemon) -> InterfaceState:
        """The interface as `wg show IF dump` and `ip link` see it from inside its namespace."""
        text = self.wg(daemon, "show", daemon.ifname, "dump")
        return parse_dump(text, daemon.ifname, up=self.link_up(daemon.ns, daemon.ifname))

    def link_up(self, ns: str, ifname: str) -> bool:
        flags = re.search(r"<([^>]*)>", run("ip", "-n", ns, "-o", "link", "show", "dev", ifname))
        return flags is not None and "UP" in flags.group(1).split(",")

    def ping(self, daemon: Daemon, address: str | None, count: int = 1, interval: float | None = None,
             deadline: float = 5) -> PingResult:
        """Ping from inside the daemon's namespace and count the replies."""
        return _ping_result(count, run(*self._ping_cmd(daemon.ns, address, count, interval, deadline), check=False))

    def ping_start(self, daemon: Daemon, address: str | None, count: int, interval: float) -> subprocess.Popen[bytes]:
        """A ping running in the background; collect it with `ping_finish`."""
        cmd = self._ping_cmd(daemon.ns, address, count, interval, None)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        self._ping_counts[proc.pid] = count
        return proc

    def ping_finish(self, proc: subprocess.Popen[bytes]) -> PingResult:
        out, _ = proc.communicate(timeout=60)
        return _ping_result(self._ping_counts.pop(proc.pid), out.decode(errors="replace"))

    @staticmethod
    def _ping_cmd(ns: str, address: str | None, count: int, interval: float | None,
                  deadline: float | None) -> list[str]:
        if address is None:
            raise ValueError("the daemon has no tunnel address to ping")
        # -w keeps probing until `count` replies (retries cover a first handshake); without it, -W 1 makes
        # exactly `count` probes, which is what a packet-loss count needs.
        timing = ["-w", f"{deadline:g}"] if deadline is not None else ["-W", "1"]
        cmd = ["ip", "netns", "exec", ns, "ping", "-n", "-q", "-c", str(count), *timing]
        if interval is not None:
            cmd += ["-i", f"{interval:g}"]
        return [*cmd, address]

    def python(self, ns: str, code: str) -> str:
        """Run Python code (this interpreter, this checkout on the path) inside `ns`; return its stdout."""
        root = str(Path(__file__).resolve().parent.parent)
        return run("ip", "netns", "exec", ns, "env", f"PYTHONPATH={root}", sys.executable, "-c", code)

    # --- tearing down -----------------------------------------------------------------------------------

    def stop(self, daemon: Daemon) -> None:
        """Stop one daemon (SIGTERM, then SIGKILL), reap it and remove its socket if it left one."""
        _stop(daemon.proc)
        with contextlib.suppress(FileNotFoundError):
            daemon.socket.unlink()

    def close(self) -> None:
        """Kill every process, reap it, remove sockets and namespaces; safe to call twice."""
        for proc in self.procs:
            _stop(proc)
        for daemon in self.daemons:
            with contextlib.suppress(FileNotFoundError):
                daemon.socket.unlink()
        for ns in self.namespaces:
            run("ip", "netns", "del", ns, check=False)
        self.procs.clear()
        self.daemons.clear()
        self.namespaces.clear()
        shutil.rmtree(self.tmp, ignore_errors=True)


def answers(path: Path) -> bool:
    """Whether a process listens on the unix socket at `path` (a connect succeeds)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(str(path))
        except OSError:
            return False
    return True


def _wait_for_socket(daemon: Daemon, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if daemon.proc.poll() is not None:
            raise RuntimeError(f"wireguard-go for {daemon.ifname} exited {daemon.proc.returncode}: "
                               f"{daemon.log.read_text(errors='replace')[-2000:]}")
        if daemon.socket.exists() and answers(daemon.socket):
            return
        time.sleep(0.005)
    raise RuntimeError(f"wireguard-go for {daemon.ifname} made no socket within {timeout} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=3)
    if proc.stdout:
        proc.stdout.close()


def _ping_result(wanted: int, output: str) -> PingResult:
    match = re.search(r"(\d+) packets transmitted, (\d+) (?:packets )?received", output)
    if match is None:
        return PingResult(wanted, 0, 0, output)
    return PingResult(wanted, int(match.group(1)), int(match.group(2)), output)


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out
