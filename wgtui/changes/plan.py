"""Provides the Plan: one change worked out in full (new file text, masked diff, runtime operations, warnings)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path

from wgtui import keys
from wgtui.client_config import ClientConfig
from wgtui.conf import unified_diff
from wgtui.model import KEEP, PeerUpdate

_SECRET_LINE = re.compile(r"^(?P<head>\s*(?:PrivateKey|PresharedKey)\s*=\s*)(?P<value>[^\s#]+)", re.I | re.M)


class ChangeRefused(Exception):
    """The change cannot be planned as asked; nothing was changed. `field` names the form field, if one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NothingToDo(ChangeRefused):
    """What was asked is already so: not an error for a script that runs the same command twice (exit 0)."""


def mask_secrets(text: str) -> str:
    """Private and preshared keys replaced by a short fingerprint: a diff on screen or in a log shows that a
    key changed without showing the key."""
    def hide(m: re.Match[str]) -> str:
        return f"{m['head']}(hidden #{sha256(m['value'].encode()).hexdigest()[:8]})"

    return _SECRET_LINE.sub(hide, text)


@dataclass(frozen=True, slots=True)
class PeerBasis:
    """What a plan assumed about one live peer: re-checked under the lock before anything is changed."""

    allowed_ips: frozenset[str]
    has_preshared_key: bool
    persistent_keepalive: int


@dataclass(frozen=True)
class Plan:
    """One change, fully worked out before anything is touched."""

    action: str
    """"add", "remove", "edit", "rotate", "psk" or "sync"."""
    ifname: str
    title: str
    config_path: Path
    before: str
    """The file's text when the plan was made ("" when it does not exist)."""
    before_fingerprint: str
    after: str | None
    """The new file text; None when the file is not to be changed."""
    runtime: tuple[PeerUpdate, ...] = ()
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    file_only: bool = False
    public_key: str = ""
    """The peer concerned (for add and rotate: the new key)."""
    old_public_key: str = ""
    """For rotations: the key being replaced."""
    peer_name: str = ""
    client: ClientConfig | None = field(default=None, repr=False)
    client_path: Path | None = None
    """Where the client config with the generated private key is written, before the runtime is touched;
    None when there is none to write (the client brought its own key, or it goes to standard output)."""
    more_clients: tuple[tuple[Path, ClientConfig], ...] = field(default=(), repr=False)
    """Further client configs written the same way (a rotation of several peers at once)."""
    client_updates: tuple[tuple[Path, str | None], ...] = field(default=(), repr=False)
    """Saved client configs kept in step with the change: new text, or None to delete the file."""
    basis: Mapping[str, PeerBasis | None] = field(default_factory=dict, repr=False)
    """Each peer the runtime operations name, as the interface had it when the plan was made (None: absent)."""
    owners: Mapping[str, str | None] = field(default_factory=dict, repr=False)
    """Each prefix the plan gives a peer, and which peer had it on the interface then (None: nobody)."""

    @property
    def changes_file(self) -> bool:
        return self.after is not None and self.after != self.before

    @property
    def diff(self) -> str:
        """Unified diff of the config file with secrets masked; empty when the file does not change."""
        if not self.changes_file:
            return ""
        name = str(self.config_path)
        return unified_diff(mask_secrets(self.before), mask_secrets(self.after or ""), name, name)

    @property
    def writes_client(self) -> bool:
        return self.client_path is not None and self.client is not None and self.client.has_private_key

    def diff_stat(self) -> tuple[int, int]:
        added = sum(1 for ln in self.diff.splitlines() if ln.startswith("+") and not ln.startswith("+++"))
        removed = sum(1 for ln in self.diff.splitlines() if ln.startswith("-") and not ln.startswith("---"))
        return added, removed


def describe(update: PeerUpdate) -> str:
    """One runtime operation as a line of the preview: what `wg set` would be told (never a key's secret)."""
    who = keys.short_key(update.public_key)
    if update.remove:
        return f"remove peer {who}"
    parts = []
    if update.allowed_ips is not KEEP:
        parts.append(f"allowed-ips {','.join(update.allowed_ips) or '(none)'}")
    if update.preshared_key is not KEEP:
        parts.append("preshared-key (hidden)" if update.preshared_key else "preshared-key removed")
    if update.endpoint is not KEEP:
        parts.append(f"endpoint {update.endpoint}")
    if update.persistent_keepalive is not KEEP:
        parts.append(f"persistent-keepalive {update.persistent_keepalive or 'off'}")
    return f"peer {who} " + (" ".join(parts) if parts else "(added)")
