"""Provides drift detection: where the running interface and its config file disagree, peer by peer."""

from __future__ import annotations

from collections.abc import Mapping

from wgtui.compat import StrEnum
from wgtui.conf import Document, PeerView
from wgtui.ipalloc import network
from wgtui.model import PeerState


class Drift(StrEnum):
    RUNTIME_ONLY = "only on the interface"
    FILE_ONLY = "only in the file"
    ALLOWED_IPS = "AllowedIPs differ"
    KEEPALIVE = "keepalive differs"
    PSK = "preshared key differs"


DRIFT_GLYPH = {Drift.RUNTIME_ONLY: "+", Drift.FILE_ONLY: "✕", Drift.ALLOWED_IPS: "≠", Drift.KEEPALIVE: "≠",
               Drift.PSK: "≠"}
"""The mark in front of a peer in the table: + live only, ✕ file only, ≠ fields differ."""


def _normalised(ips: tuple[str, ...]) -> frozenset[str]:
    out = set()
    for ip in ips:
        try:
            out.add(str(network(ip)))
        except ValueError:
            out.add(ip)  # an unparsable value in the file differs from anything the kernel reports
    return frozenset(out)


def peer_drift(runtime: PeerState | None, file: PeerView | None) -> tuple[Drift, ...]:
    """What differs for one peer. Endpoints are ignored: they roam, and a server's file should not hold them.

    Only the presence of a preshared key is compared: the model never holds runtime PSK values.
    """
    if runtime is None and file is None:
        return ()
    if runtime is None:
        return (Drift.FILE_ONLY,)
    if file is None:
        return (Drift.RUNTIME_ONLY,)
    out = []
    # The same strings need no parsing (the common case, and 10,000 peers of ipaddress cost a second).
    if (set(file.allowed_ips) != set(runtime.allowed_ips)
            and _normalised(file.allowed_ips) != _normalised(runtime.allowed_ips)):
        out.append(Drift.ALLOWED_IPS)
    if (file.persistent_keepalive or 0) != runtime.persistent_keepalive:
        out.append(Drift.KEEPALIVE)
    if bool(file.preshared_key) != runtime.has_preshared_key:
        out.append(Drift.PSK)
    return tuple(out)


def file_peers(doc: Document) -> dict[str, PeerView]:
    return {p.public_key: p for p in doc.peers if p.public_key}


def interface_drift(runtime: Mapping[str, PeerState], doc: Document) -> dict[str, tuple[Drift, ...]]:
    """Every peer that differs, by public key (peers that agree are left out)."""
    in_file = file_peers(doc)
    out = {}
    for key in runtime.keys() | in_file.keys():
        drift = peer_drift(runtime.get(key), in_file.get(key))
        if drift:
            out[key] = drift
    return out


def describe(drift: tuple[Drift, ...]) -> str:
    return ", ".join(d.value for d in drift)
