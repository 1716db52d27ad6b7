"""Provides the dashboard's keys in one table, and the help rows and palette entries made from the live bindings."""

# One source for keys: each entry below becomes a Binding whose tooltip is the sentence help and the command palette
# show, so that a key cannot be bound without being explained, nor explained without being bound. Help and palette
# read the bindings the screen really has (a keymap override included), never this table.

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.screen import Screen

from wgtui.compat import StrEnum


class Group(StrEnum):
    MOVE = "Moving"
    FLEET = "The fleet"
    VIEW = "Looking"
    CHANGE = "Changes"
    MARKS = "Marks (rotating several peers at once)"
    APP = "wgtui"


@dataclass(frozen=True)
class Key:
    keys: str
    action: str
    word: str
    """The footer's word."""
    help: str
    """What it does, in help and in the command palette."""
    id: str
    group: Group
    footer: int = 0
    """Where it ranks for a place in the footer (1 first; 0: never there). The footer shows as many as fit."""
    changes: bool = False
    """Changes an interface or a file, or shows a private key: hidden with --read-only (the key then says so)."""

    def binding(self) -> Binding:
        return Binding(self.keys, self.action, self.word, show=self.footer != 0, tooltip=self.help, id=self.id)


_ROTATE = ("rotate the highlighted peer's key: staged, now, or only the preshared key; with marks, the marked peers "
           "in one staged session")
_PENDING = "pending rotations of this interface: watch, finish or cancel them"
_DISABLE = ("disable the highlighted peer (off the interface, kept in the file as #[disabled] lines) or enable a "
            "disabled one")
_INIT = "write IF.conf from the running interface when it has none (wgtui init)"

DASHBOARD: tuple[Key, ...] = (
    Key("enter", "open_detail", "Details", "all details of the highlighted peer", "dashboard.open_detail",
        Group.VIEW),
    Key("slash", "filter", "Filter", "filter by name, key, endpoint or IP; `overdue`: keys older than the policy",
        "dashboard.filter", Group.VIEW, footer=6),
    Key("escape", "clear_filter", "Clear filter", "clear the filter", "dashboard.clear_filter", Group.VIEW),
    Key("s", "sort_next", "Sort", "sort by the next column shown (the header's ▲ ▼ says the order)",
        "dashboard.sort", Group.VIEW, footer=7),
    Key("S", "sort_reverse", "Reverse", "reverse the order", "dashboard.sort_reverse", Group.VIEW),
    Key("o,f6", "choose_sort", "Sort by…", "choose the column to sort by, and the order, from a list",
        "dashboard.choose_sort", Group.VIEW, footer=11),
    Key("C,f2", "choose_columns", "Columns", "choose the columns shown (remembered, like the sort)",
        "dashboard.choose_columns", Group.VIEW, footer=12),
    Key("i", "next_interface(1)", "Next IF", "next interface", "dashboard.next_interface", Group.VIEW, footer=15),
    Key("I", "next_interface(-1)", "Previous IF", "previous interface", "dashboard.previous_interface",
        Group.VIEW),
    Key("k", "toggle_keys", "Keys", "full public keys (private keys are never shown)", "dashboard.toggle_keys",
        Group.VIEW, footer=16),
    Key("p", "toggle_pane", "Pane", "hide or show the detail pane", "dashboard.toggle_pane", Group.VIEW),
    Key("ctrl+l", "redraw", "Redraw", "redraw the whole screen: text another program wrote over it goes",
        "dashboard.redraw", Group.VIEW),
    Key("a", "add_peer", "Add", "add a peer (form, then the diff preview)", "dashboard.add_peer", Group.CHANGE,
        footer=1, changes=True),
    Key("e", "edit_peer", "Edit", "edit the highlighted peer: name, allowed IPs, keepalive, endpoint, expiry, quota",
        "dashboard.edit_peer", Group.CHANGE, footer=2, changes=True),
    Key("d", "remove_peer", "Remove", "remove the highlighted peer (confirm, then the diff preview)",
        "dashboard.remove_peer", Group.CHANGE, footer=3, changes=True),
    # Two bindings of r, for the footer's word: with marks it rotates the marked peers.
    Key("r", "rotate_peer(False)", "Rotate", _ROTATE, "dashboard.rotate_peer", Group.CHANGE, footer=4,
        changes=True),
    Key("r", "rotate_peer(True)", "Rotate marked", _ROTATE, "dashboard.rotate_marked", Group.CHANGE, footer=4,
        changes=True),
    # Two bindings of R: in the footer while something is pending, working (it says so) otherwise.
    Key("R", "pending_rotations(True)", "Pending", _PENDING, "dashboard.pending_rotations", Group.CHANGE, footer=2,
        changes=True),
    Key("R", "pending_rotations(False)", "Pending rotations", _PENDING, "dashboard.pending_rotations_quiet",
        Group.CHANGE, changes=True),
    # Two bindings of x: the footer says which of the two the highlighted peer gets.
    Key("x", "toggle_disabled(False)", "Disable", _DISABLE, "dashboard.disable_peer", Group.CHANGE, footer=8,
        changes=True),
    Key("x", "toggle_disabled(True)", "Enable", _DISABLE, "dashboard.enable_peer", Group.CHANGE, footer=8,
        changes=True),
    Key("z", "undo", "Undo", "undo the last change wgtui made to this interface (diff preview first)",
        "dashboard.undo", Group.CHANGE, footer=9, changes=True),
    # Two bindings of w: first in the footer on an interface without a config file, quiet elsewhere.
    Key("w", "write_config(True)", "Write IF.conf", _INIT, "dashboard.write_config", Group.CHANGE, footer=1,
        changes=True),
    Key("w", "write_config(False)", "Write IF.conf", _INIT, "dashboard.write_config_quiet", Group.CHANGE,
        changes=True),
    Key("c", "client_config", "Client config", "show again the client config (and QR code) wgtui saved for the peer",
        "dashboard.client_config", Group.CHANGE, footer=13, changes=True),
    Key("y", "sync", "Sync", "sync: resolve drift (+ ✕ ≠ marks) peer by peer, saying what each side has",
        "dashboard.sync", Group.CHANGE, footer=14, changes=True),
    Key("space", "toggle_mark", "Mark", "mark or unmark the highlighted peer", "dashboard.toggle_mark", Group.MARKS,
        changes=True),
    Key("m", "mark_shown", "Mark shown", "mark every peer the filter shows", "dashboard.mark_shown", Group.MARKS,
        changes=True),
    Key("u", "clear_marks", "Unmark", "unmark every peer of this interface", "dashboard.clear_marks", Group.MARKS,
        footer=5, changes=True),
)

DETAIL: tuple[Key, ...] = (
    Key("escape,enter,q", "dismiss", "Close", "in the details: back to the table, on the same peer", "detail.close",
        Group.VIEW, footer=1),
    Key("h", "next_span", "History", "in the details: the traffic history shown, the live ten minutes or a day, a "
        "week, a month from the usage ledger (kept by `wgtui agent`)", "detail.span", Group.VIEW, footer=2),
)
"""The peer detail screen's own keys."""

TABLE: tuple[Key, ...] = (
    Key("up", "cursor(-1)", "Up", "move the cursor up", "table.up", Group.MOVE),
    Key("down", "cursor(1)", "Down", "move the cursor down", "table.down", Group.MOVE),
    Key("pageup", "page(-1)", "Page up", "a page up", "table.page_up", Group.MOVE),
    Key("pagedown", "page(1)", "Page down", "a page down", "table.page_down", Group.MOVE),
    Key("home,g", "edge(0)", "First", "first peer", "table.first", Group.MOVE),
    Key("end,G", "edge(1)", "Last", "last peer", "table.last", Group.MOVE),
)

APP: tuple[Key, ...] = (
    Key("q", "quit", "Quit", "quit (a staged rotation stays pending, finished by any later wgtui)", "app.quit",
        Group.APP, footer=-1),
    Key("question_mark", "help", "Help", "this help: every key, made from the bindings themselves", "app.help",
        Group.APP, footer=-1),
)

FLEET: tuple[Key, ...] = (
    Key("enter", "open_host", "Open", "open the highlighted host's dashboard (escape comes back here)",
        "fleet.open_host", Group.FLEET, footer=1),
    Key("slash", "search", "Find peer", "find a peer on every host: by name, key prefix or address (one inside a "
        "peer's prefix too); enter opens its host with the peer selected", "fleet.search", Group.FLEET, footer=2),
    Key("ctrl+l", "redraw", "Redraw", "redraw the whole screen: text another program wrote over it goes",
        "fleet.redraw", Group.VIEW),
)
"""The fleet view's own keys (the host list moves like the peer table: TABLE)."""

FLEET_SEARCH: tuple[Key, ...] = (
    Key("enter", "open_found", "Open", "in the search: open the highlighted peer's host, the peer selected",
        "fleet_search.open", Group.FLEET, footer=1),
    Key("escape", "close", "Back", "in the search: back to the fleet view", "fleet_search.close", Group.FLEET,
        footer=2),
    Key("up", "move(-1)", "Up", "the previous peer found", "fleet_search.up", Group.MOVE),
    Key("down", "move(1)", "Down", "the next peer found", "fleet_search.down", Group.MOVE),
    Key("pageup", "move(-10)", "Page up", "ten peers up", "fleet_search.page_up", Group.MOVE),
    Key("pagedown", "move(10)", "Page down", "ten peers down", "fleet_search.page_down", Group.MOVE),
)

HOST: tuple[Key, ...] = (
    Key("escape", "back", "Fleet",
        "in a host's dashboard: clear the filter; without one, back to the fleet view (which kept updating)",
        "host.back", Group.VIEW, footer=-1),
)
"""A remote host's dashboard: the local dashboard's keys, escape going back to the fleet view."""

TEXTUAL_ACTIONS = {
    "command_palette": "command palette: every action by name",
    "help_quit": "says which key quits (q)",
    "focus_next": "move the focus to the next field or list",
    "focus_previous": "move the focus to the previous field or list",
}
"""Help for the keys Textual binds by itself (their bindings carry no sentence of wgtui's)."""

_ALL = (*DASHBOARD, *DETAIL, *TABLE, *APP, *FLEET, *FLEET_SEARCH, *HOST)
GROUP_OF: dict[str, Group] = {k.id: k.group for k in _ALL}
FOOTER_RANK: dict[str, int] = {k.id: k.footer for k in _ALL if k.footer}
"""Binding id -> its rank for a place in the footer; -1: always there."""


def bindings(keys: Iterable[Key]) -> list[BindingType]:
    return [k.binding() for k in keys]


def read_only_bindings(keys: Iterable[Key]) -> list[BindingType]:
    """For each key of a change, a quiet binding that says `--read-only` instead of silently doing nothing; the
    screen enables these exactly when it disables the change bindings."""
    out: list[BindingType] = []
    seen: set[str] = set()
    for key in keys:
        if key.changes and key.keys not in seen:
            seen.add(key.keys)
            out.append(Binding(key.keys, f"read_only({key.word!r})", key.word, show=False, tooltip=key.help,
                               id=f"{key.id}.read_only"))
    return out


def markdown_table(keys: Iterable[Key] = (*TABLE, *DASHBOARD, *DETAIL, *APP)) -> str:
    """The README's key table, from the same entries (`python -c 'from wgtui.ui.keymap import markdown_table;
    print(markdown_table())'`)."""
    rows: dict[str, list[str]] = {}
    for key in keys:
        shown = " / ".join(_display(k) for k in key.keys.split(","))
        rows.setdefault(key.help, [])
        if shown not in rows[key.help]:
            rows[key.help].append(shown)
    lines = ["| key | action |", "|---|---|"]
    lines += [f"| {' · '.join(shown)} | {text} |" for text, shown in rows.items()]
    return "\n".join(lines)


def fleet_markdown_table() -> str:
    """The README's table of the fleet view's keys (`python -c 'from wgtui.ui.keymap import
    fleet_markdown_table; print(fleet_markdown_table())'`)."""
    return markdown_table((*TABLE[:2], *FLEET, *FLEET_SEARCH[:2], *HOST, *APP))


_DISPLAY = {"slash": "/", "question_mark": "?", "space": "space", "pageup": "PgUp", "pagedown": "PgDn",
            "up": "↑", "down": "↓", "home": "Home", "end": "End", "escape": "escape", "enter": "enter"}


def _display(key: str) -> str:
    if key.startswith("ctrl+"):
        return f"ctrl+{key[5:]}"
    return _DISPLAY.get(key, key.upper() if key.startswith("f") and key[1:].isdigit() else key)


# -- what help and the palette read: the live bindings ----------------------------------------------------------


@dataclass(frozen=True)
class HelpRow:
    keys: str
    """As the footer shows them: `r`, `↑`, `^l`, `o F6`."""
    text: str
    group: Group | None
    available: bool
    """False: the key does nothing here and now (--read-only, or nothing for it to act on): help still lists it."""
    action: str = ""
    namespace: DOMNode | None = None


def live_bindings(screen: Screen[object]) -> list[tuple[DOMNode, Binding]]:
    """Every binding a key press on `screen` can reach, in the order Textual tries them (the focused widget, its
    ancestors, the app). Textual keeps this chain private; it is what its own dispatch and footer walk."""
    return [(node, binding) for node, bound in screen._modal_binding_chain for _key, binding in bound]


def help_rows(screen: Screen[object], checker: Mapping[str, bool] | None = None) -> list[HelpRow]:
    """One row per thing a key does, keys that do the same thing merged (r's two bindings are one row), the first
    binding of a key winning as in Textual's dispatch. `checker` maps an action to whether it runs now (tests)."""
    app = screen.app
    rows: dict[tuple[Group | None, str], HelpRow] = {}
    taken: set[str] = set()
    for node, binding in live_bindings(screen):
        if binding.action.startswith("read_only("):
            continue  # the --read-only stand-ins of change keys: the change rows say what the key is
        text = binding.tooltip or TEXTUAL_ACTIONS.get(binding.action.rsplit(".", 1)[-1], "") or binding.description
        group = GROUP_OF.get(binding.id or "")
        if binding.key in taken and (group, text) not in rows:
            continue  # shadowed: a binding nearer the focus has this key (twins of one key share their sentence)
        state = checker.get(binding.action) if checker is not None else app._check_action_state(binding.action, node)
        available = bool(state)
        display = app.get_key_display(binding)
        row = rows.get((group, text))
        if row is None:
            rows[(group, text)] = HelpRow(display, text, group, available, binding.action, node)
        else:
            keys = row.keys if display in row.keys.split(" ") else f"{row.keys} {display}"
            rows[(group, text)] = HelpRow(keys, text, group, row.available or available, row.action, row.namespace)
        taken.add(binding.key)
    order = {g: i for i, g in enumerate(Group)}
    return sorted(rows.values(), key=lambda r: order.get(r.group, len(order)) if r.group else len(order))
