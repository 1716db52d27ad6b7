"""Provides sd_notify for the resident agent: READY, WATCHDOG and STOPPING datagrams to systemd, no dependency."""

# systemd passes $NOTIFY_SOCKET to a Type=notify service: a unix datagram socket, a path or (leading '@') an
# abstract name. A failed send is never fatal: without systemd (or with a broken socket) the agent works the same.

from __future__ import annotations

import os
import socket


def notify_socket() -> str | None:
    """The address to notify, as the socket module takes it, or None when not run by systemd with Type=notify."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address or address[0] not in "/@":
        return None
    return "\0" + address[1:] if address[0] == "@" else address


def notify(state: str) -> bool:
    """Send one state line (`READY=1`, `WATCHDOG=1`, `STOPPING=1`, `STATUS=…`); whether it was sent."""
    address = notify_socket()
    if address is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            # Never blocks: a listener whose queue is full (a hung systemd, a test) must not stop the agent.
            sock.sendto(state.encode(), socket.MSG_DONTWAIT, address)
    except OSError:
        return False
    return True


def watchdog_interval() -> float | None:
    """Half the watchdog timeout systemd set for this process (WATCHDOG_USEC, for WATCHDOG_PID = us), in seconds:
    the longest the agent may go without saying WATCHDOG=1. None when there is no watchdog."""
    pid = os.environ.get("WATCHDOG_PID")
    if pid and pid.isdigit() and int(pid) != os.getpid():
        return None
    usec = os.environ.get("WATCHDOG_USEC", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    return int(usec) / 2e6
