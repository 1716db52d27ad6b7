"""Provides the write-ahead journal of a change: what is about to happen, written durably before anything happens."""

# The journal lives beside the config file (`.IF.conf.wgtui-journal`, 0600, never through a symlink). It holds
# what a later run needs to finish or undo the change without the process that started it: the file's
# fingerprints before and after, the runtime operations both ways, and the client configs (with their private
# keys, like the config file itself holds the server's). It exists only while a change runs; finding one while
# nobody holds the lock means that a change was interrupted.

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wgtui.model import KEEP, PeerUpdate
from wgtui.store import StoreError, read_regular, remove_file, write_atomic

VERSION = 1


def journal_path(config: Path) -> Path:
    return config.with_name(f".{config.name}.wgtui-journal")


@dataclass(frozen=True)
class ClientFile:
    """A client config written (or, with text None, deleted) as part of the change, and what was at its path
    before (restored on undo)."""

    path: Path
    text: str | None
    previous: str | None = None

    @property
    def wanted(self) -> bytes | None:
        """The bytes the change leaves at `path` (None: no file)."""
        return None if self.text is None else self.text.encode()


@dataclass(frozen=True)
class Journal:
    """One change in flight."""

    interface: str
    action: str
    title: str
    config: Path
    before: str
    """Fingerprint of the config file before the change."""
    after: str | None
    """Fingerprint of the file after it; None when the change leaves the file alone (runtime only)."""
    runtime: tuple[PeerUpdate, ...] = ()
    undo: tuple[PeerUpdate, ...] = ()
    clients: tuple[ClientFile, ...] = ()
    public_key: str = ""
    old_public_key: str = ""
    id: str = field(default_factory=lambda: os.urandom(6).hex())  # as uuid4().hex[:12], without importing uuid
    started: float = field(default_factory=time.time)
    pid: int = field(default_factory=os.getpid)
    user: str = ""

    @property
    def path(self) -> Path:
        return journal_path(self.config)

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started))
        return f"{self.title!r} (started {when} by {self.user or 'unknown'}, pid {self.pid})"

    def to_json(self) -> dict[str, Any]:
        return {"version": VERSION, "id": self.id, "started": self.started, "pid": self.pid, "user": self.user,
                "interface": self.interface, "action": self.action, "title": self.title, "config": str(self.config),
                "before": self.before, "after": self.after, "public_key": self.public_key,
                "old_public_key": self.old_public_key,
                "runtime": [update_to_json(u) for u in self.runtime], "undo": [update_to_json(u) for u in self.undo],
                "clients": [{"path": str(c.path), "text": c.text, "previous": c.previous} for c in self.clients]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Journal:
        if data.get("version") != VERSION:
            raise ValueError(f"journal version {data.get('version')!r}, this wgtui reads {VERSION}")
        return cls(interface=str(data["interface"]), action=str(data["action"]), title=str(data["title"]),
                   config=Path(data["config"]), before=str(data["before"]),
                   after=None if data["after"] is None else str(data["after"]),
                   runtime=tuple(update_from_json(u) for u in data["runtime"]),
                   undo=tuple(update_from_json(u) for u in data["undo"]),
                   clients=tuple(ClientFile(Path(c["path"]), c["text"], c["previous"]) for c in data["clients"]),
                   public_key=str(data.get("public_key", "")), old_public_key=str(data.get("old_public_key", "")),
                   id=str(data["id"]), started=float(data["started"]), pid=int(data["pid"]), user=str(data["user"]))


def update_to_json(update: PeerUpdate) -> dict[str, Any]:
    out: dict[str, Any] = {"public_key": update.public_key}
    if update.remove:
        out["remove"] = True
    for name in ("preshared_key", "endpoint", "persistent_keepalive"):
        value = getattr(update, name)
        if value is not KEEP:
            out[name] = value
    if update.allowed_ips is not KEEP:
        out["allowed_ips"] = list(update.allowed_ips)
    return out


def update_from_json(data: dict[str, Any]) -> PeerUpdate:
    ips = data.get("allowed_ips", KEEP)
    return PeerUpdate(str(data["public_key"]), remove=bool(data.get("remove", False)),
                      preshared_key=data.get("preshared_key", KEEP), endpoint=data.get("endpoint", KEEP),
                      persistent_keepalive=data.get("persistent_keepalive", KEEP),
                      allowed_ips=KEEP if ips is KEEP else tuple(str(i) for i in ips))


def write(journal: Journal) -> None:
    """Durably: when this returns, a power cut leaves the journal on disk (temp file, fsync, rename, fsync)."""
    write_atomic(journal.path, (json.dumps(journal.to_json(), indent=1) + "\n").encode())


def read(config: Path) -> Journal | None:
    """The journal of an interrupted (or running) change to `config`, or None."""
    path = journal_path(config)
    data = read_regular(path, follow=False)
    if data is None:
        return None
    try:
        return Journal.from_json(json.loads(data))
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"The change journal {path} cannot be read ({exc}). It holds an interrupted change that "
                         "this wgtui cannot finish: compare `wg show` with the file, then remove the journal.") \
            from None


def clear(journal: Journal) -> None:
    remove_file(journal.path)


def exists(config: Path) -> bool:
    """Whether a journal is there (readable or not: `wgtui show` may run without root)."""
    try:
        os.lstat(journal_path(config))
    except OSError:
        return False
    return True
