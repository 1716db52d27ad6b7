"""Provides the dashboard's per-interface bookkeeping besides the rows: marked peers and pending rotations."""

# Plain Python (no Textual), fed from the monitor's deltas: the work per poll is proportional to what changed.

from __future__ import annotations

from collections.abc import Iterable

from wgtui.drift import Drift
from wgtui.monitor import InterfaceDelta, PeerRow
from wgtui.ui.disabled_rows import is_disabled


def not_rotatable(row: PeerRow) -> str | None:
    """Why a peer cannot take part in a staged rotation (None: it can): marks are only for peers it can rotate."""
    if is_disabled(row):
        return "it is disabled (x enables it)"
    if row.file_only:
        return "it is only in the config file"
    if Drift.RUNTIME_ONLY in row.drift:
        return "it is only on the interface, not in the config file"
    meta = row.meta
    if meta is not None and meta.rotating_to:
        return "a rotation of it is pending already (R shows it)"
    if meta is not None and meta.replaces:
        return "it is the new key of a pending rotation"
    return None


class PeerMarks:
    """Per interface: the marked peers (rotated together by r) and the old keys of pending rotations."""

    def __init__(self) -> None:
        self._marks: dict[str, set[str]] = {}
        self._pending: dict[str, set[str]] = {}

    def marked(self, ifname: str) -> set[str]:
        """The marked public keys of `ifname`: the very set the table reads when drawing."""
        return self._marks.setdefault(ifname, set())

    def pending(self, ifname: str) -> set[str]:
        """Old keys of the rotations pending on `ifname`, as the file's comments say."""
        return self._pending.setdefault(ifname, set())

    def forget(self, ifname: str) -> None:
        self._marks.pop(ifname, None)
        self._pending.pop(ifname, None)

    def track(self, delta: InterfaceDelta) -> tuple[tuple[str, str], ...]:
        """Follow one delta; the (old key, new key) of pending rotations whose new key has handshaken."""
        pending = self.pending(delta.name)
        marks = self._marks.get(delta.name)
        if delta.reset:
            pending.clear()
        for key in delta.removed:
            pending.discard(key)
            if marks:
                marks.discard(key)
        handshaken = []
        for key, row in delta.upserts.items():
            meta = row.meta
            if meta is not None and meta.rotating_to:
                pending.add(key)
            else:
                pending.discard(key)
            if meta is not None and meta.replaces and row.peer.latest_handshake > 0:
                handshaken.append((meta.replaces, key))
            if marks and key in marks and not_rotatable(row):
                marks.discard(key)  # its rotation started (or it left the file): the mark did its job
        return tuple(handshaken)

    def toggle(self, ifname: str, row: PeerRow) -> str | None:
        """Mark or unmark; why it cannot be marked, if it cannot."""
        marks = self.marked(ifname)
        if row.key in marks:
            marks.discard(row.key)
            return None
        why = not_rotatable(row)
        if why is None:
            marks.add(row.key)
        return why

    def mark_all(self, ifname: str, rows: Iterable[PeerRow]) -> int:
        """Mark every row that can be rotated; how many could not."""
        marks = self.marked(ifname)
        skipped = 0
        for row in rows:
            if not_rotatable(row):
                skipped += 1
            else:
                marks.add(row.key)
        return skipped

    def clear(self, ifname: str) -> bool:
        """Unmark every peer of `ifname`; whether there was any."""
        marks = self._marks.get(ifname)
        had = bool(marks)
        if marks:
            marks.clear()
        return had
