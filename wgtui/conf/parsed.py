"""Provides the document last parsed from each file, found again by its bytes: the dashboard's monitor and its
planners read the same file."""

# After every change the monitor reads the file again (for names and drift) and the next change's planner reads it
# under the lock: at 10,000 peers each parse and its views cost ~0.1 s and ~10^5 objects that the cyclic collector
# then walks. Documents are immutable (every edit makes a new one), so one parse can serve both. Only the latest
# version of a file is kept: an older one is garbage as soon as its readers let it go.

from __future__ import annotations

import threading
from pathlib import Path

from .edit import Document

_PATHS = 16
"""Files remembered (one document each): more interfaces than a host usually has."""

_lock = threading.Lock()
_last: dict[str, tuple[bytes, Document]] = {}


def parsed(path: Path, data: bytes, *, keep: bool = True) -> Document:
    """`Document.from_bytes(data)` of the file at `path`, or the one made last from the same bytes of it (a file that
    does not parse raises ParseError each time). The document is kept if `keep`, or if one of this file was kept
    before: the dashboard's monitor reads with keep=False, so that a session that never plans a change never holds a
    document (~10 MB at 10,000 peers, which the allocator does not give back), while once a change was planned each
    new version the monitor reads is the one the next change finds."""
    name = str(path)
    with _lock:
        known = _last.get(name)
    if known is not None and known[0] == data:
        return known[1]
    doc = Document.from_bytes(data)
    if keep or known is not None:
        with _lock:
            _last.pop(name, None)
            if len(_last) >= _PATHS:
                del _last[next(iter(_last))]
            _last[name] = (data, doc)
    return doc
