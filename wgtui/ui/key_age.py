"""Provides what the dashboard says about a peer's key: its age, whether it is overdue, and pending rotations."""

# Plain Python (no Textual): the table, the detail pane and the filter all read a row's PeerMeta through here, so
# that "overdue" means the same thing wherever it is shown.

from __future__ import annotations

import datetime as dt
from enum import Enum

from wgtui.compat import UTC
from wgtui.durations import short_age
from wgtui.keys import short_key
from wgtui.monitor import PeerRow

OVERDUE = "overdue"
"""The filter word that shows only peers whose key is overdue."""
OVERDUE_GLYPH = "!"
ROTATING_GLYPH = "↻"
UNKNOWN = "–"


class KeyState(Enum):
    PLAIN = "plain"
    OVERDUE = "overdue"
    """Older than the policy (--max-key-age, else max_key_age in wgtui.json)."""
    ROTATING = "rotating"
    """The old key of a pending rotation, or its new key."""


def key_state(row: PeerRow, now: float, max_age: float) -> KeyState:
    meta = row.meta
    if meta is None:
        return KeyState.PLAIN
    if meta.rotating_to or meta.replaces:
        return KeyState.ROTATING
    if max_age > 0 and meta.key_created is not None and now - meta.key_created > max_age:
        return KeyState.OVERDUE
    return KeyState.PLAIN


def is_overdue(row: PeerRow, now: float, max_age: float) -> bool:
    """Only keys whose age the file records: a key of unknown age is shown as unknown, not guessed overdue (the
    command line's --older-than counts those as old: rotate them with `wgtui peer rotate IF --older-than AGE`)."""
    return key_state(row, now, max_age) is KeyState.OVERDUE


def key_age_cell(row: PeerRow, now: float, max_age: float) -> str:
    """`3d`, `! 14w` (overdue), `↻ 3m` (a rotation pending for 3 minutes), `↻ new` (its new key), `–` (unknown)."""
    meta = row.meta
    if meta is None:
        return UNKNOWN
    if meta.rotating_to:
        return f"{ROTATING_GLYPH} {short_age(now - meta.rotation_started)}"
    if meta.replaces:
        return f"{ROTATING_GLYPH} new"
    if meta.key_created is None:
        return UNKNOWN
    age = short_age(now - meta.key_created)
    return f"{OVERDUE_GLYPH} {age}" if is_overdue(row, now, max_age) else age


def ago(seconds: float) -> str:
    """`120 days ago`, `1 day ago`, `5h ago`."""
    days = int(max(0.0, seconds) // 86400)
    if days >= 2:
        return f"{days} days ago"
    if days == 1:
        return "1 day ago"
    return f"{short_age(seconds)} ago"


def utc(when: float, *, date_only: bool = False) -> str:
    """The file's times are UTC, and so is what the admin compares them with (`# wgtui: since=…Z`)."""
    stamp = dt.datetime.fromtimestamp(int(when), UTC)
    return stamp.strftime("%Y-%m-%d") if date_only else stamp.strftime("%Y-%m-%d %H:%M UTC")


def key_facts(row: PeerRow, now: float, max_age: float, other: PeerRow | None = None) -> list[tuple[str, str, str]]:
    """(label, value, style) for what the file's metadata says about the key; `other` is the rotation's other row
    (the new key's for an old one, the old key's for a new one) when the table has it. Empty when it says nothing."""
    meta = row.meta
    if meta is None:
        return []
    out: list[tuple[str, str, str]] = []
    if meta.key_created is not None:
        overdue = is_overdue(row, now, max_age)
        value = f"{utc(meta.key_created, date_only=True)} ({ago(now - meta.key_created)})"
        if overdue:
            value += f" {OVERDUE_GLYPH} overdue: the policy is {short_age(max_age)}"
        out.append(("key created", value, "bold red" if overdue else ""))
    if meta.rotating_to:
        value = (f"{utc(meta.rotation_started)} ({short_age(now - meta.rotation_started)}), new key "
                 f"{short_key(meta.rotating_to)}")
        if other is not None:
            value += ", no handshake yet" if other.peer.latest_handshake <= 0 else ", it has handshaken"
        out.append((f"{ROTATING_GLYPH} rotation pending since", value, "cyan"))
    if meta.replaces:
        who = f"{other.name} ({short_key(meta.replaces)})" if other is not None and other.name else short_key(
            meta.replaces)
        out.append((f"{ROTATING_GLYPH} new key", f"replaces {who} once it has handshaken (pending since "
                                                 f"{utc(meta.rotation_started)})", "cyan"))
    return out
