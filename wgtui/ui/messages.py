"""Provides the messages screens post to the app: changes asked for, rotations seen handshaking, the view chosen."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

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

    def __init__(self, kind: ChangeKind, ifname: str, keys: tuple[str, ...] = (), name: str = "",
                 host: str | None = None) -> None:
        super().__init__()
        self.kind = kind
        self.ifname = ifname
        self.keys = keys
        """The peers it is about: the highlighted one, or the marked ones."""
        self.name = name
        self.host = host
        """The remote host whose dashboard asked (None: this machine's)."""


class Flows(Protocol):
    """What a change key leads to: the flows of this machine's interfaces (ui/flows.py: a local Planner and the
    transaction) or of one remote host (ui/remote_flows.py: its agent plans and applies). Both open the same
    dialogs; the app only routes each ChangeRequested to the flows of the dashboard that asked."""

    def add(self, ifname: str) -> None: ...
    def edit(self, ifname: str, key: str) -> None: ...
    def remove(self, ifname: str, key: str) -> None: ...
    def rotate(self, ifname: str, keys_: Sequence[str]) -> None: ...
    def sync(self, ifname: str) -> None: ...
    def client_config(self, ifname: str, key: str, name: str) -> None: ...
    def pending_rotations(self, ifname: str) -> None: ...
    def disable(self, ifname: str, key: str) -> None: ...
    def enable(self, ifname: str, key: str) -> None: ...
    def undo(self, ifname: str) -> None: ...
    def init(self, ifname: str) -> None: ...


def run_change(flows: Flows, message: ChangeRequested) -> None:
    """Start the flow a change key asked for."""
    ifname, keys, kind = message.ifname, message.keys, message.kind
    if kind is ChangeKind.ADD:
        flows.add(ifname)
    elif kind is ChangeKind.EDIT:
        flows.edit(ifname, keys[0])
    elif kind is ChangeKind.REMOVE:
        flows.remove(ifname, keys[0])
    elif kind is ChangeKind.ROTATE:
        flows.rotate(ifname, keys)
    elif kind is ChangeKind.SYNC:
        flows.sync(ifname)
    elif kind is ChangeKind.CLIENT_CONFIG:
        flows.client_config(ifname, keys[0], message.name)
    elif kind is ChangeKind.PENDING_ROTATIONS:
        flows.pending_rotations(ifname)
    elif kind is ChangeKind.DISABLE:
        flows.disable(ifname, keys[0])
    elif kind is ChangeKind.ENABLE:
        flows.enable(ifname, keys[0])
    elif kind is ChangeKind.UNDO:
        flows.undo(ifname)
    elif kind is ChangeKind.INIT:
        flows.init(ifname)


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


class HostChosen(Message):
    """Open a remote host's dashboard (from the fleet view), optionally with one peer selected (a search result)."""

    def __init__(self, host: str, ifname: str | None = None, key: str | None = None) -> None:
        super().__init__()
        self.host = host
        self.ifname = ifname
        self.key = key


class LeaveHost(Message):
    """Back from a host's dashboard to the fleet view."""
