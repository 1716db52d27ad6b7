"""Provides the host backend: kernel interfaces through netlink and userspace ones through UAPI, as one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from wgtui import paths
from wgtui.backends.base import Backend, BackendError, InterfaceGone, NotPermitted, NoWireGuard
from wgtui.model import InterfaceState, PeerUpdate

UAPI_DIR = paths.UAPI_DIR
T = TypeVar("T")


class HostBackend:
    """Routes each interface to the implementation that runs it, the way `wg` does: a UAPI socket wins."""

    kind = "host"

    def __init__(self, uapi_dir: Path = UAPI_DIR) -> None:
        from wgtui.backends.netlink import NetlinkBackend
        from wgtui.backends.uapi import UapiBackend

        self.uapi_dir = uapi_dir
        self.kernel: Backend = NetlinkBackend()
        self.userspace: Backend = UapiBackend(uapi_dir)

    def _for(self, ifname: str) -> Backend:
        return self.userspace if (self.uapi_dir / f"{ifname}.sock").exists() else self.kernel

    def interfaces(self) -> list[str]:
        found: set[str] = set()
        errors: list[BackendError] = []
        for backend in (self.kernel, self.userspace):
            try:
                found.update(backend.interfaces())
            except NotPermitted as exc:
                errors.append(exc)
        if not found and errors:
            raise errors[0]
        return sorted(found)

    def _missing(self, ifname: str) -> InterfaceGone:
        """Neither a userspace socket nor the kernel module: the interface does not exist (saying "load the module"
        would send an admin of wireguard-go the wrong way)."""
        try:
            known = self.interfaces()
        except BackendError:
            known = []
        here = f" WireGuard interfaces here: {', '.join(known)}." if known else ""
        return InterfaceGone(f"There is no WireGuard interface called {ifname}: no userspace socket "
                             f"{self.uapi_dir / (ifname + '.sock')} (wireguard-go, boringtun) and no kernel "
                             f"WireGuard module to ask.{here}")

    def _call(self, ifname: str, fn: Callable[[Backend], T]) -> T:
        backend = self._for(ifname)
        try:
            return fn(backend)
        except NoWireGuard:
            if backend is self.kernel:
                raise self._missing(ifname) from None
            raise

    def read(self, ifname: str) -> InterfaceState:
        return self._call(ifname, lambda b: b.read(ifname))

    def apply(self, ifname: str, updates: Sequence[PeerUpdate]) -> None:
        self._call(ifname, lambda b: b.apply(ifname, updates))

    def preshared_key(self, ifname: str, public_key: str) -> str | None:
        return self._call(ifname, lambda b: b.preshared_key(ifname, public_key))

    def private_key(self, ifname: str) -> str | None:
        return self._call(ifname, lambda b: b.private_key(ifname))

    def close(self) -> None:
        self.kernel.close()
        self.userspace.close()


def readable_interfaces(backend: Backend) -> tuple[list[str], str | None]:
    """The interfaces that can be read now, and when there are none, a sentence saying why."""
    try:
        names = backend.interfaces()
    except BackendError as exc:
        return [], str(exc)
    if not names:
        elsewhere = sorted(p.stem for p in UAPI_DIR.glob("*.sock")) if UAPI_DIR.is_dir() else []
        sockets = (f"the userspace sockets in {UAPI_DIR} ({', '.join(elsewhere)}) belong to interfaces of other "
                   "network namespaces" if elsewhere else f"no userspace socket in {UAPI_DIR}")
        return [], f"No WireGuard interface found here (no kernel interface of kind wireguard, and {sockets})."
    readable: list[str] = []
    reason: str | None = None
    for name in names:
        try:
            backend.read(name)
        except BackendError as exc:
            reason = reason or str(exc)
        else:
            readable.append(name)
    return readable, (None if readable else reason)
