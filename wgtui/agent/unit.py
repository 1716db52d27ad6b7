"""Provides the systemd unit of the resident agent (the text of packaging/wgtui-agent.service) and its installation."""

from __future__ import annotations

import os
from pathlib import Path

UNIT_NAME = "wgtui-agent.service"
UNIT_DIR = Path("/etc/systemd/system")

# Why each setting: Type=notify with a watchdog (the agent says READY=1 after its first pass and WATCHDOG=1 every
# pass, so a hung agent is restarted); root (the wireguard-go sockets and /etc/wireguard are root's), but with
# CAP_NET_ADMIN as its only capability (netlink to the kernel module); the whole file system read-only except the
# WireGuard config directory (IF.conf, its lock, journal and audit log), the userspace sockets (`-`: absent on a
# kernel-only host) and its own state directory (/var/lib/wgtui, 0700). Metrics for node_exporter's textfile
# collector need a drop-in (README): `--textfile DIR` and ReadWritePaths=DIR.
UNIT = """\
[Unit]
Description=wgtui agent: WireGuard peer expiry, quotas, usage accounting, metrics and webhooks
Documentation=man:wg(8)
After=network-online.target
Wants=network-online.target

[Service]
Type=notify
NotifyAccess=main
ExecStart=/usr/local/bin/wgtui agent
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=5s
WatchdogSec=30
TimeoutStopSec=90
CapabilityBoundingSet=CAP_NET_ADMIN
AmbientCapabilities=CAP_NET_ADMIN
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=/etc/wireguard -/run/wireguard
StateDirectory=wgtui
StateDirectoryMode=0700
PrivateTmp=yes
PrivateDevices=yes
ProtectHome=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX AF_NETLINK AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
UMask=0077

[Install]
WantedBy=multi-user.target
"""


def install_unit(directory: Path = UNIT_DIR) -> Path:
    """Write the unit into `directory` (0644; temp-then-rename); the path written."""
    target = directory / UNIT_NAME
    tmp = directory / f".{UNIT_NAME}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(UNIT)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
