"""Provides a remote host: its session (agent, or read-only `wg show all dump`), its state and its health."""

# Per host: connecting → live → stale (no answer for a while) → unreachable (the error), and back, with backoff.
# One slow or dead host never holds up another: each has its own session and its own timeouts.

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from wgtui.agent.protocol import VERSION, config_from_json, iface_from_json, peer_from_json, with_counters
from wgtui.compat import StrEnum
from wgtui.config_source import EMPTY, ConfigView
from wgtui.model import InterfaceState, PeerState
from wgtui.remote.fallback import DumpSession
from wgtui.remote.ssh import Channel, HostError, HostSpec, SshOptions, agent_command, base_argv

POLL_TIMEOUT = 10.0


class Health(StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    STALE = "stale"
    UNREACHABLE = "unreachable"


class Mode(Enum):
    AGENT = "agent"
    READ_ONLY = "read-only"
    """No wgtui on the host: `wg show all dump` over the same connection; changes are refused."""


INSTALL = ("wgtui is not installed on {host} (or not for the command `{command}`): shown read-only through "
           "`wg show all dump`. To change peers there, install it on the host (`pip install wgtui`, or copy this "
           "checkout and `make run`) and, for a user that is not root, allow it in sudoers: "
           "`USER ALL=(root) NOPASSWD: /usr/local/bin/wgtui agent --stdio`.")


class RemoteHost:
    """One host of the fleet. `poll()` brings its state up to date; every method may be called from any thread."""

    def __init__(self, spec: HostSpec, opts: SshOptions, clock: Callable[[], float] = time.time) -> None:
        self.spec = spec
        self.opts = opts
        self.clock = clock
        self.health = Health.CONNECTING
        self.mode = Mode.AGENT
        self.error: str | None = None
        self.hello: dict[str, Any] = {}
        self.latency: float | None = None
        self.last_ok: float | None = None
        self.states: dict[str, InterfaceState] = {}
        self.configs: dict[str, ConfigView] = {}
        self._peers: dict[str, dict[str, PeerState]] = {}
        self._ifaces: dict[str, dict[str, Any]] = {}
        self._ids: dict[str, dict[int, str]] = {}
        """Per interface, the agent's session id of each peer -> its public key."""
        self._channel: Channel | None = None
        self._dump: DumpSession | None = None
        self._lock = threading.RLock()
        self._retry_at = 0.0
        self._backoff = 1.0
        self.bytes_sent = 0
        self.bytes_received = 0

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def command(self) -> str:
        return agent_command(self.spec, self.opts)

    # -- the session -----------------------------------------------------------------------------------------

    def connect(self) -> None:
        """Open the session and say hello; falls back to read-only when the host has no wgtui."""
        with self._lock:
            self._close_sessions()
            self.health = Health.CONNECTING
            command = self.command
            channel = Channel([*base_argv(self.spec, self.opts), "--", self.spec.destination, command])
            try:
                answer = channel.request("hello", self.opts.connect_timeout + 5, version=VERSION)
            except HostError as exc:
                channel.close()
                if self._missing_agent(channel):
                    self._start_read_only()
                    return
                self._fail(str(exc))
                raise
            if not answer.get("ok"):
                channel.close()
                self._fail(f"the agent refused: {answer.get('error')}")
                raise HostError(self.error or "refused")
            self._channel, self.hello, self.mode = channel, answer, Mode.AGENT

    def _missing_agent(self, channel: Channel) -> bool:
        said = channel.stderr.lower()
        return channel.exit_code == 127 or "command not found" in said or ("not found" in said and "wgtui" in said)

    def _start_read_only(self) -> None:
        self.mode = Mode.READ_ONLY
        self._dump = DumpSession(self.spec, self.opts)
        self.hello = {"host": self.spec.name}

    def _fail(self, error: str) -> None:
        self.health, self.error = Health.UNREACHABLE, error
        self._retry_at = self.clock() + self._backoff
        self._backoff = min(self._backoff * 2, 30.0)

    def _close_sessions(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self.bytes_sent += self._channel.sent
            self.bytes_received += self._channel.received
            self._channel = None
        if self._dump is not None:
            self._dump.close()
            self._dump = None

    def close(self) -> None:
        with self._lock:
            self._close_sessions()

    @property
    def wire_bytes(self) -> tuple[int, int]:
        """Bytes sent and received so far (for the fleet's wire-cost figures)."""
        ch = self._channel
        return (self.bytes_sent + (ch.sent if ch else 0), self.bytes_received + (ch.received if ch else 0))

    def request(self, op: str, timeout: float = POLL_TIMEOUT, **fields: Any) -> dict[str, Any]:
        """One agent request (changes, rotations); HostError when the host is not reachable or is read-only."""
        if self.mode is Mode.READ_ONLY:
            raise HostError(INSTALL.format(host=self.name, command=self.command))
        with self._lock:
            if self._channel is None:
                self.connect()
            channel = self._channel
        assert channel is not None
        answer = channel.request(op, timeout, **fields)
        if not answer.get("ok"):
            raise HostError(str(answer.get("error")))
        return answer

    # -- state -----------------------------------------------------------------------------------------------

    def poll(self) -> bool:
        """Bring the state up to date; False when the host could not be reached (the error is kept)."""
        now = self.clock()
        if self.health is Health.UNREACHABLE and now < self._retry_at:
            return False
        started = time.monotonic()
        try:
            if self.mode is Mode.AGENT and self._channel is None and self._dump is None:
                self.connect()
            if self.mode is Mode.READ_ONLY and self._dump is not None:
                states, configs = self._dump.poll(POLL_TIMEOUT)
                with self._lock:
                    self.states, self.configs = states, configs
            else:
                assert self._channel is not None
                answer = self._channel.request("poll", POLL_TIMEOUT)
                try:
                    self._apply(answer)
                except (KeyError, IndexError, TypeError, ValueError) as exc:
                    # Start afresh: the next session's first poll carries everything again.
                    raise HostError(f"the agent's poll could not be read ({type(exc).__name__}: {exc})") from None
        except HostError as exc:
            with self._lock:
                self._close_sessions()
                self._fail(str(exc))
            return False
        self.latency = time.monotonic() - started
        self.health, self.error, self.last_ok, self._backoff = Health.LIVE, None, now, 1.0
        return True

    def _apply(self, answer: Mapping[str, Any]) -> None:
        with self._lock:
            for name in answer.get("gone", []):
                self.states.pop(name, None)
                self.configs.pop(name, None)
                self._peers.pop(name, None)
                self._ifaces.pop(name, None)
                self._ids.pop(name, None)
            for name, delta in answer.get("interfaces", {}).items():
                peers = {} if delta.get("reset") else dict(self._peers.get(name, {}))
                ids = self._ids.setdefault(name, {})
                if delta.get("reset"):
                    ids.clear()
                for item in delta.get("upserts", []):
                    peer = peer_from_json(item)
                    peers[peer.public_key] = peer
                    ids[int(item[8])] = peer.public_key
                for item in delta.get("counters", []):
                    key = ids[int(item[0])]
                    peers[key] = with_counters(peers[key], item)
                for key in delta.get("removed", []):
                    peers.pop(key, None)
                if "iface" in delta:
                    self._ifaces[name] = delta["iface"]
                if "config" in delta:
                    self.configs[name] = config_from_json(delta["config"])
                self._peers[name] = peers
                self.states[name] = iface_from_json(self._ifaces[name], peers)
            if "error_all" in answer:
                self.error = str(answer["error_all"])

    def config(self, ifname: str) -> ConfigView:
        return self.configs.get(ifname, EMPTY)

    def age(self) -> float | None:
        """Seconds since the last answer; the host is stale past a few polls without one."""
        return None if self.last_ok is None else self.clock() - self.last_ok

    def mark_stale(self, after: float) -> None:
        age = self.age()
        if self.health is Health.LIVE and age is not None and age > after:
            self.health = Health.STALE
