"""A binary file whose reads never ask for more than the file still holds.

A damaged DICOM element length (``0xFFFFFFF0`` where 20 bytes were meant) makes pydicom call
``read(4294967280)``, and Python allocates the whole buffer before it finds the end of the file:
a memory blow-up from a file of a few kilobytes. Reading through :class:`BoundedFile` caps every
read at the bytes left, so such a file ends in pydicom's own "end of file" error instead.
"""

from __future__ import annotations

import io
import os
from typing import Any, BinaryIO

import pydicom


class BoundedFile(io.RawIOBase):
    """Read-only view of ``fp`` (``size`` bytes long) whose reads are capped at what is left.

    >>> f = BoundedFile(io.BytesIO(b"abcdef"), 6)
    >>> f.read(2), f.read(1 << 40), f.tell()
    (b'ab', b'cdef', 6)
    """

    def __init__(self, fp: BinaryIO, size: int) -> None:
        super().__init__()
        self._fp = fp
        self._size = int(size)
        self.name = getattr(fp, "name", "")

    def readable(self) -> bool:  # noqa: D102
        return True

    def seekable(self) -> bool:  # noqa: D102
        return True

    def tell(self) -> int:  # noqa: D102
        return self._fp.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:  # noqa: D102
        return self._fp.seek(offset, whence)

    def read(self, size: int | None = -1) -> bytes:  # noqa: D102
        left = max(0, self._size - self._fp.tell())
        n = left if size is None or size < 0 else min(int(size), left)
        return self._fp.read(n)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]  # noqa: D102
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def dcmread_bounded(path: str | os.PathLike[str], **kwargs: Any) -> pydicom.Dataset:
    """``pydicom.dcmread(path, **kwargs)`` with reads capped at the file's size (read whole)."""
    with open(path, "rb") as fp:
        size = os.fstat(fp.fileno()).st_size
        return pydicom.dcmread(BoundedFile(fp, size), **kwargs)
