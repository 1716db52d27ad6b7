"""Provides the audit log: one JSON line per attempted change, recovery and interruption, never a secret in it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from wgtui.compat import UTC, StrEnum
from wgtui.ownfiles import append_line, audit_user
from wgtui.store import StoreError

AUDIT_LOG = "wgtui-audit.log"


class Outcome(StrEnum):
    """How an attempt ended; the audit log's `outcome` and the CLI's JSON `outcome`."""

    APPLIED = "applied"
    """Both halves done."""
    REFUSED = "refused"
    """Nothing was changed (a check failed before anything was touched)."""
    ROLLED_BACK = "rolled-back"
    """One half failed and the other was undone: nothing changed in the end."""
    ROLLBACK_FAILED = "rollback-failed"
    """One half failed and undoing the other failed too: the journal stays for `wgtui peer recover`."""
    INTERRUPTED = "interrupted"
    """A signal stopped wgtui before the change began."""
    RECOVERED_COMPLETED = "recovered-completed"
    RECOVERED_ROLLED_BACK = "recovered-rolled-back"
    RECOVERY_REFUSED = "recovery-refused"
    NOTHING = "nothing"
    """Nothing needed doing (no interrupted change, an empty plan)."""


def audit_path(config: Path) -> Path:
    return config.parent / AUDIT_LOG


def record(config: Path, *, interface: str, action: str, title: str, outcome: Outcome, message: str,
           public_key: str = "", old_public_key: str = "", diff: str | None = None, runtime_ops: int = 0,
           change_id: str | None = None) -> str | None:
    """Append one record; the shape is the same for every kind of attempt. Returns why it could not be written
    (the change is done or not done regardless: a log that cannot be written must not undo it)."""
    entry: dict[str, Any] = {
        "time": dt.datetime.now(UTC).isoformat(timespec="seconds"), "user": audit_user(),
        "interface": interface, "action": action, "title": title, "config": str(config), "outcome": str(outcome),
        "ok": outcome in (Outcome.APPLIED, Outcome.RECOVERED_COMPLETED, Outcome.RECOVERED_ROLLED_BACK,
                          Outcome.NOTHING),
        "public_key": public_key or None, "old_public_key": old_public_key or None, "diff": diff,
        "runtime_ops": runtime_ops, "change_id": change_id, "message": message,
    }
    line = (json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n").encode()
    try:
        append_line(audit_path(config), line, "audit log")
    except (StoreError, OSError) as exc:
        return str(exc)
    return None
