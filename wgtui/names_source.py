"""Provides peer names for an interface, read from its wg-quick file (and a peers file), reloaded on change."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path

from wgtui.conf import Document, read_peers_file

EMPTY: Mapping[str, str] = {}


class ConfigNames:
    """Callable: ifname -> {public key: name}. Returns the same mapping object while the files are unchanged,
    so that the monitor can tell "no name changed" with one identity test."""

    def __init__(self, config_dir: Path) -> None:
        self.config_dir = config_dir
        self._cache: dict[str, tuple[tuple[object, ...], Mapping[str, str]]] = {}

    def _stamp(self, path: Path) -> tuple[object, ...]:
        try:
            st = path.stat()
        except OSError:
            return (None,)
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def __call__(self, ifname: str) -> Mapping[str, str]:
        conf = self.config_dir / f"{ifname}.conf"
        peers_file = self.config_dir / "peers"
        stamp = (self._stamp(conf), self._stamp(peers_file))
        cached = self._cache.get(ifname)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        names = load_names(conf, peers_file)
        self._cache[ifname] = (stamp, names)
        return names


def load_names(conf: Path, peers_file: Path) -> Mapping[str, str]:
    """Names from the peers file first, overridden by names in the interface's own config comments.

    A file that is missing or unreadable (not root) gives no names; a file that does not parse raises ConfError,
    which the monitor logs while it keeps the names it had.
    """
    names: dict[str, str] = {}
    with contextlib.suppress(OSError):
        names.update(read_peers_file(peers_file))
    with contextlib.suppress(OSError):
        names.update(Document.read(conf).names)
    return names or EMPTY
