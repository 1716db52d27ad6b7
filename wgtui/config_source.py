"""Provides what the dashboard needs from an interface's config file (names, file peers), reloaded on change."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from wgtui.conf import ConfError, Document, PeerView, read_peers_file
from wgtui.conf.disabled import disabled_peers
from wgtui.conf.meta import KEY_CREATED, all_meta, key_created, parse_stamp, rotation_marks
from wgtui.conf.parsed import parsed
from wgtui.lifecycle.periods import Quota
from wgtui.lifecycle.policy import DISABLED, EXPIRES, QUOTA, disabled_meta, policy_of, read_reason


@dataclass(frozen=True, slots=True)
class PeerMeta:
    """What the file's wgtui comments say about a peer."""

    key_created: int | None = None
    """Unix seconds when its key was made (add, rotation); None when the file does not say."""
    rotating_to: str = ""
    """On a peer being rotated: the new key of its pending rotation."""
    rotation_started: int = 0
    replaces: str = ""
    """On the new key of a pending rotation: the old key it replaces once it has handshaken."""
    expires: int | None = None
    """Unix seconds from which the peer is expired (a bare date: its end in this host's zone); None: never."""
    expires_text: str = ""
    """The expiry as the file writes it (`2026-12-31`, `2026-12-31T18:00+01:00`): a bare date is shown as one."""
    quota: Quota | None = None
    disabled_reason: str | None = None
    """On a #[disabled] block: why (`expired`, `quota`, `manual`)."""


_Policy = tuple[int | None, str, Quota | None]
"""What one block's `expires=` and `quota=` come to: expiry instant, expiry as written, quota."""


def _policy(items: Mapping[str, str], seen: dict[tuple[str | None, str | None], _Policy]) -> _Policy:
    """The block's policy; `seen` remembers each pair of texts (thousands of peers share a handful of quotas)."""
    texts = (items.get(EXPIRES), items.get(QUOTA))
    found = seen.get(texts)
    if found is None:
        policy = policy_of(items)
        expiry = policy.expires
        found = seen[texts] = (expiry.timestamp() if expiry else None, expiry.format() if expiry else "", policy.quota)
    return found


def _with_policy(base: PeerMeta | None, policy: _Policy, reason: str | None = None) -> PeerMeta | None:
    """`base` with a policy; `base` itself when there is none."""
    expires, text, quota = policy
    if expires is None and quota is None and reason is None:
        return base
    b = base or PeerMeta()
    return PeerMeta(b.key_created, b.rotating_to, b.rotation_started, b.replaces, expires, text, quota, reason)


def peer_meta(doc: Document) -> dict[str, PeerMeta]:
    """Every peer's metadata (live blocks and #[disabled] ones), computed once per reading of the file."""
    meta = all_meta(doc)
    created = key_created(meta)
    out = {key: PeerMeta(key_created=when) for key, when in created.items()}
    for mark in rotation_marks(doc, meta).values():
        old = out.get(mark.old_key, PeerMeta())
        out[mark.old_key] = replace(old, rotating_to=mark.new_key, rotation_started=mark.started)
        new = out.get(mark.new_key, PeerMeta())
        out[mark.new_key] = replace(new, replaces=mark.old_key, rotation_started=mark.started)
    seen: dict[tuple[str | None, str | None], _Policy] = {}
    for key, items in meta.items():
        if EXPIRES in items or QUOTA in items:  # most blocks carry only key-created: nothing to parse
            found = _with_policy(out.get(key), _policy(items, seen))
            if found is not None:
                out[key] = found
    disabled = disabled_meta(doc)
    if disabled:
        live = {p.public_key for p in doc.peers}
        for key, items in disabled.items():
            if key not in live:  # a live block wins over a disabled one with the same key
                base = PeerMeta(key_created=parse_stamp(items.get(KEY_CREATED)))
                out[key] = _with_policy(base, _policy(items, seen), read_reason(items.get(DISABLED))) or base
    return out


@dataclass(frozen=True, eq=False)
class ConfigView:
    """One reading of the files. The same object is returned while they are unchanged, so the monitor can tell
    "nothing changed" with one identity test instead of comparing thousands of peers."""

    names: Mapping[str, str] = field(default_factory=dict)
    peers: Mapping[str, PeerView] | None = None
    """Peers of the file by public key; None when there is no readable file (then no drift can be judged)."""
    error: str | None = None
    """Why the file could not be used (not valid wg-quick, unreadable)."""
    meta: Mapping[str, PeerMeta] = field(default_factory=dict)
    """wgtui's comments per peer: key age, pending rotations."""
    disabled: Mapping[str, PeerView] = field(default_factory=dict)
    """Peers commented out with `#[disabled]` (PiVPN's way, and `wgtui peer disable`), by public key."""


EMPTY = ConfigView()


def _stamp(path: Path) -> tuple[object, ...]:
    try:
        st = path.stat()
    except OSError:
        return (None,)
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class ConfigSource:
    """Callable: ifname -> ConfigView for CONFIG_DIR/IF.conf and CONFIG_DIR/peers, re-read only when one of
    them changes on disk (two stat calls per poll)."""

    def __init__(self, config_dir: Path) -> None:
        self.config_dir = config_dir
        self._cache: dict[str, tuple[tuple[object, ...], ConfigView]] = {}

    def __call__(self, ifname: str) -> ConfigView:
        conf = self.config_dir / f"{ifname}.conf"
        peers_file = self.config_dir / "peers"
        stamp = (_stamp(conf), _stamp(peers_file))
        cached = self._cache.get(ifname)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        view = load(conf, peers_file)
        self._cache[ifname] = (stamp, view)
        return view

    def names(self, ifname: str) -> Mapping[str, str]:
        return self(ifname).names


def load(conf: Path, peers_file: Path) -> ConfigView:
    """Names from the peers file first, overridden by names in the interface's own config comments.

    A missing or unreadable file (not root) gives no names and no file peers; a file that does not parse is
    reported in `error` while the names of the peers file still apply.
    """
    names: dict[str, str] = {}
    with contextlib.suppress(OSError, ConfError):
        names.update(read_peers_file(peers_file))
    try:
        doc = parsed(conf, conf.read_bytes(), keep=False)  # kept only once a change was planned on it
    except OSError:
        return ConfigView(names=names) if names else EMPTY
    except ConfError as exc:
        return ConfigView(names=names, error=f"{conf}: {exc}")
    names.update(doc.names)
    disabled = {d.public_key: d.view for d in disabled_peers(doc) if d.public_key}
    for key, view in disabled.items():
        if view.name and key not in names:
            names[key] = view.name
    return ConfigView(names=names, peers={p.public_key: p for p in doc.peers if p.public_key}, meta=peer_meta(doc),
                      disabled=disabled)
