"""Provides the kernel WireGuard backend: reads over a raw generic netlink socket, writes through pyroute2."""

from __future__ import annotations

import errno
import os
import socket
import struct
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from wgtui import paths
from wgtui.backends.base import BackendError, InterfaceGone, NotPermitted, NoWireGuard
from wgtui.backends.nlcalls import peer_calls
from wgtui.backends.nldecode import (
    NLM_F_DUMP_INTR,
    NLM_F_MULTI,
    NLMSG_DONE,
    NLMSG_ERROR,
    NLMSG_HDR,
    NLMSG_MIN_TYPE,
    WG_CMD_GET_DEVICE,
    DumpDecoder,
    MalformedDump,
    find_preshared_key,
    find_private_key,
    split_messages,
)
from wgtui.model import InterfaceState, PeerUpdate

NETLINK_ROUTE = 0
NETLINK_GENERIC = 16
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
WG_GENL_NAME = b"wireguard"
WG_GENL_VERSION = 1
WGDEVICE_A_IFNAME = 2
RTM_NEWLINK = 16
RTM_GETLINK = 18
IFLA_IFNAME = 3
IFLA_LINKINFO = 18
IFLA_INFO_KIND = 1
IFLA_EXT_MASK = 29
RTEXT_FILTER_SKIP_STATS = 1 << 3
IFF_UP = 0x1

DUMP_ATTEMPTS = 5
"""A dump is retried this often when peers change under it (NLM_F_DUMP_INTR) before giving up for this poll."""
TIMEOUT = paths.BACKEND_TIMEOUT
RECV_BUFFER = 1 << 18
NEEDS_ADMIN = "{verb} WireGuard state needs CAP_NET_ADMIN: run wgtui as root (`sudo wgtui`)."

_IFINFOMSG = struct.Struct("=BxHiII")
_NLA = struct.Struct("=HH")
_ERRNO = struct.Struct("=i")


def _attr(kind: int, payload: bytes) -> bytes:
    data = _NLA.pack(4 + len(payload), kind) + payload
    return data + bytes(-len(data) % 4)


def _walk(buf: bytes, start: int, end: int) -> Iterator[tuple[int, bytes]]:
    while start + 4 <= end:
        length, kind = _NLA.unpack_from(buf, start)
        if length < 4:
            return
        yield kind & 0x3FFF, buf[start + 4 : start + length]
        start += (length + 3) & ~3


class _KernelError(Exception):
    """A netlink error reply, carrying the positive errno."""

    def __init__(self, code: int) -> None:
        super().__init__(code, os.strerror(code))
        self.code = code


class _NetlinkSocket:
    """One raw netlink socket that sends a request and collects the reply messages that belong to it."""

    def __init__(self, protocol: int) -> None:
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, protocol)
        self._sock.settimeout(TIMEOUT)
        self._sock.bind((0, 0))
        self._seq = 0
        self._buffer = bytearray(RECV_BUFFER)

    def close(self) -> None:
        self._sock.close()

    def request(self, mtype: int, flags: int, payload: bytes) -> tuple[list[bytes], bool]:
        """(reply messages, interrupted): data messages up to NLMSG_DONE, or up to the single reply/ACK."""
        self._seq = (self._seq + 1) & 0xFFFFFFFF
        seq = self._seq
        self._sock.send(NLMSG_HDR.pack(NLMSG_HDR.size + len(payload), mtype, flags, seq, 0) + payload)
        replies: list[bytes] = []
        interrupted = False
        while True:
            size, _, msg_flags, _ = self._sock.recvmsg_into([self._buffer])
            if msg_flags & socket.MSG_TRUNC:
                raise BackendError("A netlink reply did not fit the receive buffer.")
            for msg in split_messages(bytes(memoryview(self._buffer)[:size])):  # one copy, not two
                _, rtype, rflags, rseq, _ = NLMSG_HDR.unpack_from(msg)
                if rseq != seq:
                    continue  # left over from a request that was abandoned half-way
                interrupted |= bool(rflags & NLM_F_DUMP_INTR)
                if rtype in (NLMSG_ERROR, NLMSG_DONE):
                    code = _ERRNO.unpack_from(msg, NLMSG_HDR.size)[0] if len(msg) >= 20 else 0
                    if code < 0:
                        raise _KernelError(-code)
                    return replies, interrupted
                if rtype >= NLMSG_MIN_TYPE:
                    replies.append(msg)
                    if not rflags & NLM_F_MULTI and not flags & NLM_F_ACK:
                        return replies, interrupted


def _dump_request(ifname: str) -> bytes:
    return bytes((WG_CMD_GET_DEVICE, WG_GENL_VERSION, 0, 0)) + _attr(WGDEVICE_A_IFNAME, ifname.encode() + b"\0")


class NetlinkBackend:
    """The kernel module's state over generic netlink. Blocking: call it from a worker thread; one lock serialises
    callers. Sockets open on first use, in the network namespace of the thread that first uses them."""

    kind = "kernel"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._genl: _NetlinkSocket | None = None
        self._route: _NetlinkSocket | None = None
        self._family: int | None = None
        self._decoders: dict[str, DumpDecoder] = {}
        self._wg: Any = None

    # -- reading ---------------------------------------------------------------------------------------

    def interfaces(self) -> list[str]:
        with self._lock:
            try:
                msgs = self._route_request(NLM_F_REQUEST | NLM_F_DUMP, b"")
            except (OSError, _KernelError) as exc:
                raise BackendError(f"Listing network interfaces failed: {exc}.") from None
        # Without the module no link can be of kind wireguard, so this is [] then.
        return sorted(name for name, _, kind in map(_link_info, msgs) if kind == "wireguard")

    def read(self, ifname: str) -> InterfaceState:
        with self._lock:
            family = self._family_id()
            up = self._link_up(ifname)
            messages = self._dump(family, ifname)
            decoder = self._decoders.setdefault(ifname, DumpDecoder())
            try:
                return decoder.decode(messages, ifname, up=up)
            except MalformedDump:
                self._decoders.pop(ifname, None)
                raise

    def preshared_key(self, ifname: str, public_key: str) -> str | None:
        from wgtui import keys

        try:
            raw = keys.parse_key(public_key)
        except keys.KeyError_ as exc:
            raise BackendError(f"The peer key {public_key!r} is not valid: {exc}.") from None
        with self._lock:
            messages = self._dump(self._family_id(), ifname)
        psk = find_preshared_key(messages, raw)
        return keys.b64(psk) if psk else None

    def private_key(self, ifname: str) -> str | None:
        from wgtui import keys

        with self._lock:
            messages = self._dump(self._family_id(), ifname)
        private = find_private_key(messages)
        return keys.b64(private) if private else None

    def _genl_socket(self) -> _NetlinkSocket:
        if self._genl is None:
            self._genl = _NetlinkSocket(NETLINK_GENERIC)
        return self._genl

    def _family_id(self) -> int:
        """The wireguard family's id, asked of the controller once: the kernel assigns it when the module loads."""
        if self._family is not None:
            return self._family
        payload = bytes((CTRL_CMD_GETFAMILY, 1, 0, 0)) + _attr(CTRL_ATTR_FAMILY_NAME, WG_GENL_NAME + b"\0")
        try:
            replies, _ = self._genl_socket().request(GENL_ID_CTRL, NLM_F_REQUEST, payload)
        except _KernelError as exc:
            if exc.code == errno.ENOENT:
                raise NoWireGuard(
                    "The WireGuard kernel module is not loaded (no 'wireguard' netlink family): "
                    "load it with `modprobe wireguard`, or use a userspace WireGuard such as wireguard-go."
                ) from None
            raise BackendError(f"Looking up the WireGuard netlink family failed: {exc.args[1]}.") from None
        except OSError as exc:
            self._reset()
            raise BackendError(f"Talking to the kernel over netlink failed: {exc}.") from None
        for msg in replies:
            for kind, value in _walk(msg, 20, len(msg)):
                if kind == CTRL_ATTR_FAMILY_ID and len(value) >= 2:
                    self._family = struct.unpack_from("=H", value)[0]
                    return self._family
        raise BackendError("The kernel's netlink controller did not say which id the WireGuard family has.")

    def _dump(self, family: int, ifname: str) -> list[bytes]:
        request = _dump_request(ifname)
        for _ in range(DUMP_ATTEMPTS):
            try:
                messages, interrupted = self._genl_socket().request(
                    family, NLM_F_REQUEST | NLM_F_DUMP, request
                )
            except _KernelError as exc:
                if exc.code == errno.ENOENT:
                    self._family = None  # the module may have been reloaded under a new family id
                raise self._error(exc.code, ifname, "Reading") from None
            except OSError as exc:
                self._reset()
                raise BackendError(f"Reading {ifname} over netlink failed: {exc}.") from None
            if not interrupted:
                return messages
        raise BackendError(f"The peers of {ifname} kept changing while being read; reading again next time.")

    def _error(self, code: int, ifname: str, verb: str) -> BackendError:
        if code in (errno.ENODEV, errno.ENOENT):
            self._decoders.pop(ifname, None)
            return InterfaceGone(f"The interface {ifname} does not exist (any more).")
        if code in (errno.EPERM, errno.EACCES):
            return NotPermitted(NEEDS_ADMIN.format(verb=verb))
        if code == errno.EOPNOTSUPP:
            return BackendError(f"{ifname} is not a kernel WireGuard interface.")
        return BackendError(f"{verb} {ifname} failed: {os.strerror(code)}.")

    def _route_request(self, flags: int, payload: bytes) -> list[bytes]:
        if self._route is None:
            self._route = _NetlinkSocket(NETLINK_ROUTE)
        body = _IFINFOMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0) + payload
        body += _attr(IFLA_EXT_MASK, struct.pack("=I", RTEXT_FILTER_SKIP_STATS))
        try:
            return self._route.request(RTM_GETLINK, flags, body)[0]
        except OSError:
            self._reset()
            raise

    def _link_up(self, ifname: str) -> bool:
        try:
            msgs = self._route_request(NLM_F_REQUEST, _attr(IFLA_IFNAME, ifname.encode() + b"\0"))
        except _KernelError as exc:
            raise self._error(exc.code, ifname, "Reading") from None
        except OSError as exc:
            raise BackendError(f"Reading the link {ifname} failed: {exc}.") from None
        return any(_link_info(m)[1] for m in msgs)

    # -- writing ---------------------------------------------------------------------------------------

    def apply(self, ifname: str, updates: Sequence[PeerUpdate]) -> None:
        calls = [call for update in updates for call in peer_calls(update)]  # all valid before any is sent
        if not calls:
            return
        from pyroute2.netlink.exceptions import NetlinkError

        sent = 0
        with self._lock:
            # A pyroute2 WireGuard per change, closed after it: its synchronous API drives an event loop of its
            # own, which does not survive being used from another thread later (a staged rotation spans many).
            # Changes are rare; its set-up costs a few milliseconds.
            try:
                wg = self._wireguard()
                try:
                    for peer in calls:
                        wg.set(ifname, peer=peer)
                        sent += 1
                finally:
                    self._close_wireguard()
            except NetlinkError as exc:
                error = self._error(int(exc.code), ifname, "Changing")
            except (OSError, struct.error) as exc:
                error = BackendError(f"Changing {ifname} over netlink failed: {exc}.")
            else:
                return
        if sent:
            error = type(error)(f"{error} The changes sent before this one are already in effect.")
        raise error

    def _wireguard(self) -> Any:
        if self._wg is None:
            from pyroute2 import WireGuard
            from pyroute2.netlink.exceptions import NetlinkError

            try:
                self._wg = WireGuard()
            except NetlinkError as exc:
                if exc.code == errno.ENOENT:
                    raise NoWireGuard("The WireGuard kernel module is not loaded: `modprobe wireguard`.") from None
                raise
        return self._wg

    def _close_wireguard(self) -> None:
        if self._wg is not None:
            wg, self._wg = self._wg, None
            wg.close()

    # -- lifetime --------------------------------------------------------------------------------------

    def _reset(self) -> None:
        """Drops the reading sockets after an I/O error; the next call opens fresh ones."""
        for sock in (self._genl, self._route):
            if sock is not None:
                sock.close()
        self._genl = self._route = None
        self._family = None

    def close(self) -> None:
        with self._lock:
            self._reset()
            self._close_wireguard()
            self._decoders.clear()


def _link_info(msg: bytes) -> tuple[str, bool, str]:
    """(name, IFF_UP, link kind) of one RTM_NEWLINK message."""
    if NLMSG_HDR.unpack_from(msg)[1] != RTM_NEWLINK:
        return "", False, ""
    flags = _IFINFOMSG.unpack_from(msg, NLMSG_HDR.size)[3]
    name = kind = ""
    for atype, value in _walk(msg, NLMSG_HDR.size + _IFINFOMSG.size, len(msg)):
        if atype == IFLA_IFNAME:
            name = value.split(b"\0", 1)[0].decode(errors="replace")
        elif atype == IFLA_LINKINFO:
            for itype, ivalue in _walk(value, 0, len(value)):
                if itype == IFLA_INFO_KIND:
                    kind = ivalue.split(b"\0", 1)[0].decode(errors="replace")
    return name, bool(flags & IFF_UP), kind
