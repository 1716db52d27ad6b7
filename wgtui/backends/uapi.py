"""Provides the userspace backend: WireGuard state over the UAPI sockets of wireguard-go and friends."""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import struct
from collections.abc import Sequence

from wgtui import keys, paths
from wgtui.backends.base import BackendError, InterfaceGone, NotPermitted
from wgtui.backends.uapi_text import (
    IFNAME_RE,
    PeerCache,
    build_set,
    errno_text,
    find_preshared_key,
    find_private_key,
    new_cache,
    parse_get,
    split_answer,
)
from wgtui.model import InterfaceState, PeerUpdate

__all__ = ["DEFAULT_SOCKET_DIR", "UapiBackend", "build_set", "find_preshared_key", "new_cache", "parse_get",
           "split_answer"]

DEFAULT_SOCKET_DIR = str(paths.UAPI_DIR)
TIMEOUT = paths.BACKEND_TIMEOUT
"""Seconds a daemon may take to answer; a hung daemon must not hang the poll loop."""

_SIOCGIFFLAGS = 0x8913
_IFF_UP = 0x1


def link_up(ifname: str) -> bool:
    """IFF_UP of the link in the calling thread's network namespace; True when it cannot be told."""
    # An ioctl rather than /sys/class/net: sysfs shows the namespace it was mounted in, not ours.
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            answer = fcntl.ioctl(sock.fileno(), _SIOCGIFFLAGS, struct.pack("16s24x", ifname.encode()))
    except OSError:
        return True
    return bool(struct.unpack_from("16sH", answer)[1] & _IFF_UP)


def _connect_error(ifname: str, path: str, exc: OSError, doing: str) -> BackendError:
    if isinstance(exc, FileNotFoundError):
        return InterfaceGone(f"Interface {ifname} does not exist (no socket {path}).")
    if isinstance(exc, ConnectionRefusedError):
        return InterfaceGone(f"Interface {ifname} is gone: nothing answers on {path} any more.")
    if isinstance(exc, PermissionError):
        return NotPermitted(f"{doing} {ifname} needs root: its control socket {path} is only open to root. "
                            "Run `sudo wgtui`.")
    return BackendError(f"Could not connect to {path} ({exc.strerror or exc}).")


class UapiBackend:
    """Reads and changes userspace WireGuard interfaces through `<socket dir>/<ifname>.sock`."""

    kind: str = "userspace"

    def __init__(self, socket_dir: str | os.PathLike[str] = DEFAULT_SOCKET_DIR, timeout: float = TIMEOUT) -> None:
        self.socket_dir = os.fspath(socket_dir)
        self.timeout = timeout
        self._caches: dict[str, PeerCache] = {}

    def _path(self, ifname: str) -> str:
        if not IFNAME_RE.fullmatch(ifname):
            raise InterfaceGone(f"{ifname!r} is not a valid interface name.")
        return os.path.join(self.socket_dir, f"{ifname}.sock")

    def _connect(self, ifname: str, doing: str) -> socket.socket:
        path = self._path(ifname)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(path)
        except OSError as exc:
            sock.close()
            raise _connect_error(ifname, path, exc, doing) from None
        return sock

    def _transact(self, ifname: str, request: bytes, doing: str) -> bytes:
        sock = self._connect(ifname, doing)
        try:
            # The daemon stops reading at the first line it rejects, but it has still written its errno.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(request)
            blocks: list[bytes] = []
            tail = b""
            while tail != b"\n\n":
                block = sock.recv(1 << 18)
                if not block:
                    break
                blocks.append(block)
                tail = (tail + block)[-2:]
        except TimeoutError:
            raise BackendError(f"The WireGuard daemon of {ifname} did not answer within {self.timeout:g} s.") from None
        except OSError as exc:
            raise BackendError(f"Talking to the WireGuard daemon of {ifname} failed ({exc}).") from None
        finally:
            sock.close()
        if tail != b"\n\n":
            raise InterfaceGone(f"The WireGuard daemon of {ifname} closed the connection without answering.")
        return b"".join(blocks)

    def interfaces(self) -> list[str]:
        """Sockets whose interface exists in this network namespace and whose daemon answers, sorted.

        The socket directory is shared by every namespace on the host, hence the namespace check. A socket
        that refuses us for lack of privilege is listed, so that reading it can say why.
        """
        try:
            entries = os.listdir(self.socket_dir)
        except FileNotFoundError:
            return []
        except PermissionError:
            raise NotPermitted(f"Listing {self.socket_dir} needs root. Run `sudo wgtui`.") from None
        found: list[str] = []
        for entry in sorted(entries):
            name = entry[:-5]
            if not entry.endswith(".sock") or not IFNAME_RE.fullmatch(name):
                continue
            try:
                socket.if_nametoindex(name)
            except OSError:
                continue
            try:
                self._connect(name, "Reading").close()
            except NotPermitted:
                pass
            except BackendError:
                continue
            found.append(name)
        return found

    def read(self, ifname: str) -> InterfaceState:
        try:
            data = self._transact(ifname, b"get=1\n\n", "Reading")
        except InterfaceGone:
            self._caches.pop(ifname, None)
            raise
        cache = self._caches.setdefault(ifname, new_cache())
        return parse_get(data, ifname, cache, up=link_up(ifname))

    def cache_stats(self, ifname: str) -> tuple[int, int]:
        """(parsed, reused) peer counts of the latest read of the interface."""
        cache = self._caches.get(ifname)
        return (cache.parsed, cache.reused) if cache else (0, 0)

    def apply(self, ifname: str, updates: Sequence[PeerUpdate]) -> None:
        """All updates in one `set=1` transaction.

        wireguard-go applies lines as it reads them and stops at the first it rejects, so on an error the
        updates before it may already be in effect; every value is validated here first to make that rare.
        """
        request = build_set(updates)
        if not updates:
            return
        _, code = split_answer(self._transact(ifname, request, "Changing"))
        if code != 0:
            raise BackendError(f"The WireGuard daemon of {ifname} refused the change ({errno_text(code)}); "
                               "updates before the refused one may already be in effect.")

    def preshared_key(self, ifname: str, public_key: str) -> str | None:
        try:
            keys.parse_key(public_key)
        except keys.KeyError_ as exc:
            raise BackendError(f"Not a public key: {exc}.") from None
        body, code = split_answer(self._transact(ifname, b"get=1\n\n", "Reading"))
        if code != 0:
            raise BackendError(f"The WireGuard daemon of {ifname} could not report its state ({errno_text(code)}).")
        return find_preshared_key(body, public_key)

    def private_key(self, ifname: str) -> str | None:
        body, code = split_answer(self._transact(ifname, b"get=1\n\n", "Reading"))
        if code != 0:
            raise BackendError(f"The WireGuard daemon of {ifname} could not report its state ({errno_text(code)}).")
        return find_private_key(body)

    def close(self) -> None:
        self._caches.clear()
