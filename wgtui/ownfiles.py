"""Provides the files wgtui keeps beside a config file: the lock that makes one change at a time, and append-only
logs (the audit log), each opened only if it is a regular file of wgtui's own."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import getpass
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from wgtui.store import _NOFOLLOW, Locked, StoreError, UnsafePath, _kind, _reason


def _open_own(path: Path, flags: int, what: str) -> int:
    """Open (creating, 0600) a file wgtui owns, refusing a symlink or a hard link to some other file."""
    try:
        fd = os.open(path, flags | _NOFOLLOW, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafePath(f"The {what} {path} is a symlink: wgtui does not follow links for its own files. "
                             "Remove it.") from None
        raise StoreError(f"Cannot open the {what} {path}: {_reason(exc)}.") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
        os.close(fd)
        why = _kind(st.st_mode) if not stat.S_ISREG(st.st_mode) else f"a hard link ({st.st_nlink} names)"
        raise UnsafePath(f"The {what} {path} is {why}: wgtui writes only to regular files of its own. Remove it.")
    return fd


def lock_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.wgtui-lock")


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock for the config file; fail at once (not wait) when another wgtui holds it."""
    lock = lock_path(path)
    fd = _open_own(lock, os.O_RDWR | os.O_CREAT, "lock file")
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Locked(f"another wgtui is changing {path} right now (it holds {lock}); try again when it is "
                         "done.") from None
        yield
    finally:
        os.close(fd)


def is_locked(path: Path) -> bool | None:
    """Whether a wgtui holds the config file's lock now (None when that cannot be told, e.g. not root)."""
    lock = lock_path(path)
    try:
        fd = os.open(lock, os.O_RDONLY | _NOFOLLOW)
    except FileNotFoundError:
        return False
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return None
    finally:
        os.close(fd)
    return False


def append_line(path: Path, line: bytes, what: str = "log") -> None:
    """Append one line (a JSON record) durably to a file wgtui owns."""
    fd = _open_own(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, what)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def audit_user() -> str:
    """Who asked for the change: the sudo caller when there is one, else the process owner."""
    sudo = os.environ.get("SUDO_USER")
    try:
        me = getpass.getuser()
    except (KeyError, OSError):
        me = str(os.getuid())
    return f"{sudo} (as {me})" if sudo and sudo != me else me
