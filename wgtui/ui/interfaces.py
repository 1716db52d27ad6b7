"""Provides the dashboard's bookkeeping per interface: rows, summaries, the file's view, marks and key policies."""

# Plain Python (no Textual), fed from the monitor's deltas and the config views of the same poll: the work per poll is
# proportional to what changed (plus the disabled peers, a handful).

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from wgtui.config_source import ConfigView
from wgtui.monitor import InterfaceSummary, PeerRow, Update
from wgtui.ui.disabled_rows import DisabledRows
from wgtui.ui.marks import PeerMarks
from wgtui.ui.peer_rows import Change, PeerRows


@dataclass
class Applied:
    """What one update did, for the screen to act on."""

    changes: dict[str, list[Change]] = field(default_factory=dict)
    """Per interface, what changed in its rows (the current interface's go to the table)."""
    handshaken: list[tuple[str, tuple[tuple[str, str], ...]]] = field(default_factory=list)
    """(interface, (old key, new key) pairs) of pending rotations whose new key has handshaken."""
    waiting: dict[str, dict[str, tuple[str, float]]] = field(default_factory=dict)
    """Per interface whose pending rotations changed: new key -> (old key, started)."""


class InterfaceBook:
    """Every interface the monitor reports, with its PeerRows model, its summary, the latest reading of its file and
    the marks; `new_model` makes the model of an interface seen for the first time."""

    def __init__(self, new_model: Callable[[str], PeerRows]) -> None:
        self.new_model = new_model
        self.models: dict[str, PeerRows] = {}
        self.summaries: dict[str, InterfaceSummary] = {}
        self.configs: dict[str, ConfigView] = {}
        self.marks = PeerMarks()
        """Per interface: the marked peers (space, m; rotated together by r) and the pending rotations."""
        self.policies: dict[str, float] = {}
        """Per interface: seconds after which a key is overdue (--max-key-age, else its wgtui.json; 0: none)."""
        self._disabled = DisabledRows()

    def apply(self, update: Update, configs: Mapping[str, ConfigView] | None = None) -> Applied:
        applied = Applied()
        seen = set()
        for delta in update.interfaces:
            name = delta.name
            seen.add(name)
            model = self.models.get(name)
            if model is None:
                model = self.models[name] = self.new_model(name)
            before = frozenset(self.marks.pending(name))
            handshaken = self.marks.track(delta)
            if handshaken:
                applied.handshaken.append((name, handshaken))
            changes = [model.apply(delta)]
            pending = self.marks.pending(name)
            if pending != before:
                applied.waiting[name] = self._waiting(model, pending)
            self.summaries[name] = delta.summary
            view = configs.get(name) if configs is not None else None
            if view is not None:
                self.configs[name] = view
            else:
                view = self.configs.get(name)
            if view is not None or not delta.summary.state.up:
                # A down interface shows no rows at all (the monitor dropped its own), disabled ones neither.
                rows = self._disabled.of(name, view) if view is not None and delta.summary.state.up else {}
                change = model.set_disabled(rows)
                if change is not None:
                    changes.append(change)
            applied.changes[name] = changes
        for gone in set(self.models) - seen:
            self.forget(gone)
        return applied

    @staticmethod
    def _waiting(model: PeerRows, pending: set[str]) -> dict[str, tuple[str, float]]:
        waiting = {}
        for key in pending:
            row = model.rows.get(key)
            meta = row.meta if row is not None else None
            if meta is not None and meta.rotating_to:
                waiting[meta.rotating_to] = (key, float(meta.rotation_started or 0))
        return waiting

    def forget(self, ifname: str) -> None:
        self.models.pop(ifname, None)
        self.summaries.pop(ifname, None)
        self.configs.pop(ifname, None)
        self.marks.forget(ifname)
        self._disabled.forget(ifname)

    def row(self, ifname: str | None, key: str | None) -> PeerRow | None:
        model = self.models.get(ifname) if ifname else None
        return model.rows.get(key) if (model is not None and key) else None

    def counterpart(self, ifname: str | None, row: PeerRow) -> PeerRow | None:
        """The other row of the rotation `row` takes part in: the new key's for an old key, and the other way."""
        meta = row.meta
        return self.row(ifname, (meta.rotating_to or meta.replaces) if meta is not None else None)

    def has_file(self, ifname: str | None) -> bool | None:
        """Whether the interface's config file could be read as of the latest poll (None: not known yet)."""
        view = self.configs.get(ifname) if ifname else None
        if view is None:
            return None
        return view.peers is not None or view.error is not None

    def file_error(self, ifname: str | None) -> str | None:
        view = self.configs.get(ifname) if ifname else None
        return view.error if view is not None else None
