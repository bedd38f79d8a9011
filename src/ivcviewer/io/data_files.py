"""Checks on the files a volume header stands for, made before any image library reads them.

Pure standard library. A header may name a detached data file (NRRD ``data file``, MetaImage
``ElementDataFile``), declare a size and a compression: these functions check, with
:func:`os.stat` and without opening anything that is not a regular file, that

* every file read is a regular file (never a FIFO, device or socket, which could block);
* a detached data file lies in the header's folder (no absolute path, no ``..``, no symbolic
  link leading out of the folder);
* the bytes the header declares fit in the bytes there are (checked against the file size, or
  against what a compressed stream holds, decompressed in chunks and never kept);
* a compressed stream is complete and passes its own check (gzip CRC and length, zlib Adler-32).
"""

from __future__ import annotations

import os
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path

from .._files import file_kind
from ..errors import VolumeFormatError
from ..limits import Limits

#: Largest ratio of decompressed to compressed size that deflate (gzip, zlib) can reach.
MAX_DEFLATE_RATIO = 1032

#: Bytes decompressed at a time when a stream is checked.
_CHUNK = 1 << 20

#: zlib window bits: a gzip stream (header, CRC-32, length) or a zlib/gzip stream (auto).
GZIP_WBITS = 16 + zlib.MAX_WBITS
AUTO_WBITS = 32 + zlib.MAX_WBITS


def regular_file_size(path: Path, role: str = "volume file") -> int:
    """The size of ``path`` after checking (with :func:`os.stat`) that it is a regular file.

    Parameters
    ----------
    path
        The file.
    role
        What the file is, for the message (``"volume file"``, ``"data file of x.nhdr"``).

    Raises
    ------
    FileNotFoundError
        When nothing exists at ``path``.
    VolumeFormatError
        When ``path`` is a FIFO, a device, a socket or a folder (reading could block forever).
    """
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise VolumeFormatError(
            f"{path}: the {role} is {file_kind(st.st_mode)}, not a regular file, so it is not read "
            "(it could block forever). Fix: give a regular file."
        )
    return int(st.st_size)


def detached_data_file(header: Path, name: str, field: str) -> Path:
    """Where a header's detached data file is, after the rules that keep reads inside its folder.

    Parameters
    ----------
    header
        The header file (``.nhdr``, ``.mhd``, ...).
    name
        The file name the header gives.
    field
        The header field that names it (``data file``, ``ElementDataFile``), for messages.

    Returns
    -------
    Path
        The data file (beside or below the header; a regular file).

    Raises
    ------
    VolumeFormatError
        For an empty name, an absolute path, a ``..`` component, a symbolic link that leads
        out of the header's folder, a data file that is not a regular file or does not exist.
    """
    shown = name if len(name) <= 120 else name[:117] + "..."
    fix = f"Fix: put the data file beside {header.name} and give its plain name in '{field}'."
    if not name or "\x00" in name:
        raise VolumeFormatError(f"{header}: '{field}' names no usable data file. {fix}")
    parts = name.replace("\\", "/").split("/")
    if os.path.isabs(name) or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise VolumeFormatError(
            f"{header}: '{field}' is the absolute path {shown!r}; a data file must lie in the "
            f"header's folder, so that a header cannot make this program read any file. {fix}"
        )
    if ".." in parts:
        raise VolumeFormatError(
            f"{header}: '{field}' {shown!r} climbs out of the header's folder with '..'; a data "
            f"file must lie in the header's folder. {fix}"
        )
    folder = header.parent.resolve()
    target = header.parent / name
    real = Path(os.path.realpath(target))
    if real != folder and folder not in real.parents:
        raise VolumeFormatError(
            f"{header}: '{field}' {shown!r} is a symbolic link leading to {real}, outside the "
            f"header's folder {folder}; it is not followed. {fix}"
        )
    try:
        regular_file_size(target, f"data file ({field}) of {header.name}")
    except FileNotFoundError:
        raise VolumeFormatError(
            f"{header}: its data file {shown!r} (named by '{field}') does not exist beside the "
            f"header. Fix: put the data file beside {header.name}, or correct '{field}' in the "
            "header."
        ) from None
    return target


def check_declared_size(
    path: Path, declared: int, available: int, what: str, fix: str = ""
) -> None:
    """Refuse a header that declares more voxel bytes than its data holds.

    Parameters
    ----------
    path
        The file named in the message.
    declared
        Bytes the header's sizes and voxel type declare.
    available
        Bytes the data holds (or at most could hold, for a compressed stream).
    what
        How the declaration reads (``"sizes 512 512 300 of type short"``).
    fix
        What to do; a default says the file is truncated or its header damaged.
    """
    if declared > available:
        raise VolumeFormatError(
            f"{path}: its header declares {what}, {declared:,} bytes of voxels, but the data "
            f"holds at most {available:,} bytes. Fix: "
            + (fix or "the file is truncated or its header is damaged; export it again.")
        )


def check_allocation(limits: Limits, path: Path, declared: int, what: str) -> None:
    """:meth:`Limits.check_allocation` for a volume whose header declares ``declared`` bytes."""
    limits.check_allocation(declared, f"{path}: its header declares {what}, which")


def inflated_size(
    path: Path,
    offset: int,
    limit: int,
    *,
    wbits: int = GZIP_WBITS,
    role: str = "gzip data",
    shown: Path | None = None,
    length: int | None = None,
) -> int:
    """Decompress a deflate stream in chunks, keeping nothing, and return its size.

    The whole stream is checked: a gzip member's CRC-32 and length (several members are
    allowed, as ``bgzip`` writes them) or a zlib stream's Adler-32. Decompression stops as soon
    as more than ``limit`` bytes came out, so a small file cannot keep it busy for long.

    Parameters
    ----------
    path
        The file (a regular file; the caller checked).
    offset
        Where the stream starts in the file.
    limit
        Most decompressed bytes wanted; a stream that holds more is refused.
    wbits
        :data:`GZIP_WBITS` for gzip, :data:`AUTO_WBITS` for zlib or gzip.
    role
        What the stream is, for messages.
    shown
        The file named in messages (the header of a detached data file); ``path`` if None.
    length
        Bytes of the file the stream may take (None: up to the end of the file).

    Returns
    -------
    int
        The number of decompressed bytes.

    Raises
    ------
    VolumeFormatError
        For a damaged, incomplete or over-long stream.
    """
    total = 0
    named = shown or path
    left = length if length is not None else -1
    with open(path, "rb") as fh:
        fh.seek(offset)
        inflater = zlib.decompressobj(wbits)
        pending = b""
        while True:
            if not pending:
                pending = fh.read(_CHUNK if left < 0 else min(_CHUNK, left))
                left -= len(pending) if left >= 0 else 0
                if not pending:
                    total += _drain(inflater, named, total, limit, role)
                    break
            if inflater.eof:
                if wbits != GZIP_WBITS:
                    break
                pending = pending.lstrip(b"\x00")
                if not pending:
                    continue
                inflater = zlib.decompressobj(wbits)
            total += _inflate(inflater, pending, named, total, limit, role)
            pending = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
    if not inflater.eof:
        raise VolumeFormatError(
            f"{named}: the {role} ends early (after {total:,} decompressed bytes, before its "
            f"end-of-stream check), so the file is truncated. {_DAMAGED_FIX}"
        )
    return total


_DAMAGED_FIX = "Fix: the file is damaged or incomplete; copy or export it again."


def _inflate(
    inflater: zlib._Decompress, data: bytes, path: Path, total: int, limit: int, role: str
) -> int:
    try:
        out = inflater.decompress(data, _CHUNK)
    except zlib.error as exc:
        raise VolumeFormatError(
            f"{path}: the {role} fails its integrity check after {total:,} decompressed bytes, "
            f"so its voxels cannot be trusted. {_DAMAGED_FIX} ({exc})"
        ) from None
    if total + len(out) > limit:
        raise VolumeFormatError(
            f"{path}: the {role} decompresses to more than {limit:,} bytes, more than its "
            "header declares. Fix: check the header's sizes and type, or export the file again."
        )
    return len(out)


def _drain(inflater: zlib._Decompress, path: Path, total: int, limit: int, role: str) -> int:
    """Take the output a decompressor still holds once its input is all given."""
    drained = 0
    while not inflater.eof:
        n = _inflate(inflater, b"", path, total + drained, limit, role)
        if n == 0:
            break
        drained += n
    return drained


@dataclass(frozen=True)
class DataDeclaration:
    """Where a header says its voxels are, how they are encoded and how many there are.

    Attributes
    ----------
    header
        The header file (named in messages).
    files
        ``(file, offset)`` for each data file in order; ``offset`` is where the data starts,
        ``-1`` for "the last bytes of the file".
    encoding
        ``raw``, ``gzip``, ``zlib`` (zlib or gzip), ``bzip2``, ``ascii`` or ``hex``.
    values
        Number of values (voxels times components).
    itemsize
        Bytes per value once decoded.
    what
        The declaration in words (``"sizes 4 x 3 x 2 of short"``), for messages.
    fix
        What to do when the data holds less than declared.
    stream_bytes
        For a compressed stream whose header gives its size (MetaImage
        ``CompressedDataSize``): the bytes it takes.
    """

    header: Path
    files: tuple[tuple[Path, int], ...]
    encoding: str
    values: int
    itemsize: int
    what: str
    fix: str = ""
    stream_bytes: int | None = None

    @property
    def nbytes(self) -> int:
        """Bytes of decoded voxels the header declares."""
        return self.values * self.itemsize


def _available(path: Path, offset: int) -> int:
    size = regular_file_size(path, "data file")
    return size if offset < 0 else max(0, size - offset)


def check_data(decl: DataDeclaration, limits: Limits) -> None:
    """Check that the data a header declares is there, fits the budget and is not damaged.

    Raw data must hold the declared bytes; text data (``ascii``, ``hex``) at least the
    characters they need; a deflate stream (``gzip``, ``zlib``) is decompressed in chunks
    (nothing kept, bounded) and must pass its check and hold exactly the declared bytes.
    ``bzip2`` is bounded by the memory budget only.

    Raises
    ------
    VolumeFormatError
        For data that holds fewer bytes than declared, or a damaged stream.
    ResourceLimitError
        For declared voxels over the memory budget.
    """
    path, declared = decl.header, decl.nbytes
    available = sum(_available(f, off) for f, off in decl.files)
    if decl.encoding == "raw":
        check_declared_size(path, declared, available, decl.what, decl.fix)
    elif decl.encoding == "hex":
        check_declared_size(path, declared, available // 2, decl.what + " as hex text", decl.fix)
    elif decl.encoding == "ascii":
        # every value takes at least one character and one separator
        check_declared_size(
            path, declared, (available + 1) // 2 * decl.itemsize, decl.what + " as text", decl.fix
        )
    elif decl.encoding in ("gzip", "zlib"):
        check_declared_size(
            path, declared, available * MAX_DEFLATE_RATIO, decl.what + " (compressed)", decl.fix
        )
    check_allocation(limits, path, declared, decl.what)
    if decl.encoding in ("gzip", "zlib"):
        wbits = GZIP_WBITS if decl.encoding == "gzip" else AUTO_WBITS
        total = 0
        for f, off in decl.files:
            role = f"{decl.encoding} voxel data" + ("" if f == path else f" in {f.name}")
            total += inflated_size(
                f,
                max(off, 0),
                declared - total,
                wbits=wbits,
                role=role,
                shown=path,
                length=decl.stream_bytes,
            )
        check_declared_size(path, declared, total, decl.what + " (decompressed)", decl.fix)
