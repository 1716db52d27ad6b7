"""Provides the read-only view of a host without wgtui: `wg show all dump` over one long-lived ssh session."""

# A shell loop on the host answers each newline with a dump, the names of each interface's config (read there, only
# the names cross the wire) and an end marker; the same connection serves every poll.

from __future__ import annotations

import threading
from dataclasses import dataclass

from wgtui.conf import ConfError, Document
from wgtui.config_source import ConfigView
from wgtui.model import InterfaceState, PeerState
from wgtui.remote.ssh import Channel, HostError, HostSpec, SshOptions, base_argv, remote_user

END = "#wgtui-end"

# For each interface the dump names, the comment lines of its config (for names) are printed after a marker; keys
# never leave the host (grep keeps comments, [Peer] headers and PublicKey lines only).
LOOP = (
    "while read -r _; do {sudo}wg show all dump; echo '#wgtui-rc' $?; "
    "for i in $({sudo}wg show interfaces); do echo '#wgtui-conf' $i; "
    "{sudo}grep -E '^[[:space:]]*(#|\\[Peer\\]|PublicKey[[:space:]]*=)' /etc/wireguard/$i.conf 2>/dev/null; done; "
    "echo '" + END + "'; done"
)


@dataclass(frozen=True)
class Dump:
    states: dict[str, InterfaceState]
    configs: dict[str, ConfigView]


def parse(text: str) -> tuple[dict[str, InterfaceState], dict[str, ConfigView]]:
    """States from `wg show all dump` (interface lines have 5 fields, peer lines 9) and names from the configs."""
    ifaces: dict[str, dict[str, object]] = {}
    peers: dict[str, dict[str, PeerState]] = {}
    conf_lines: dict[str, list[str]] = {}
    current_conf: str | None = None
    rc = 0
    for line in text.splitlines():
        if line.startswith("#wgtui-rc"):
            rc = int(line.split()[1])
            continue
        if line.startswith("#wgtui-conf"):
            current_conf = line.split(maxsplit=1)[1].strip()
            conf_lines[current_conf] = []
            continue
        if current_conf is not None:
            conf_lines[current_conf].append(line)
            continue
        fields = line.split("\t")
        if len(fields) == 5:
            name, _private, public, port, fwmark = fields
            ifaces[name] = {"public_key": None if public == "(none)" else public, "listen_port": int(port),
                            "fwmark": 0 if fwmark == "off" else int(fwmark, 0)}
            peers[name] = {}
        elif len(fields) == 9:
            name, pub, psk, endpoint, ips, handshake, rx, tx, keepalive = fields
            peers.setdefault(name, {})[pub] = PeerState(
                pub, None if endpoint == "(none)" else endpoint, () if ips == "(none)" else tuple(ips.split(",")),
                int(handshake), int(rx), int(tx), 0 if keepalive == "off" else int(keepalive), psk != "(none)")
    if rc != 0 and not ifaces:
        raise HostError(f"`wg show all dump` failed there (exit {rc}): is WireGuard installed, and may this user "
                        "run it (root, or sudo without a password)?")
    states = {n: InterfaceState(name=n, backend="remote dump", peers=peers.get(n, {}), **v)  # type: ignore[arg-type]
              for n, v in ifaces.items()}
    configs = {}
    for name, lines in conf_lines.items():
        try:
            names = Document.parse("\n".join(lines) + "\n").names
        except ConfError:
            names = {}
        configs[name] = ConfigView(names=names)
    return states, configs


class DumpSession:
    def __init__(self, spec: HostSpec, opts: SshOptions) -> None:
        sudo = "" if remote_user(spec, opts) == "root" else "sudo -n "
        self.channel = Channel([*base_argv(spec, opts), "--", spec.destination, LOOP.format(sudo=sudo)], raw=True)
        self._lock = threading.Lock()

    def poll(self, timeout: float) -> tuple[dict[str, InterfaceState], dict[str, ConfigView]]:
        with self._lock:
            return parse(self.channel.exchange(timeout, END))

    def close(self) -> None:
        self.channel.close()
