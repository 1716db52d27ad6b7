"""Provides safe config-file storage: atomic 0600 writes with fsync, a backup, a lock, and the audit log."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import getpass
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class StoreError(Exception):
    """A file operation failed; the message is a sentence for the user."""


class Locked(StoreError):
    """Another process (a second wgtui) is changing the same config file."""


class ChangedOnDisk(StoreError):
    """The file is not what the preview was made from."""


def read_bytes(path: Path) -> bytes | None:
    """The file's bytes, or None when it does not exist."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"Cannot read {path}: {exc.strerror or exc}.") from None


def fingerprint(data: bytes | None) -> str:
    return "absent" if data is None else hashlib.sha256(data).hexdigest()


def check_unchanged(path: Path, expected: str) -> None:
    if fingerprint(read_bytes(path)) != expected:
        raise ChangedOnDisk(f"{path} changed on disk after the preview was made. Nothing was changed: "
                            "look at the file and preview the change again.")


def lock_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.wgtui-lock")


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock for the config file; fail at once (not wait) when another wgtui holds it."""
    lock = lock_path(path)
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StoreError(f"Cannot create the lock file {lock}: {exc.strerror or exc}.") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Locked(f"Another wgtui is changing {path} right now (it holds {lock}). Nothing was changed; "
                         "try again when it is done.") from None
        yield
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write like wg-quick: a temporary file in the same directory, mode 0600 from the start, fsync, rename.

    A reader sees the old file or the new one, never a half-written one; on failure the old file is untouched.
    """
    directory = path.parent
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise StoreError(f"Cannot create a temporary file in {directory}: {exc.strerror or exc}.") from None
    try:
        try:
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        _fsync_dir(directory)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        reason = exc.strerror or errno.errorcode.get(exc.errno or 0, str(exc))
        raise StoreError(f"Cannot write {path}: {reason}.") from None


def backup_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.bak")


def replace_with_backup(path: Path, data: bytes) -> Path | None:
    """Keep the current version as IF.conf.bak (0600), then write the new one atomically."""
    old = read_bytes(path)
    backup = None
    if old is not None:
        backup = backup_path(path)
        write_atomic(backup, old)
    write_atomic(path, data)
    return backup


def audit_user() -> str:
    """Who asked for the change: the sudo caller when there is one, else the process owner."""
    sudo = os.environ.get("SUDO_USER")
    try:
        me = getpass.getuser()
    except (KeyError, OSError):
        me = str(os.getuid())
    return f"{sudo} (as {me})" if sudo and sudo != me else me


def audit(log: Path, entry: dict[str, Any]) -> None:
    """Append one JSON line. Callers never put keys in `entry` except public keys."""
    record = {"time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "user": audit_user(), **entry}
    line = (json.dumps(record, sort_keys=True) + "\n").encode()
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
