"""What a path that is not a regular file is, in words (for messages that refuse to open it)."""

from __future__ import annotations

import stat

_KIND_NAMES = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def file_kind(mode: int) -> str:
    """What a file of ``mode`` (``os.stat(path).st_mode``) is, when it is not a regular file.

    >>> file_kind(stat.S_IFIFO | 0o644), file_kind(stat.S_IFDIR | 0o755)
    ('a FIFO (named pipe)', 'a folder')
    """
    for test, name in _KIND_NAMES:
        if test(mode):
            return name
    return "not a regular file"
