"""Provides hosts reached over real SSH for the fleet tests: each a network namespace with its own sshd, its own
wireguard-go `wg0`, its own /etc/wireguard and /var/run/wireguard, reached with a test key and a generated config.

    hosts = SshLab(lab)                     # on top of a netns Lab, closed with it
    a = hosts.host("vpn-a")                 # wgtui installed there (on its PATH)
    b = hosts.host("vpn-b", wgtui=False)    # no wgtui: the fleet must fall back to read-only
    ssh -F hosts.config vpn-a ...
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.netns import Lab, run
from wgtui import keys

ROOT = Path(__file__).resolve().parent.parent
ETC_NETNS = Path("/etc/netns")
_subnets = itertools.count(60)


def skip_reason() -> str | None:
    if not Path("/usr/sbin/sshd").exists():
        return "fleet tests need sshd: apt-get install -y --no-install-recommends openssh-server"
    if shutil.which("ssh") is None or shutil.which("unshare") is None or shutil.which("nsenter") is None:
        return "fleet tests need ssh, unshare and nsenter"
    return None


@dataclass
class SshHost:
    name: str
    ns: str
    address: str
    """Where the root namespace reaches its sshd."""
    proc: subprocess.Popen[bytes]
    """sshd (in the host's private mount namespace, where wireguard-go runs too)."""
    etc: Path
    """/etc/wireguard as the host sees it."""
    private_key: str
    public_key: str
    tunnel: str
    """wg0's address (without prefix)."""

    @property
    def conf(self) -> Path:
        return self.etc / "wg0.conf"

    @property
    def pid(self) -> int:
        return self.proc.pid


class SshLab:
    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.tmp = lab.tmp / "ssh"
        self.tmp.mkdir(mode=0o700)
        self.key = self.tmp / "id_ed25519"
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.key))
        self.config = self.tmp / "ssh_config"
        self.config.write_text("")
        self.hosts: list[SshHost] = []
        self._made_etc = False
        if not Path("/etc/wireguard").exists():  # `ip netns exec` binds /etc/netns/NS/wireguard over it
            Path("/etc/wireguard").mkdir(mode=0o700)
            self._made_etc = True
        (Path("/run/sshd")).mkdir(exist_ok=True)
        lab_close = lab.close

        def close() -> None:
            self.close()
            lab_close()

        lab.close = close  # type: ignore[method-assign]

    def host(self, name: str, *, wgtui: bool = True) -> SshHost:
        ns = self.lab.netns()
        n = next(_subnets)
        root_if, host_if = f"vr{n}", f"vh{n}"
        address = f"10.97.{n}.2"
        run("ip", "link", "add", root_if, "type", "veth", "peer", "name", host_if, "netns", ns)
        run("ip", "addr", "add", f"10.97.{n}.1/24", "dev", root_if)
        run("ip", "link", "set", root_if, "up")
        run("ip", "-n", ns, "-batch", "-", input=f"addr add {address}/24 dev {host_if}\nlink set {host_if} up\n")
        etc = ETC_NETNS / ns / "wireguard"
        etc.mkdir(parents=True, mode=0o700)
        rundir = self.tmp / f"run-{name}"
        rundir.mkdir(mode=0o755)
        bindir = self.tmp / f"bin-{name}"
        bindir.mkdir()
        if wgtui:
            wrapper = bindir / "wgtui"
            wrapper.write_text(f"#!/bin/sh\nPYTHONPATH={ROOT} PYTHONDONTWRITEBYTECODE=1 exec {sys.executable} "
                               "-m wgtui \"$@\"\n")
            wrapper.chmod(0o755)
        hostkey = self.tmp / f"{name}_host_key"
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(hostkey))
        authorized = self.tmp / f"{name}_authorized_keys"
        authorized.write_text(Path(f"{self.key}.pub").read_text())
        sshd_config = self.tmp / f"{name}_sshd_config"
        sshd_config.write_text(
            f"Port 22\nListenAddress {address}\nHostKey {hostkey}\nPermitRootLogin prohibit-password\n"
            f"AuthorizedKeysFile {authorized}\nPidFile {self.tmp / name}.pid\nStrictModes no\nUsePAM no\n"
            f"SetEnv PATH={bindir}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin\n")
        log = self.tmp / f"{name}_sshd.log"
        script = (f"mount --bind {rundir} /run/wireguard && wireguard-go wg0 >/dev/null 2>&1 && "
                  f"exec /usr/sbin/sshd -D -f {sshd_config} -E {log}")
        proc = subprocess.Popen(["ip", "netns", "exec", ns, "unshare", "-m", "--propagation", "private", "sh", "-c",
                                 script], start_new_session=True)
        self.lab.procs.append(proc)
        deadline = time.monotonic() + 10
        while not (rundir / "wg0.sock").exists() or not _listening(ns, address):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"sshd or wireguard-go for {name} did not start: "
                                   f"{log.read_text() if log.exists() else ''}")
            time.sleep(0.05)
        private = keys.generate_private_key()
        tunnel = f"10.96.{n}.1"
        self.inside(proc.pid, "ip", "addr", "add", f"{tunnel}/24", "dev", "wg0")
        self.inside(proc.pid, "ip", "link", "set", "wg0", "up")
        key_file = self.tmp / f"{name}.key"
        key_file.write_text(private + "\n")
        key_file.chmod(0o600)
        self.inside(proc.pid, "wg", "set", "wg0", "private-key", str(key_file), "listen-port", "51820")
        (etc / "wg0.conf").write_text(f"# {name}\n[Interface]\nPrivateKey = {private}\nListenPort = 51820\n"
                                      f"Address = {tunnel}/24\n")
        (etc / "wg0.conf").chmod(0o600)
        with self.config.open("a") as f:
            f.write(f"Host {name}\n  HostName {address}\n  User root\n  IdentityFile {self.key}\n"
                    "  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  BatchMode yes\n  LogLevel ERROR\n\n")
        host = SshHost(name, ns, address, proc, etc, private, keys.public_key(private), tunnel)
        self.hosts.append(host)
        return host

    @staticmethod
    def inside(pid: int, *cmd: str) -> str:
        """A command in the host's network and mount namespaces (its own /run/wireguard)."""
        return run("nsenter", "-t", str(pid), "-m", "-n", *cmd)

    def wg(self, host: SshHost, *args: str) -> str:
        return self.inside(host.pid, "wg", *args)

    def freeze(self, host: SshHost) -> None:
        os.kill(host.pid, signal.SIGSTOP)

    def thaw(self, host: SshHost) -> None:
        os.kill(host.pid, signal.SIGCONT)

    def close(self) -> None:
        for host in self.hosts:
            with contextlib.suppress(OSError):
                os.kill(host.pid, signal.SIGCONT)
            pids = run("ip", "netns", "pids", host.ns, check=False).split()
            for pid in pids:
                with contextlib.suppress(OSError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            shutil.rmtree(ETC_NETNS / host.ns, ignore_errors=True)
            n = host.address.split(".")[2]
            run("ip", "link", "del", f"vr{n}", check=False)
        self.hosts.clear()
        if self._made_etc:
            with contextlib.suppress(OSError):
                Path("/etc/wireguard").rmdir()


def _listening(ns: str, address: str) -> bool:
    out = run("ip", "netns", "exec", ns, "ss", "-ltn", check=False)
    return f"{address}:22" in out
