"""Writing files as a careful tool does: the target is a regular file or nothing yet (never a symlink, FIFO, device or
folder), the text goes to a temporary file beside it, is flushed to disk (fsync) and renamed over the target, so that a
full disk, a read-only folder or Ctrl-C leaves the old file whole and no partial one. One writer for the plan lock and
the report's --output."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from sizing.errors import OutputFileError

DISK_ERRORS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}
"""What the usual write failures mean, in words."""


def check_target(path: str | Path, what: str, fix: str) -> Path:
    """The path, after checking that writing it replaces a regular file or creates one: never through a symlink, never
    into a FIFO, device or folder, and into a folder that exists."""
    target = Path(path)
    shown = repr(str(path)[:200])
    try:
        info = os.lstat(target)  # the link itself, not what it points at
    except FileNotFoundError:
        info = None
    except (OSError, ValueError) as exc:
        raise OutputFileError(
            f"{what} {shown} cannot be written ({getattr(exc, 'strerror', '') or exc}). To fix: {fix}"
        ) from None
    if info is not None and stat.S_ISLNK(info.st_mode):
        raise OutputFileError(f"{what} {shown} is a symbolic link; it is not followed for a write. To fix: {fix}")
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise OutputFileError(f"{what} {shown} is a folder, not a file. To fix: {fix}")
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise OutputFileError(f"{what} {shown} is not a regular file (a FIFO, socket or device). To fix: {fix}")
    if not target.resolve().parent.is_dir():
        raise OutputFileError(f"{what} {shown}: the folder {str(target.parent)[:200]!r} does not exist. To fix: {fix}")
    return target


def write_text_atomic(path: str | Path, text: str, what: str, fix: str) -> Path:
    """Write `text` to `path` (check_target first) through a temporary file, fsync and rename; raises OutputFileError
    with the cause in words. On any failure, Ctrl-C included, the temporary file is removed and the target untouched."""
    target = check_target(path, what, fix)
    shown = repr(str(path)[:200])
    temporary = None
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name[:100]}.", suffix=".tmp", dir=target.resolve().parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, target)
        temporary = None
    except OSError as exc:
        cause = DISK_ERRORS.get(exc.errno or 0, exc.strerror or str(exc))
        raise OutputFileError(
            f"{what} {shown} cannot be written ({cause}); the previous file, if any, is unchanged. To fix: {fix}"
        ) from None
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
    return target


def same_file(first: str | Path, second: str | Path) -> bool:
    """Whether two paths name the same file (a hard or symbolic link to it included); False where either is absent."""
    try:
        return os.path.samefile(first, second)
    except (OSError, ValueError):
        return False
