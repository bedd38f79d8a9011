"""Atomic output: write beside the target, then rename, so no half-written file is ever seen.

Temporary files and folders made by :mod:`tempfile` are private (0600/0700); the finished
output gets the ordinary permissions the user's umask gives to a new file or folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _umask() -> int:
    """The process umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # no /proc: read it by setting it back at once
    os.umask(mask)
    return mask


def file_mode() -> int:
    """Permissions of a new file under the current umask (usually 0644)."""
    return 0o666 & ~_umask()


def dir_mode() -> int:
    """Permissions of a new folder under the current umask (usually 0755)."""
    return 0o777 & ~_umask()


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it onto ``path``.

    ``suffix`` ends the temporary name (writers that choose the format by the ending need it).
    On any error the temporary file is removed and ``path`` is left as it was.
    """
    out = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=f".tmp{suffix}", dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, file_mode())
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically; returns the path."""
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def temp_dir_beside(path: str | os.PathLike[str]) -> Path:
    """A new empty folder beside ``path`` (same file system) with ordinary permissions."""
    out = Path(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    os.chmod(tmp, dir_mode())
    return tmp


def discard_dir(path: str | os.PathLike[str]) -> None:
    """Remove a temporary folder and everything in it, ignoring what is already gone."""
    shutil.rmtree(path, ignore_errors=True)
