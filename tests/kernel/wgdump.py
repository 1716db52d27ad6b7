"""Provides helpers for the in-VM kernel tests: shell commands, `wg show dump` parsing and per-thread namespaces."""

from __future__ import annotations

import ctypes
import os
import platform
import struct
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from wgtui.model import InterfaceState

T = TypeVar("T")
CLONE_NEWNET = 0x40000000
SYS_SETRESUID_X86_64 = 117


def sh(script: str, *, netns: str | None = None) -> str:
    """Runs a shell script (as one process: forks are slow in a VM without KVM) and returns its stdout."""
    argv = ["sh", "-ec", script]
    if netns:
        argv = ["ip", "netns", "exec", netns, *argv]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if done.returncode:
        raise AssertionError(f"{script!r} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


@dataclass
class DumpPeer:
    public_key: str
    preshared_key: str | None
    endpoint: str | None
    allowed_ips: tuple[str, ...]
    latest_handshake: int
    rx_bytes: int
    tx_bytes: int
    persistent_keepalive: int


@dataclass
class Dump:
    public_key: str | None
    listen_port: int
    fwmark: int
    peers: dict[str, DumpPeer] = field(default_factory=dict)


def wg_dump(ifname: str, *, netns: str | None = None) -> Dump:
    """`wg show IF dump`, parsed with the column meanings of wg(8)."""
    lines = sh(f"wg show {ifname} dump", netns=netns).splitlines()
    _, public, port, mark = lines[0].split("\t")
    dump = Dump(None if public == "(none)" else public, int(port), 0 if mark == "off" else int(mark, 0))
    for line in lines[1:]:
        key, psk, endpoint, ips, handshake, rx, tx, keepalive = line.split("\t")
        dump.peers[key] = DumpPeer(
            public_key=key,
            preshared_key=None if psk == "(none)" else psk,
            endpoint=None if endpoint == "(none)" else endpoint,
            allowed_ips=() if ips == "(none)" else tuple(ips.split(",")),
            latest_handshake=int(handshake),
            rx_bytes=int(rx),
            tx_bytes=int(tx),
            persistent_keepalive=0 if keepalive == "off" else int(keepalive),
        )
    return dump


def differences(state: InterfaceState, dump: Dump) -> list[str]:
    """Every field where the backend's state and `wg show dump` disagree; empty when they are the same."""
    out = []
    for name in ("public_key", "listen_port", "fwmark"):
        if getattr(state, name) != getattr(dump, name):
            out.append(f"interface {name}: {getattr(state, name)!r} != {getattr(dump, name)!r}")
    if list(state.peers) != list(dump.peers):
        out.append(f"peer keys/order differ: {len(state.peers)} vs {len(dump.peers)} peers")
    for key, want in dump.peers.items():
        got = state.peers.get(key)
        if got is None:
            continue
        if got.has_preshared_key != (want.preshared_key is not None):
            out.append(f"{key} has_preshared_key: {got.has_preshared_key}")
        for name in ("endpoint", "allowed_ips", "latest_handshake", "rx_bytes", "tx_bytes", "persistent_keepalive"):
            if getattr(got, name) != getattr(want, name):
                out.append(f"{key} {name}: {getattr(got, name)!r} != {getattr(want, name)!r}")
    return out


def in_thread(fn: Callable[[], T], *, netns: str | None = None, uid: int | None = None) -> T:
    """Runs fn in a fresh thread that first enters a named network namespace and/or drops to `uid`.

    Both change only that thread (setns on a thread; setresuid as a raw syscall, because glibc's wrapper changes
    every thread), so the test process stays root in the initial namespace. Sockets fn opens keep the namespace
    and credentials they were opened with.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    result: list[T] = []
    errors: list[BaseException] = []

    def body() -> None:
        try:
            if netns is not None:
                fd = os.open(f"/run/netns/{netns}", os.O_RDONLY)
                try:
                    if libc.setns(fd, CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), f"setns into {netns} failed")
                finally:
                    os.close(fd)
            if uid is not None:
                assert platform.machine() == "x86_64", "the raw setresuid syscall number is x86-64's"
                if libc.syscall(SYS_SETRESUID_X86_64, uid, uid, uid) != 0:
                    raise OSError(ctypes.get_errno(), "setresuid failed")
            result.append(fn())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


def entry_keys(messages: list[bytes]) -> list[bytes]:
    """The public key of every raw peer entry of a dump, in order: a key that repeats is a split peer."""
    out = []
    for msg in messages:
        off = 20
        while off < len(msg):
            length, kind = struct.unpack_from("=HH", msg, off)
            if kind & 0x3FFF == 8:  # WGDEVICE_A_PEERS
                entry = off + 4
                while entry < off + length:
                    entry_len = struct.unpack_from("=H", msg, entry)[0]
                    attr = entry + 4  # the kernel writes WGPEER_A_PUBLIC_KEY first
                    assert struct.unpack_from("=HH", msg, attr) == (36, 1)
                    out.append(msg[attr + 4 : attr + 36])
                    entry += (entry_len + 3) & ~3
            off += (length + 3) & ~3
    return out
