"""Provides the messages the dashboard posts to the app: changes asked for, and rotations seen handshaking."""

from __future__ import annotations

from textual.message import Message

from wgtui.compat import StrEnum


class ChangeKind(StrEnum):
    ADD = "add"
    EDIT = "edit"
    REMOVE = "remove"
    ROTATE = "rotate"
    """One peer, or every marked peer of the interface in one staged session."""
    SYNC = "sync"
    CLIENT_CONFIG = "client-config"
    PENDING_ROTATIONS = "pending-rotations"


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
