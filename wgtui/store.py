"""Provides safe file storage for a root process: regular files, no symlinks followed, atomic 0600 writes."""

# Also: directory rules like sshd's StrictModes, temp files of killed processes swept. The lock and the append-only
# logs beside a config file are in ownfiles.py.

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import pwd
import re
import stat
from pathlib import Path

MAX_FILE_BYTES = 64 * 1024 * 1024
"""Larger than any real config (100,000 peers take ~15 MB): a cap so that a link to /dev/zero cannot exhaust memory."""
TMP_SUFFIX = ".wgtui-tmp"
_TMP_RE = re.compile(r"\A\..+\.(?P<pid>\d+)" + re.escape(TMP_SUFFIX) + r"\Z")
_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC


class StoreError(Exception):
    """A file operation failed or was refused; the message is a sentence for the user."""


class Locked(StoreError):
    """Another process (a second wgtui) is changing the same config file."""


class ChangedOnDisk(StoreError):
    """The file is not what the preview was made from."""


class UnsafePath(StoreError):
    """A directory or file that another user could use to turn wgtui's writes as root against other files."""


def _reason(exc: OSError) -> str:
    return exc.strerror or errno.errorcode.get(exc.errno or 0, str(exc))


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symlink")):
        if test(mode):
            return name
    return "not a regular file"


# -- reading -----------------------------------------------------------------------------------------------------


def read_regular(path: Path, *, follow: bool = True, cap: int = MAX_FILE_BYTES) -> bytes | None:
    """The bytes of a regular file, or None when it does not exist.

    Anything else (a FIFO, which would block forever; a device such as /dev/zero, which never ends; a directory)
    is refused at once: the open does not block (O_NONBLOCK) and the type is checked on the open descriptor, so
    nothing can be swapped in between. `follow=False` refuses a symlink (for files wgtui itself creates).
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow:
            raise UnsafePath(f"{path} is a symlink: wgtui does not follow links for its own files. Remove it.") \
                from None
        raise StoreError(f"Cannot read {path}: {_reason(exc)}.") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise StoreError(f"{path} is {_kind(st.st_mode)}, not a regular file: wgtui reads only regular files.")
        if st.st_size > cap:
            raise StoreError(f"{path} is {st.st_size:,} bytes, more than the {cap:,} wgtui reads: it is not a "
                             "WireGuard config file.")
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > cap:
                raise StoreError(f"{path} grew past the {cap:,} bytes wgtui reads while it was being read.")
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise StoreError(f"Cannot read {path}: {_reason(exc)}.") from None
    finally:
        os.close(fd)


def read_bytes(path: Path) -> bytes | None:
    """A config file's bytes (a symlinked config is followed to its regular-file target), or None if absent."""
    return read_regular(path)


def fingerprint(data: bytes | None) -> str:
    return "absent" if data is None else hashlib.sha256(data).hexdigest()


def check_unchanged(path: Path, expected: str) -> None:
    if fingerprint(read_bytes(path)) != expected:
        raise ChangedOnDisk(f"{path} changed on disk after the preview was made: look at the file and preview "
                            "the change again.")


# -- who may write where ------------------------------------------------------------------------------------------


def _owner(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def check_directory(directory: Path) -> None:
    """Refuse, like sshd's StrictModes, a directory in which another user could prepare a trap for wgtui.

    wgtui runs as root and creates files in the config directory (lock, journal, backup, temporary files, audit
    log, client configs). If another user can add entries there, a planted symlink or hard link turns those
    writes against any file. So the directory must belong to root (or to the user running wgtui) and be writable
    by nobody else; every directory above it must be too, or carry the sticky bit (as /tmp does), so that nobody
    can swap the directory itself.
    """
    me = os.geteuid()
    try:
        real = Path(os.path.realpath(directory))
        st = os.stat(real)
    except OSError as exc:
        raise StoreError(f"Cannot use the directory {directory}: {_reason(exc)}.") from None
    if not stat.S_ISDIR(st.st_mode):
        raise StoreError(f"{directory} is {_kind(st.st_mode)}, not a directory.")
    shown = directory if real == directory else f"{directory} (really {real})"
    if st.st_uid not in (0, me):
        raise UnsafePath(f"Refusing to write in {shown}: it belongs to {_owner(st.st_uid)}, not to root, so that "
                         "user could replace or redirect what wgtui writes there as root (keys included). "
                         f"Fix: `chown root: {real}` (or keep the config where only root can write).")
    if st.st_mode & 0o022:
        who = "its group and others" if st.st_mode & 0o022 == 0o022 else (
            "its group" if st.st_mode & 0o020 else "everyone")
        raise UnsafePath(f"Refusing to write in {shown}: it is writable by {who} (mode "
                         f"{stat.S_IMODE(st.st_mode):04o}), so another user could plant a symlink there and turn "
                         f"wgtui's writes as root against any file. Fix: `chmod go-w {real}`.")
    for parent in real.parents:
        try:
            pst = os.stat(parent)
        except OSError as exc:
            raise StoreError(f"Cannot check {parent}: {_reason(exc)}.") from None
        if pst.st_uid not in (0, me) or (pst.st_mode & 0o022 and not pst.st_mode & stat.S_ISVTX):
            raise UnsafePath(f"Refusing to write in {shown}: the directory above it, {parent}, can be changed by "
                             f"another user ({_owner(pst.st_uid)}, mode {stat.S_IMODE(pst.st_mode):04o}), who "
                             f"could swap {real.name} for a directory of their own. Fix: `chown root: {parent}; "
                             f"chmod go-w {parent}`.")


def ensure_private_dir(directory: Path) -> Path:
    """Create `directory` (0700) if it is missing, and refuse one that is a symlink or that fails the rules."""
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise StoreError(f"Cannot create the directory {directory}: {_reason(exc)}.") from None
    st = os.lstat(directory)
    if stat.S_ISLNK(st.st_mode):
        raise UnsafePath(f"{directory} is a symlink: wgtui writes private keys there and does not follow links. "
                         "Make it a real directory (mode 0700).")
    if not stat.S_ISDIR(st.st_mode):
        raise StoreError(f"{directory} is {_kind(st.st_mode)}, not a directory.")
    check_directory(directory)
    return directory


def resolve_target(path: Path) -> Path:
    """Where a config file's bytes really live: the target of a symlinked config (written in its place, the link
    kept), else `path` itself. Refuses anything that is not (or does not lead to) a regular file."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise StoreError(f"Cannot use {path}: {_reason(exc)}.") from None
    if stat.S_ISREG(st.st_mode):
        return path
    if not stat.S_ISLNK(st.st_mode):
        raise StoreError(f"{path} is {_kind(st.st_mode)}, not a regular file: wgtui writes only regular files.")
    target = Path(os.path.realpath(path))
    try:
        tst = os.stat(target)
    except FileNotFoundError:
        raise StoreError(f"{path} is a link to {target}, which does not exist.") from None
    if not stat.S_ISREG(tst.st_mode):
        raise StoreError(f"{path} is a link to {target}, which is {_kind(tst.st_mode)}, not a regular file.")
    return target


# -- writing -----------------------------------------------------------------------------------------------------


def temp_path(target: Path) -> Path:
    """The temporary file for writing `target`: in its directory, named after it and this process, so that a
    later run can tell a leftover of a killed process (see sweep_temps)."""
    return target.with_name(f".{target.name.lstrip('.')}.{os.getpid()}{TMP_SUFFIX}")


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _create_exclusive(path: Path, mode: int) -> int:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW
    try:
        return os.open(path, flags, mode)
    except FileExistsError:
        # A leftover with our own pid (a reused pid, or an earlier failure of this process): ours to replace.
        os.unlink(path)
        return os.open(path, flags, mode)


def write_atomic(path: Path, data: bytes, mode: int = 0o600, *, follow_link: bool = False) -> Path:
    """Write like wg-quick: a temporary file in the same directory, mode 0600 from the start, fsync, rename, fsync
    of the directory. A reader sees the old file or the new one, never a half-written one; on failure the old file
    is untouched and the temporary file is gone. Returns the path written.

    With `follow_link` a symlinked `path` is written in its target's place (the link stays a link); without it a
    symlink at `path` is replaced, never followed. The owner of a replaced file is kept.
    """
    target = resolve_target(path) if follow_link else path
    directory = target.parent
    check_directory(directory)
    owner: tuple[int, int] | None = None
    with contextlib.suppress(OSError):
        st = os.lstat(target)
        if stat.S_ISREG(st.st_mode):
            owner = (st.st_uid, st.st_gid)
    tmp = temp_path(target)
    try:
        fd = _create_exclusive(tmp, mode)
    except OSError as exc:
        raise StoreError(f"Cannot create a temporary file in {directory}: {_reason(exc)}.") from None
    try:
        try:
            os.fchmod(fd, mode)
            if owner is not None and os.geteuid() == 0 and owner != (0, 0):
                os.fchown(fd, *owner)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        _fsync_dir(directory)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise StoreError(f"Cannot write {target}: {_reason(exc)}.") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def remove_file(path: Path) -> bool:
    """Unlink a file wgtui created (a symlink there is removed, not followed); fsync the directory. False when
    there was nothing to remove."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise StoreError(f"Cannot remove {path}: {_reason(exc)}.") from None
    with contextlib.suppress(OSError):
        _fsync_dir(path.parent)
    return True


def _pid_is_wgtui(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of this process may be writing it right now (the dashboard)
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"wgtui" in f.read()
    except OSError:
        return False


def sweep_temps(directory: Path) -> list[Path]:
    """Remove the temporary files that killed wgtui processes left in `directory` (they may hold private keys)."""
    removed: list[Path] = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        match = _TMP_RE.match(name)
        if match is None or _pid_is_wgtui(int(match["pid"])):
            continue
        with contextlib.suppress(OSError):
            os.unlink(directory / name)
            removed.append(directory / name)
    return removed


def backup_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.bak")


def replace_with_backup(path: Path, data: bytes) -> tuple[Path | None, Path]:
    """Keep the current version as IF.conf.bak (0600, beside `path`), then write the new one atomically (in a
    symlinked config's target). Returns (the backup or None, the file written)."""
    old = read_bytes(path)
    backup = None
    if old is not None:
        backup = write_atomic(backup_path(path), old)
    return backup, write_atomic(path, data, follow_link=True)
