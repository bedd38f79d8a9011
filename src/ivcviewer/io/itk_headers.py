"""NRRD and MetaImage headers, parsed and checked before SimpleITK sees the file.

SimpleITK's readers trust their headers: a malformed one can make them read outside their
buffers and crash the process, follow a data file anywhere, or read compressed data that is not
compressed as zeros. This small parser reads the header text itself (a bounded read) and
checks, in ivcviewer's words:

* the required fields (NRRD ``dimension``, ``type``, ``encoding``, ``sizes``; MetaImage
  ``NDims``, ``DimSize``, ``ElementType``, ``ElementDataFile``), with counts matching the
  dimension, positive sizes, known voxel types and encodings, finite spacing, origin and
  directions;
* the data: detached data files in the header's folder and regular
  (:func:`~ivcviewer.io.data_files.detached_data_file`), the declared bytes against what the
  data holds and against the memory budget, compressed data complete and undamaged
  (:func:`~ivcviewer.io.data_files.check_data`).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from ..errors import VolumeFormatError
from ..limits import Limits
from .data_files import DataDeclaration, check_data, detached_data_file, regular_file_size

#: Longest header read, in bytes.
MAX_HEADER_BYTES = 1 << 20

#: Most dimensions a header may declare.
MAX_DIMS = 16

_NRRD_TYPES: dict[str, int] = {}
for _names, _size in (
    (("signed char", "int8", "int8_t", "uchar", "unsigned char", "uint8", "uint8_t"), 1),
    (
        (
            "short",
            "short int",
            "signed short",
            "signed short int",
            "int16",
            "int16_t",
            "ushort",
            "unsigned short",
            "unsigned short int",
            "uint16",
            "uint16_t",
        ),
        2,
    ),
    (("int", "signed int", "int32", "int32_t", "uint", "unsigned int", "uint32", "uint32_t"), 4),
    (
        (
            "longlong",
            "long long",
            "long long int",
            "signed long long",
            "signed long long int",
            "int64",
            "int64_t",
            "ulonglong",
            "unsigned long long",
            "unsigned long long int",
            "uint64",
            "uint64_t",
        ),
        8,
    ),
    (("float",), 4),
    (("double",), 8),
):
    _NRRD_TYPES.update(dict.fromkeys(_names, _size))

_NRRD_ENCODINGS = {
    "raw": "raw",
    "txt": "ascii",
    "text": "ascii",
    "ascii": "ascii",
    "hex": "hex",
    "gz": "gzip",
    "gzip": "gzip",
    "bz2": "bzip2",
    "bzip2": "bzip2",
}

_NRRD_SPACES = {
    "right-anterior-superior": 3,
    "ras": 3,
    "left-anterior-superior": 3,
    "las": 3,
    "left-posterior-superior": 3,
    "lps": 3,
    "right-anterior-superior-time": 4,
    "rast": 4,
    "left-anterior-superior-time": 4,
    "last": 4,
    "left-posterior-superior-time": 4,
    "lpst": 4,
    "scanner-xyz": 3,
    "scanner-xyz-time": 4,
    "3d-right-handed": 3,
    "3d-left-handed": 3,
    "3d-right-handed-time": 4,
    "3d-left-handed-time": 4,
}

_MET_TYPES = {
    "MET_CHAR": 1,
    "MET_UCHAR": 1,
    "MET_SHORT": 2,
    "MET_USHORT": 2,
    "MET_INT": 4,
    "MET_UINT": 4,
    "MET_LONG": 4,
    "MET_ULONG": 4,
    "MET_LONG_LONG": 8,
    "MET_ULONG_LONG": 8,
    "MET_FLOAT": 4,
    "MET_DOUBLE": 8,
}

_MET_BOOLS = {"true": True, "1": True, "false": False, "0": False}

_FIX = "Fix: repair the header (or export the image again)."


def _bad(path: Path, rule: str, fix: str = _FIX) -> VolumeFormatError:
    return VolumeFormatError(f"{path}: {rule}. {fix}")


def _cut(text: str, n: int = 60) -> str:
    return repr(text if len(text) <= n else text[: n - 3] + "...")


def _is_text(raw: bytes) -> bool:
    """UTF-8 text without control characters other than tabs.

    >>> _is_text(b"DimSize = 2 3 4"), _is_text("caf\u00e9".encode()), _is_text(bytes([255]))
    (True, True, False)
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(ord(c) < 32 and c != "\t" or ord(c) == 127 for c in text)


def _header_lines(path: Path, end_at_blank: bool) -> tuple[list[str], list[int], int]:
    """The header's lines (a bounded read), where each line ends, and the file size.

    With ``end_at_blank`` (NRRD) the lines stop at the first blank line, whose end is the
    last position given; otherwise (MetaImage) they stop after the ``ElementDataFile`` line,
    which ends a MetaImage header (the pixel data may follow in the same file).
    """
    size = regular_file_size(path)
    with open(path, "rb") as fh:
        head = fh.read(MAX_HEADER_BYTES)
    lines: list[str] = []
    ends: list[int] = []
    pos = 0
    while pos < len(head):
        nl = head.find(b"\n", pos)
        if nl < 0:
            if len(head) < size:
                raise _bad(
                    path,
                    f"its header is longer than {MAX_HEADER_BYTES:,} bytes (or has no end)",
                    "Fix: check that the file really is NRRD or MetaImage and is not damaged.",
                )
            nl = len(head)
        raw = head[pos:nl].rstrip(b"\r")
        if not _is_text(raw):
            raise _bad(
                path,
                f"its header line {len(lines) + 1} holds bytes that are not text (a header is "
                "plain text up to the data)",
                "Fix: check that the file is not damaged (or export it again).",
            )
        line = raw.decode("latin-1")
        pos = min(nl + 1, size)
        if end_at_blank and not line.strip() and lines:
            ends.append(pos)
            return lines, ends, size
        lines.append(line)
        ends.append(pos)
        if not end_at_blank and line.split("=", 1)[0].strip() == "ElementDataFile":
            return lines, ends, size
    return lines, ends, size


def _ints(path: Path, field: str, text: str, count: int, least: int) -> list[int]:
    tokens = text.split()
    try:
        values = [int(t) for t in tokens]
    except ValueError:
        raise _bad(path, f"'{field}' must be whole numbers, got {_cut(text)}") from None
    if len(values) != count:
        raise _bad(path, f"'{field}' has {len(values)} values {_cut(text)}, not {count}")
    if any(v < least for v in values):
        raise _bad(path, f"'{field}' values must be at least {least}, got {_cut(text)}")
    return values


def _floats(path: Path, field: str, tokens: list[str], count: int, nan_ok: bool = False) -> None:
    try:
        values = [float(t) for t in tokens]
    except ValueError:
        raise _bad(path, f"'{field}' must hold numbers, got {_cut(' '.join(tokens))}") from None
    if len(values) != count:
        raise _bad(path, f"'{field}' has {len(values)} numbers, not {count}")
    if not all(math.isfinite(v) or (nan_ok and math.isnan(v)) for v in values):
        raise _bad(path, f"'{field}' holds a number that is not finite: {_cut(' '.join(tokens))}")


def _int(path: Path, field: str, text: str, low: int, high: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise _bad(path, f"'{field}' must be a whole number, got {_cut(text)}") from None
    if not low <= value <= high:
        raise _bad(path, f"'{field}' is {value}, outside {low}..{high}")
    return value


def _data_files(path: Path, value: str, rest: list[str], field: str) -> list[Path]:
    """The detached data files a header names (``LIST`` followed by names, or one name)."""
    tokens = value.split()
    if tokens and tokens[0] == "LIST":
        names = [ln.strip() for ln in rest if ln.strip()]
        if not names:
            raise _bad(path, f"'{field}' is LIST but no file names follow it")
        return [detached_data_file(path, n, field) for n in names]
    if "%" in value and len(tokens) >= 4:
        raise _bad(
            path,
            f"'{field}' {_cut(value)} is a file-name pattern, which is not read",
            "Fix: join the slices into one data file (or one .nrrd/.mha) and name it.",
        )
    return [detached_data_file(path, value.strip(), field)]


# NRRD ------------------------------------------------------------------------------------


def _nrrd_fields(path: Path, lines: list[str]) -> tuple[dict[str, str], list[str]]:
    fields: dict[str, str] = {}
    for n, line in enumerate(lines[1:], start=2):
        if line.startswith("#") or not line.strip():
            continue
        if ":=" in line and (": " not in line or line.index(":=") < line.index(": ")):
            continue
        if ": " not in line:
            raise _bad(
                path,
                f"header line {n} {_cut(line)} is neither a field ('name: value'), a "
                "key/value pair ('key:=value') nor a comment",
            )
        key, value = line.split(": ", 1)
        key = key.strip().lower()
        if key in fields:
            raise _bad(path, f"header field '{key}' is given twice (line {n})")
        fields[key] = value.strip()
        if key in ("data file", "datafile") and value.split()[:1] == ["LIST"]:
            return fields, lines[n:]
    return fields, []


def _nrrd_geometry(path: Path, fields: dict[str, str], dim: int) -> None:
    sdim = 0
    if "space" in fields:
        space = fields["space"].lower()
        if space not in _NRRD_SPACES:
            raise _bad(path, f"'space' {_cut(fields['space'])} is no NRRD space")
        sdim = _NRRD_SPACES[space]
    if "space dimension" in fields:
        sdim = _int(path, "space dimension", fields["space dimension"], 1, MAX_DIMS)
    if "space directions" in fields:
        vectors = fields["space directions"].replace(")", ") ").split()
        if len(vectors) != dim:
            raise _bad(path, f"'space directions' has {len(vectors)} entries, not {dim}")
        for vec in vectors:
            if vec != "none":
                _floats(path, "space directions", vec.strip("()").split(","), sdim or 3)
    if "space origin" in fields:
        _floats(
            path, "space origin", fields["space origin"].strip().strip("()").split(","), sdim or 3
        )
    for key in ("spacings", "thicknesses", "axis mins", "axis maxs"):
        if key in fields:
            _floats(path, key, fields[key].split(), dim, nan_ok=True)
    if "kinds" in fields and len(fields["kinds"].split()) != dim:
        raise _bad(path, f"'kinds' has {len(fields['kinds'].split())} entries, not {dim}")


def nrrd_declaration(path: Path) -> DataDeclaration:
    """Parse and check an NRRD header (``.nrrd`` or ``.nhdr``): what data it declares, where.

    Raises
    ------
    VolumeFormatError
        For a header that breaks one of the rules of the module docstring.
    """
    lines, ends, _ = _header_lines(path, end_at_blank=True)
    end = ends[-1] if ends else 0
    if not lines or not lines[0].startswith("NRRD000") or lines[0][7:8] not in "12345":
        raise _bad(
            path,
            f"not an NRRD header: the first line is {_cut(lines[0] if lines else '')}, "
            "not the magic NRRD0001..NRRD0005",
            "Fix: check that the file really is NRRD and is complete.",
        )
    fields, rest = _nrrd_fields(path, lines)
    for key in ("dimension", "type", "encoding", "sizes"):
        if key not in fields:
            raise _bad(path, f"its NRRD header has no '{key}' field, which is required")
    dim = _int(path, "dimension", fields["dimension"], 1, MAX_DIMS)
    sizes = _ints(path, "sizes", fields["sizes"], dim, 1)
    type_name = fields["type"].lower()
    if type_name not in _NRRD_TYPES:
        raise _bad(path, f"'type' {_cut(fields['type'])} is no NRRD scalar voxel type")
    encoding = _NRRD_ENCODINGS.get(fields["encoding"].lower())
    if encoding is None:
        raise _bad(
            path,
            f"'encoding' {_cut(fields['encoding'])} is no NRRD encoding "
            "(raw, ascii, hex, gzip, bzip2)",
        )
    if fields.get("endian", "little").lower() not in ("little", "big"):
        raise _bad(path, f"'endian' {_cut(fields['endian'])} must be little or big")
    _nrrd_geometry(path, fields, dim)
    skip = _int(path, "byte skip", fields.get("byte skip", "0"), -1, 1 << 40)
    _int(path, "line skip", fields.get("line skip", "0"), 0, 1 << 30)
    if skip == -1 and encoding != "raw":
        raise _bad(path, "'byte skip: -1' is allowed with raw encoding only")
    data_field = fields.get("data file", fields.get("datafile"))
    files: tuple[tuple[Path, int], ...]
    if data_field is None:
        files = ((path, -1 if skip == -1 else end + skip),)
    else:
        found = _data_files(path, data_field, rest, "data file")
        files = tuple((f, -1 if skip == -1 else skip) for f in found)
    return DataDeclaration(
        path,
        files,
        encoding,
        math.prod(sizes),
        _NRRD_TYPES[type_name],
        f"sizes {' x '.join(map(str, sizes))} of {type_name}",
        f"the data is truncated, its header is damaged, or 'encoding: {fields['encoding']}' is "
        "not how the data is stored; export the file again.",
    )


# MetaImage -------------------------------------------------------------------------------


def _meta_fields(path: Path, lines: list[str]) -> tuple[dict[str, str], list[str], int]:
    """MetaImage fields up to ``ElementDataFile`` (the last one), the lines after it, and
    the number of header lines."""
    fields: dict[str, str] = {}
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if "=" not in line:
            raise _bad(path, f"header line {n} {_cut(line)} is not 'Name = Value'")
        key, value = (part.strip() for part in line.split("=", 1))
        fields[key] = value
        if key == "ElementDataFile":
            return fields, lines[n:], n
    raise _bad(
        path,
        "its MetaImage header has no 'ElementDataFile' field (the required last field, "
        f"within its first {MAX_HEADER_BYTES:,} bytes)",
        "Fix: check that the file really is MetaImage (.mha/.mhd) and is complete.",
    )


def _meta_bool(path: Path, fields: dict[str, str], key: str) -> bool:
    text = fields.get(key, "False")
    if text.lower() not in _MET_BOOLS:
        raise _bad(path, f"'{key}' must be True or False, got {_cut(text)}")
    return _MET_BOOLS[text.lower()]


def _meta_geometry(path: Path, fields: dict[str, str], dim: int) -> None:
    for key in (
        "ElementSpacing",
        "ElementSize",
        "Offset",
        "Position",
        "Origin",
        "CenterOfRotation",
    ):
        if key in fields:
            _floats(path, key, fields[key].split(), dim)
    for key in ("TransformMatrix", "Rotation", "Orientation"):
        if key in fields:
            _floats(path, key, fields[key].split(), dim * dim)
    if "ObjectType" in fields and fields["ObjectType"] != "Image":
        raise _bad(path, f"'ObjectType' is {_cut(fields['ObjectType'])}, not Image")
    for key in ("BinaryDataByteOrderMSB", "ElementByteOrderMSB"):
        _meta_bool(path, fields, key)


def metaimage_declaration(path: Path) -> DataDeclaration:
    """Parse and check a MetaImage header (``.mha`` or ``.mhd``): what data it declares, where.

    Raises
    ------
    VolumeFormatError
        For a header that breaks one of the rules of the module docstring.
    """
    lines, ends, _ = _header_lines(path, end_at_blank=False)
    fields, rest, nlines = _meta_fields(path, lines)
    for key in ("NDims", "DimSize", "ElementType"):
        if key not in fields:
            raise _bad(path, f"its MetaImage header has no '{key}' field, which is required")
    dim = _int(path, "NDims", fields["NDims"], 1, MAX_DIMS)
    sizes = _ints(path, "DimSize", fields["DimSize"], dim, 1)
    etype = fields["ElementType"]
    if etype not in _MET_TYPES:
        raise _bad(
            path,
            f"'ElementType' {_cut(etype)} is no MetaImage scalar type "
            "(MET_UCHAR, MET_SHORT, MET_FLOAT, ...)",
        )
    channels = _int(
        path, "ElementNumberOfChannels", fields.get("ElementNumberOfChannels", "1"), 1, 1024
    )
    _meta_geometry(path, fields, dim)
    compressed = _meta_bool(path, fields, "CompressedData")
    binary = _meta_bool(path, fields, "BinaryData") if "BinaryData" in fields else True
    skip = _int(path, "HeaderSize", fields.get("HeaderSize", "0"), -1, 1 << 40)
    if compressed and (not binary or skip == -1):
        raise _bad(
            path,
            "'CompressedData = True' needs binary data at a known place "
            "(BinaryData = True, HeaderSize not -1)",
        )
    value = fields["ElementDataFile"]
    stream: int | None = None
    if "CompressedDataSize" in fields:
        stream = _int(path, "CompressedDataSize", fields["CompressedDataSize"], 1, 1 << 50)
    if compressed and value == "LOCAL" and stream is None:
        raise _bad(
            path,
            "'CompressedData = True' with the data in the file (LOCAL) needs "
            "'CompressedDataSize', without which the data is not read",
            "Fix: add 'CompressedDataSize = <bytes of compressed data>' to the header.",
        )
    if value == "LOCAL":
        offset = ends[nlines - 1]
        files: tuple[tuple[Path, int], ...] = ((path, -1 if skip == -1 else offset + skip),)
    else:
        found = _data_files(path, value, rest, "ElementDataFile")
        files = tuple((f, skip) for f in found)
    if compressed and stream is not None:
        _check_stream_size(path, stream, files)
    encoding = "zlib" if compressed else ("raw" if binary else "ascii")
    said = "True" if compressed else "False"
    return DataDeclaration(
        path,
        files,
        encoding,
        math.prod(sizes) * channels,
        _MET_TYPES[etype],
        f"DimSize {' x '.join(map(str, sizes))} of {etype}"
        + (f" x {channels} channels" if channels > 1 else ""),
        f"the data is truncated, its header is damaged, or 'CompressedData = {said}' is not "
        "how the data is stored; export the file again.",
        stream if compressed else None,
    )


def _check_stream_size(path: Path, stream: int, files: tuple[tuple[Path, int], ...]) -> None:
    """Refuse a ``CompressedDataSize`` larger than the data the file(s) hold: SimpleITK
    allocates that many bytes before it reads them."""
    held = 0
    for f, offset in files:
        try:
            size = os.stat(f).st_size
        except OSError:
            return  # the data file's own check names what is wrong with it
        held += max(0, size - max(offset, 0))
    if stream > held:
        raise _bad(
            path,
            f"'CompressedDataSize' is {stream:,} bytes, but the file holds only {held:,} bytes "
            "of data: the data ends early, or the size is wrong",
            "Fix: export the file again (or correct 'CompressedDataSize').",
        )


def check_itk_header(path: Path, fmt: str, limits: Limits) -> DataDeclaration:
    """Check an NRRD (``fmt="nrrd"``) or MetaImage header and its data before SimpleITK reads
    the file; return what it declares.

    Raises
    ------
    VolumeFormatError
        For a malformed header, a data file outside the header's folder or not a regular file,
        data that holds less than declared or is damaged.
    ResourceLimitError
        For declared voxels over the memory budget.
    """
    decl = nrrd_declaration(path) if fmt == "nrrd" else metaimage_declaration(path)
    check_data(decl, limits)
    return decl
