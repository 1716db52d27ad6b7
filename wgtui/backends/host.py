"""Provides the host backend: kernel interfaces through netlink and userspace ones through UAPI, as one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from wgtui.backends.base import Backend, BackendError, NotPermitted
from wgtui.model import InterfaceState, PeerUpdate

UAPI_DIR = Path("/var/run/wireguard")


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

    def read(self, ifname: str) -> InterfaceState:
        return self._for(ifname).read(ifname)

    def apply(self, ifname: str, updates: Sequence[PeerUpdate]) -> None:
        self._for(ifname).apply(ifname, updates)

    def preshared_key(self, ifname: str, public_key: str) -> str | None:
        return self._for(ifname).preshared_key(ifname, public_key)

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
        return [], ("No WireGuard interface found on this host (no kernel interface of kind wireguard and no "
                    f"userspace socket in {UAPI_DIR}).")
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
