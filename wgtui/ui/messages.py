"""Provides the messages screens post to the app: changes asked for, rotations seen handshaking, the view chosen."""

from __future__ import annotations

from textual.message import Message

from wgtui.compat import StrEnum
from wgtui.ui.prefs import ViewPrefs


class ChangeKind(StrEnum):
    ADD = "add"
    EDIT = "edit"
    REMOVE = "remove"
    ROTATE = "rotate"
    """One peer, or every marked peer of the interface in one staged session."""
    SYNC = "sync"
    CLIENT_CONFIG = "client-config"
    PENDING_ROTATIONS = "pending-rotations"
    DISABLE = "disable"
    ENABLE = "enable"
    UNDO = "undo"
    INIT = "init"
    """Write IF.conf from the running interface (wgtui init)."""


class ChangeRequested(Message):
    """A key asked for a change; the app runs its flow (the screen never reaches for the app's flows)."""

    def __init__(self, kind: ChangeKind, ifname: str, keys: tuple[str, ...] = (), name: str = "") -> None:
        super().__init__()
        self.kind = kind
        self.ifname = ifname
        self.keys = keys
        """The peers it is about: the highlighted one, or the marked ones."""
        self.name = name


class RotationsHandshaken(Message):
    """New keys of pending rotations that handshook in the latest poll, as (old key, new key) pairs: whoever sees
    that first finishes the rotation, wherever it was started."""

    def __init__(self, ifname: str, pairs: tuple[tuple[str, str], ...]) -> None:
        super().__init__()
        self.ifname = ifname
        self.pairs = pairs


class RotationsWaiting(Message):
    """The pending rotations of an interface changed: new key -> (old key, started), for the fast handshake watch
    (empty: none waits any more)."""

    def __init__(self, ifname: str, waiting: dict[str, tuple[str, float]]) -> None:
        super().__init__()
        self.ifname = ifname
        self.waiting = waiting


class ViewChosen(Message):
    """The user chose a sort, an order or the columns: the app remembers it for the next run."""

    def __init__(self, prefs: ViewPrefs) -> None:
        super().__init__()
        self.prefs = prefs


class RedrawAsked(Message):
    """Ctrl+L: the whole terminal is to be written again, unchanged cells included (only the app owns the output)."""
