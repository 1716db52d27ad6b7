"""Provides one long-lived ssh session per host, through the admin's own OpenSSH, carrying the agent protocol."""

# The system `ssh` binary, so that the admin's ~/.ssh/config, agent, ProxyJump, ControlMaster and known_hosts all
# apply as they do for every other tool. BatchMode: a prompt would hang a dashboard; the connect timeout bounds how
# long a dead host can hold anything up. One session per host carries every request and answer, line by line.

from __future__ import annotations

import contextlib
import itertools
import json
import math
import shlex
import subprocess
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wgtui.agent.protocol import MAX_LINE


class HostError(Exception):
    """The host cannot be reached or does not answer; the message says what ssh or the agent said."""


@dataclass(frozen=True)
class HostSpec:
    """A host as the admin named it: an ssh destination, or an inventory entry."""

    name: str
    """What wgtui shows (the inventory name, or the destination)."""
    destination: str
    """What ssh connects to: `user@host`, an alias of the ssh config, or an inventory's ansible_host."""
    port: int | None = None
    user: str | None = None


@dataclass(frozen=True)
class SshOptions:
    ssh_config: Path | None = None
    connect_timeout: float = 10.0
    remote_command: str | None = None
    """Replaces `[sudo -n] wgtui agent --stdio`."""


def base_argv(spec: HostSpec, opts: SshOptions) -> list[str]:
    argv = ["ssh"]
    if opts.ssh_config is not None:
        argv += ["-F", str(opts.ssh_config)]
    argv += ["-o", "BatchMode=yes", "-o", f"ConnectTimeout={max(1, math.ceil(opts.connect_timeout))}",
             "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3", "-T"]
    if spec.port:
        argv += ["-p", str(spec.port)]
    if spec.user:
        argv += ["-l", spec.user]
    return argv


def remote_user(spec: HostSpec, opts: SshOptions) -> str | None:
    """The user ssh will log in as (`ssh -G` resolves the config without connecting)."""
    if spec.user:
        return spec.user
    argv = ["ssh"] + (["-F", str(opts.ssh_config)] if opts.ssh_config else []) + ["-G", spec.destination]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    for line in done.stdout.splitlines():
        key, _, value = line.partition(" ")
        if key == "user":
            return value.strip()
    return None


def agent_command(spec: HostSpec, opts: SshOptions) -> str:
    """`wgtui agent --stdio`, under `sudo -n` unless the remote user is root (many servers have no sudo)."""
    if opts.remote_command:
        return opts.remote_command
    return "wgtui agent --stdio" if remote_user(spec, opts) == "root" else "sudo -n wgtui agent --stdio"


class Channel:
    """A running ssh session and the requests in flight on it. Thread-safe: any thread may ask."""

    def __init__(self, argv: list[str], *, raw: bool = False) -> None:
        self.argv = argv
        self.raw = raw
        """Lines are text to collect (a shell loop), not protocol messages."""
        self._lines: list[str] = []
        self.sent = 0
        self.received = 0
        self._ids = itertools.count(1)
        self._answers: dict[int, dict[str, Any]] = {}
        self._cond = threading.Condition()
        self._write = threading.Lock()
        self._stderr: deque[str] = deque(maxlen=20)
        self._closed: str | None = None
        try:
            # A session of its own: Ctrl-C at the dashboard's terminal is the dashboard's business, not ssh's.
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         start_new_session=True)
        except OSError as exc:
            raise HostError(f"cannot run ssh: {exc}") from None
        threading.Thread(target=self._read, name="ssh-read", daemon=True).start()
        threading.Thread(target=self._read_stderr, name="ssh-stderr", daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        try:
            for line in iter(lambda: self.proc.stdout.readline(MAX_LINE + 1), b""):  # type: ignore[union-attr]
                self.received += len(line)
                if self.raw:
                    with self._cond:
                        self._lines.append(line.decode("utf-8", errors="replace").rstrip("\n"))
                        self._cond.notify_all()
                    continue
                try:
                    message = json.loads(line)
                except ValueError:
                    self._stderr.append(line.decode("utf-8", errors="replace").strip()[:300])
                    continue
                if isinstance(message, dict) and isinstance(message.get("id"), int):
                    with self._cond:
                        self._answers[message["id"]] = message
                        self._cond.notify_all()
        finally:
            code = self.proc.wait()
            with self._cond:
                self._closed = self._why(code)
                self._cond.notify_all()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            text = raw.decode("utf-8", errors="replace").strip()
            if text:
                self._stderr.append(text)

    def _why(self, code: int) -> str:
        said = "; ".join(self._stderr) or "no message"
        if code == 255:
            return f"ssh could not connect ({said})"
        return f"the session ended (exit {code}: {said})"

    @property
    def stderr(self) -> str:
        return "; ".join(self._stderr)

    @property
    def exit_code(self) -> int | None:
        return self.proc.poll()

    def request(self, op: str, timeout: float, **fields: Any) -> dict[str, Any]:
        """Send one request and wait for its answer; HostError when the session ends or the time is up."""
        ident = next(self._ids)
        line = (json.dumps({"id": ident, "op": op, **fields}, separators=(",", ":")) + "\n").encode()
        with self._write:
            if self._closed is not None:
                raise HostError(self._closed)
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(line)
                self.proc.stdin.flush()
            except OSError:
                raise HostError(self._closed or "the ssh session is gone") from None
            self.sent += len(line)
        with self._cond:
            ready = self._cond.wait_for(lambda: ident in self._answers or self._closed is not None, timeout)
            if ident in self._answers:
                return self._answers.pop(ident)
            if not ready:
                raise HostError(f"no answer within {timeout:g} s")
            raise HostError(self._closed or "the ssh session ended")

    def exchange(self, timeout: float, end: str) -> str:
        """Raw mode: send a newline, collect the lines up to `end` (a shell loop's answer)."""
        with self._write:
            if self._closed is not None:
                raise HostError(self._closed)
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(b"\n")
                self.proc.stdin.flush()
            except OSError:
                raise HostError(self._closed or "the ssh session is gone") from None
            self.sent += 1
        with self._cond:
            if not self._cond.wait_for(lambda: end in self._lines or self._closed is not None, timeout):
                raise HostError(f"no answer within {timeout:g} s")
            if end not in self._lines:
                raise HostError(self._closed or "the ssh session ended")
            at = self._lines.index(end)
            text, self._lines = "\n".join(self._lines[:at]), self._lines[at + 1:]
            return text

    def close(self) -> None:
        with self._write:
            if self.proc.stdin is not None:
                with contextlib.suppress(OSError):
                    self.proc.stdin.close()
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def describe_argv(argv: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)


