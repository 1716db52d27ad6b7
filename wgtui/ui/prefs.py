"""Provides the dashboard's remembered view (sort, order, hidden columns) in a small JSON file of the user's."""

# The user's own config directory ($XDG_CONFIG_HOME/wgtui/, else ~/.config/wgtui/), never CONFIG_DIR: this is how
# one admin likes to look at the table, not part of the WireGuard setup, and it must not land among the files wg-quick
# and wgtui's transactions own. Read like any input (an unknown value is dropped with a warning); written atomically.

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wgtui.store import StoreError, read_regular, write_atomic
from wgtui.ui.columns import ALWAYS_SHOWN, COLUMNS
from wgtui.ui.peer_rows import Sort

FILE = "dashboard.json"
VERSION = 1


@dataclass(frozen=True)
class ViewPrefs:
    sort: Sort = Sort.STATE
    reverse: bool = False
    hidden: frozenset[Sort] = frozenset()
    """Columns the user chose not to see (the name is always shown)."""

    @property
    def shown(self) -> frozenset[Sort] | None:
        """The columns to show, or None for all of them."""
        return frozenset(c.id for c in COLUMNS if c.id not in self.hidden) if self.hidden else None

    def to_json(self) -> dict[str, object]:
        return {"version": VERSION, "sort": str(self.sort), "reverse": self.reverse,
                "hidden": sorted(str(c) for c in self.hidden)}


def default_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path(env.get("HOME") or Path.home()) / ".config"
    return root / "wgtui" / FILE


def from_json(data: object) -> tuple[ViewPrefs, list[str]]:
    """The prefs, and what in `data` was not used (said to the user once, never fatal)."""
    problems: list[str] = []
    if not isinstance(data, dict):
        return ViewPrefs(), ["not a JSON object"]
    sort, reverse, hidden = Sort.STATE, False, set[Sort]()
    try:
        sort = Sort(data.get("sort", Sort.STATE))
    except ValueError:
        problems.append(f"unknown sort {data.get('sort')!r}")
    if isinstance(data.get("reverse", False), bool):
        reverse = bool(data.get("reverse", False))
    else:
        problems.append("reverse is not true or false")
    raw = data.get("hidden", [])
    for item in raw if isinstance(raw, list) else []:
        try:
            column = Sort(item)
        except ValueError:
            problems.append(f"unknown column {item!r}")
            continue
        if column in ALWAYS_SHOWN or column is Sort.STATE:
            continue
        hidden.add(column)
    if not isinstance(raw, list):
        problems.append("hidden is not a list")
    return ViewPrefs(sort, reverse, frozenset(hidden)), problems


def load(path: Path) -> tuple[ViewPrefs, str | None]:
    """The remembered prefs (defaults when there are none) and a sentence when the file could not all be used."""
    try:
        raw = read_regular(path, follow=True)
    except (StoreError, OSError) as exc:
        return ViewPrefs(), f"{path} was not read ({exc}): the default view is used."
    if raw is None:
        return ViewPrefs(), None
    try:
        prefs, problems = from_json(json.loads(raw))
    except ValueError as exc:
        return ViewPrefs(), f"{path} is not JSON ({exc}): the default view is used."
    return prefs, (f"{path}: {'; '.join(problems)} (ignored)." if problems else None)


def save(path: Path, prefs: ViewPrefs) -> None:
    """Blocking (fsync): call it from a thread worker. The directory is made 0700 if missing."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_atomic(path, (json.dumps(prefs.to_json(), indent=1) + "\n").encode(), 0o600)
