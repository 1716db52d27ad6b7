"""Provides the Plan: one change worked out in full (new file text, masked diff, runtime operations, warnings)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from hashlib import sha256
from pathlib import Path

from wgtui import keys
from wgtui.client_config import ClientConfig
from wgtui.conf import unified_diff
from wgtui.conf.diff import Mask
from wgtui.model import KEEP, PeerUpdate

_SECRET_LINE = re.compile(
    r"^(?P<head>[^\S\n]*(?:#\[disabled\][ \t]*)?(?:PrivateKey|PresharedKey)\s*=\s*)(?P<value>[^\s#]+)", re.I | re.M)
"""A key line, also inside a disabled block (`#[disabled] PresharedKey = …`: still a secret). Its indent stops at
the line's end: a leading "any space" went on over every blank line below, from each of them again (quadratic: 10,000
blank lines took 7.7 s to mask); the key line's own `^` finds the same key, and the text masked is the same."""


class ChangeRefused(Exception):
    """The change cannot be planned as asked; nothing was changed. `field` names the form field, if one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NothingToDo(ChangeRefused):
    """What was asked is already so: not an error for a script that runs the same command twice (exit 0)."""


def _hide(m: re.Match[str]) -> str:
    return f"{m['head']}(hidden #{sha256(m['value'].encode()).hexdigest()[:8]})"


def mask_secrets(text: str) -> str:
    """Private and preshared keys replaced by a short fingerprint: a diff on screen or in a log shows that a
    key changed without showing the key."""
    return _SECRET_LINE.sub(_hide, text)


def _mask_line(line: str) -> str:
    """mask_secrets of one line: what it is in mask_secrets(text), unless `_spills(text)`."""
    return _SECRET_LINE.sub(_hide, line)


_KEY_LINE_ENDS = (re.compile(r"edkey[^\S\n]*(?:=[^\S\n]*)?\n"), re.compile(r"tekey[^\S\n]*(?:=[^\S\n]*)?\n"))
"""What ends every line that `_SPILLS` matches (presharedKEY, privateKEY), in the text in lower case: there only d, e,
k, t, y and the Kelvin sign K give d, e, k, t, y, the characters that _SPILLS's re.I takes for them. Two patterns
that start with a literal, which re searches for fast (an alternation it would try at every position)."""
_SPILLS = re.compile(r"\s*(?:#\[disabled\][ \t]*)?(?:PrivateKey|PresharedKey)[^\S\n]*(?:=[^\S\n]*)?\n", re.I)
_SPILLS_ANYWHERE = re.compile(
    r"^[^\S\n]*(?:#\[disabled\][ \t]*)?(?:PrivateKey|PresharedKey)[^\S\n]*(?:=[^\S\n]*)?\n", re.I | re.M)


def _spills(text: str) -> bool:
    """Whether mask_secrets(text) could take a secret's value from another line than its key's: a key line without
    a value (`PresharedKey =`), where the pattern's `\\s*` goes on into the next line. Line-by-line masking is the
    same as masking the text everywhere else."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a character whose lower case is longer (U+0130): positions differ, search slowly
        return _SPILLS_ANYWHERE.search(text) is not None
    # Candidates found by their end with a literal search (fast), then each candidate line tried whole.
    for pattern in _KEY_LINE_ENDS:
        for end in pattern.finditer(lowered):
            start = text.rfind("\n", 0, end.start()) + 1
            if _SPILLS.fullmatch(text, start, end.end()):
                return True
    return False


SECRETS = Mask(mask_secrets, _mask_line, _spills)
"""The masking of Plan.diff, for unified_diff."""


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

    @cached_property
    def diff(self) -> str:
        """Unified diff of the config file with secrets masked; empty when the file does not change.

        Worked out once per plan (the preview, the audit's line counts and --json all ask), over the lines that
        changed and their context only."""
        if not self.changes_file:
            return ""
        name = str(self.config_path)
        return unified_diff(self.before, self.after or "", name, name, mask=SECRETS)

    @property
    def writes_client(self) -> bool:
        return self.client_path is not None and self.client is not None and self.client.has_private_key

    def diff_stat(self) -> tuple[int, int]:
        lines = self.diff.splitlines()
        added = sum(1 for ln in lines if ln.startswith("+") and not ln.startswith("+++"))
        removed = sum(1 for ln in lines if ln.startswith("-") and not ln.startswith("---"))
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
