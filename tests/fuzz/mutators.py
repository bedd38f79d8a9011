"""Seeded mutations of one input file: bytes, DICOM elements, NIfTI fields, header lines, text.

Every mutator takes a ``random.Random`` and a path, rewrites the file in place (it is always a
copy inside a case folder) and returns a short description of what it did, so that a failing
case can be read and replayed. A mutator that marks its input as one that must be refused
returns a description starting with ``"!"`` (for example a gzip stream whose check fails).
"""

from __future__ import annotations

import gzip
import json
import random
import re
import struct
import zlib
from pathlib import Path

# --------------------------------------------------------------------------------------------
# bytes


def flip_bytes(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """Flip random bits in 1 to 16 random bytes."""
    if not data:
        return b"\x00", "flip: empty file given one NUL byte"
    buf = bytearray(data)
    count = rng.randint(1, 16)
    for _ in range(count):
        i = rng.randrange(len(buf))
        buf[i] ^= 1 << rng.randrange(8)
    return bytes(buf), f"flip {count} bytes"


def truncate(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """Cut the file at a random point (sometimes near the end, sometimes to nothing)."""
    n = len(data)
    at = rng.choice([0, rng.randrange(max(n, 1)), max(n - rng.randint(1, 64), 0), n // 2])
    return data[:at], f"truncate {n} -> {at} bytes"


def duplicate_chunk(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """Repeat a random chunk in place (1 to 8 times)."""
    if not data:
        return data, "duplicate: empty"
    i = rng.randrange(len(data))
    size = rng.randint(1, min(4096, len(data) - i))
    times = rng.randint(1, 8)
    return data[: i + size] + data[i : i + size] * times + data[i + size :], (
        f"duplicate {size} bytes at {i} x{times}"
    )


def remove_chunk(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """Remove a random chunk."""
    if not data:
        return data, "remove: empty"
    i = rng.randrange(len(data))
    size = rng.randint(1, min(4096, len(data) - i))
    return data[:i] + data[i + size :], f"remove {size} bytes at {i}"


def insert_garbage(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """Insert random bytes, or a run of 0xFF, at a random point."""
    i = rng.randrange(len(data) + 1)
    size = rng.randint(1, 512)
    junk = bytes(rng.getrandbits(8) for _ in range(size)) if rng.random() < 0.5 else b"\xff" * size
    return data[:i] + junk + data[i:], f"insert {size} bytes at {i}"


BYTE_MUTATORS = (flip_bytes, truncate, duplicate_chunk, remove_chunk, insert_garbage)


def mutate_bytes(rng: random.Random, path: Path) -> str:
    """One byte-level mutation of ``path``; a ``.gz`` file whose gzip check then fails is marked."""
    data = path.read_bytes()
    new, what = rng.choice(BYTE_MUTATORS)(rng, data)
    path.write_bytes(new)
    if path.name.endswith(".gz") and not _gzip_ok(new):
        return f"!{what} (gzip stream no longer valid: must be refused)"
    return what


def _gzip_ok(data: bytes) -> bool:
    try:
        gzip.decompress(data)
    except (OSError, EOFError, zlib.error):
        return False
    return True


def gzip_trailer(rng: random.Random, path: Path) -> str:
    """Damage the CRC or length of a gzip trailer: the data decode, the check fails."""
    data = bytearray(path.read_bytes())
    i = len(data) - rng.randint(1, 8)
    data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    return "!gzip trailer byte flipped (check fails: must be refused)"


def gzip_inner(rng: random.Random, path: Path, inner: object) -> str:
    """Decompress, apply ``inner(rng, path)`` to the plain bytes, compress again (valid gzip)."""
    plain = path.with_name(path.name + ".plain")
    plain.write_bytes(gzip.decompress(path.read_bytes()))
    what = inner(rng, plain)  # type: ignore[operator]
    path.write_bytes(gzip.compress(plain.read_bytes(), compresslevel=1, mtime=0))
    plain.unlink()
    return f"inside gzip: {what}"


# --------------------------------------------------------------------------------------------
# DICOM: elements patched in the byte stream (no library rewrites the rest of the file)

_TS = {
    "garbage": b"not.a.uid!",
    "unknown": b"1.2.3.4.5.6.7",
    "empty": b"",
    "implicit": b"1.2.840.10008.1.2",
    "big endian": b"1.2.840.10008.1.2.2",
    "deflated": b"1.2.840.10008.1.2.1.99",
    "jpeg baseline": b"1.2.840.10008.1.2.4.50",
    "jpeg lossless": b"1.2.840.10008.1.2.4.70",
    "jpeg-ls": b"1.2.840.10008.1.2.4.80",
    "jpeg 2000": b"1.2.840.10008.1.2.4.90",
    "rle": b"1.2.840.10008.1.2.5",
}

_US = "<H"
#: (tag, VR, candidate values): values are bytes, or ints packed as the VR says.
DICOM_EDITS: tuple[tuple[int, str, tuple[object, ...]], ...] = (
    (0x00280010, "US", (0, 1, 65535, 32768)),  # Rows
    (0x00280011, "US", (0, 1, 65535, 32768)),  # Columns
    (0x00280100, "US", (0, 1, 7, 12, 24, 64, 65535)),  # BitsAllocated
    (0x00280101, "US", (0, 17, 64, 65535)),  # BitsStored
    (0x00280102, "US", (99, 65535)),  # HighBit
    (0x00280103, "US", (2, 65535)),  # PixelRepresentation
    (0x00280002, "US", (0, 3, 4, 65535)),  # SamplesPerPixel
    (0x00280004, "CS", (b"RGB ", b"YBR_FULL", b"FOO ", b"")),  # PhotometricInterpretation
    (0x00280008, "IS", (b"1000000 ", b"0 ", b"-1", b"abc ", b"1e9 ", b"99999999")),  # Frames
    (0x00200032, "DS", (b"a\\b\\c ", b"1\\2", b"nan\\inf\\1", b"1e308\\1e308\\1e308 ", b"")),
    (0x00200037, "DS", (b"0\\0\\0\\0\\0\\0 ", b"1\\0\\0\\1\\0 ", b"1\\0\\0\\1\\0\\0", b"x\\y ")),
    (0x00280030, "DS", (b"0\\0 ", b"-1\\1", b"nan\\1 ", b"1e-300\\1 ", b"abc ", b"1 ")),
    (0x00180050, "DS", (b"x ", b"-5", b"0 ", b"1e308 ")),  # SliceThickness
    (0x00281053, "DS", (b"nan ", b"1e308 ", b"0 ", b"x ")),  # RescaleSlope
    (0x00281052, "DS", (b"-1e308", b"inf ", b"x ")),  # RescaleIntercept
    (0x0020000E, "UI", (b"1.2.abc.3 ", b"", b"1" * 64, b"..", b"1.2.3\x00\x00\x00")),  # Series
    (0x0020000D, "UI", (b"not-a-uid ", b"")),  # StudyInstanceUID
    (0x00080018, "UI", (b"1..2", b"x" * 70)),  # SOPInstanceUID
    (0x00080016, "UI", (b"1.2.840.10008.5.1.4.1.1.66.4", b"9.9 ", b"")),  # SOPClassUID
    (0x00200013, "IS", (b"abc ", b"-99999999", b"")),  # InstanceNumber
    (0x00080060, "CS", (b"MR", b"", b"\xff\xfe")),  # Modality
)


def _find_element(data: bytes, tag: int, start: int = 0) -> tuple[int, int, int, bool] | None:
    """(offset, header length, value length, explicit) of the first ``tag``, or None."""
    key = struct.pack("<HH", tag >> 16, tag & 0xFFFF)
    i = data.find(key, start)
    while i >= 0:
        vr = data[i + 4 : i + 6]
        if re.fullmatch(rb"[A-Z]{2}", vr):
            if vr in (b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN", b"OD", b"OL", b"UC", b"UR"):
                (length,) = struct.unpack_from("<I", data, i + 8)
                return i, 12, length, True
            (length,) = struct.unpack_from("<H", data, i + 6)
            return i, 8, length, True
        if len(data) >= i + 8:
            (length,) = struct.unpack_from("<I", data, i + 4)
            if length < len(data):
                return i, 8, length, False
        i = data.find(key, i + 1)
    return None


def patch_element(data: bytes, tag: int, value: bytes | None, start: int = 132) -> bytes | None:
    """``data`` with the value of ``tag`` replaced (None removes the element); None if absent."""
    found = _find_element(data, tag, start)
    if found is None:
        return None
    i, head, length, explicit = found
    end = i + head + length
    if value is None:
        return data[:i] + data[end:]
    if len(value) % 2:
        value += b" "
    if explicit and head == 8:
        if len(value) > 0xFFFF:
            value = value[:0xFFFE]
        header = data[i : i + 6] + struct.pack("<H", len(value))
    elif explicit:
        header = data[i : i + 8] + struct.pack("<I", len(value))
    else:
        header = data[i : i + 4] + struct.pack("<I", len(value))
    return data[:i] + header + value + data[end:]


def _set_meta_ts(data: bytes, uid: bytes) -> bytes | None:
    found = _find_element(data, 0x00020010, 132)
    if found is None:
        return None
    old = found[2]
    new = patch_element(data, 0x00020010, uid, 132)
    if new is None:
        return None
    delta = (len(uid) + len(uid) % 2) - old
    glen = _find_element(new, 0x00020000, 132)
    if glen is not None and glen[3] and glen[2] == 4:
        at = glen[0] + glen[1]
        (value,) = struct.unpack_from("<I", new, at)
        new = new[:at] + struct.pack("<I", max(value + delta, 0)) + new[at + 4 :]
    return new


def _encapsulated(rng: random.Random, kind: str) -> bytes:
    """An encapsulated Pixel Data element whose fragments are broken in one way."""
    item = struct.pack("<HH", 0xFFFE, 0xE000)
    starts = {
        "jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
        "j2k": b"\xff\x4f\xff\x51\x00\x29\x00\x00",
        "junk": b"\x00\x01\x02\x03",
    }
    frag = starts[rng.choice(list(starts))] + bytes(rng.getrandbits(8) for _ in range(256))
    if len(frag) % 2:
        frag += b"\x00"
    if kind == "bad offset table":
        bot = item + struct.pack("<I", 6) + b"\x01\x00\x00\x00\x02\x00"
    elif kind == "offset past end":
        bot = item + struct.pack("<I", 4) + struct.pack("<I", 1 << 30)
    else:
        bot = item + struct.pack("<I", 0)
    body = bot + item + struct.pack("<I", len(frag)) + frag
    if kind != "no delimiter":
        body += struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    head = struct.pack("<HH", 0x7FE0, 0x0010) + b"OB\x00\x00" + struct.pack("<I", 0xFFFFFFFF)
    return head + body


def mutate_dicom(rng: random.Random, path: Path) -> str:
    """One DICOM element edit: an absurd or malformed value, a missing element, a transfer syntax
    that is not one, or broken encapsulated pixel data."""
    data = path.read_bytes()
    if data[128:132] != b"DICM":
        return mutate_bytes(rng, path)
    roll = rng.random()
    if roll < 0.2:
        name = rng.choice(list(_TS))
        new = _set_meta_ts(data, _TS[name])
        what = f"TransferSyntaxUID -> {name} ({_TS[name]!r})"
        if name in ("garbage", "unknown", "empty"):
            what = "!" + what + " (names no transfer syntax: must be refused)"
    elif roll < 0.32:
        kind = rng.choice(
            ["empty offset table", "bad offset table", "offset past end", "no delimiter"]
        )
        found = _find_element(data, 0x7FE00010, 132)
        syntax = rng.choice(["jpeg baseline", "jpeg 2000", "rle", "jpeg-ls", "jpeg lossless"])
        new = None
        if found is not None:
            new = _set_meta_ts(data[: found[0]] + _encapsulated(rng, kind), _TS[syntax])
        what = f"pixel data encapsulated as {syntax}, {kind}, damaged fragment"
    elif roll < 0.42:
        tag = rng.choice([t for t, _, _ in DICOM_EDITS] + [0x7FE00010])
        new = patch_element(data, tag, None)
        what = f"element ({tag >> 16:04X},{tag & 0xFFFF:04X}) removed"
    else:
        tag, vr, values = rng.choice(DICOM_EDITS)
        value = rng.choice(values)
        raw = struct.pack(_US, value) if isinstance(value, int) else bytes(value)  # type: ignore[arg-type]
        new = patch_element(data, tag, raw)
        what = f"({tag >> 16:04X},{tag & 0xFFFF:04X}) {vr} -> {value!r}"
    if new is None:
        return mutate_bytes(rng, path)
    path.write_bytes(new)
    return what


# --------------------------------------------------------------------------------------------
# NIfTI header fields (NIfTI-1: 348 bytes; NIfTI-2: 540 bytes)

_N1 = {  # field: (offset, struct code, candidate values)
    "sizeof_hdr": (0, "i", (0, 347, 540, 1234, -1)),
    "dim[0]": (40, "h", (0, -1, 8, 9, 1)),
    "dim[1]": (42, "h", (0, -1, 32767, 1)),
    "dim[2]": (44, "h", (0, -1, 32767)),
    "dim[3]": (46, "h", (0, -1, 32767, 2)),
    "dim[4]": (48, "h", (0, 32767, -5)),
    "datatype": (70, "h", (0, 3, 128, 255, 1536, 2304, 32767)),
    "bitpix": (72, "h", (0, 7, 128, -8)),
    "pixdim[0]": (76, "f", (0.0, 2.0, -1.0, float("nan"))),
    "pixdim[1]": (80, "f", (0.0, -1.0, float("nan"), float("inf"), 1e30, 1e-30)),
    "pixdim[3]": (88, "f", (0.0, -2.5, float("nan"), 1e38)),
    "vox_offset": (108, "f", (-1.0, 1e12, 0.0, 349.0, float("nan"))),
    "scl_slope": (112, "f", (float("nan"), float("inf"), 0.0, 1e38)),
    "xyzt_units": (123, "B", (0, 7, 13, 99, 255)),
    "qform_code": (252, "h", (5, -1, 255, 0)),
    "sform_code": (254, "h", (5, -1, 255, 0)),
    "quatern_b": (256, "f", (2.0, float("nan"), -7.0)),
    "quatern_c": (260, "f", (1.5, float("inf"))),
    "qoffset_x": (268, "f", (float("nan"), 1e38)),
    "srow_x[0]": (280, "f", (0.0, float("nan"), 1e38)),
    "magic": (344, "4s", (b"n+2\x00", b"ni1\x00", b"\x00\x00\x00\x00", b"xxxx")),
}
_N2 = {
    "sizeof_hdr": (0, "i", (348, 0, 541)),
    "datatype": (12, "h", (0, 255, 32767)),
    "dim[0]": (16, "q", (0, -1, 8)),
    "dim[1]": (24, "q", (0, -1, 1 << 20, 1 << 40)),
    "dim[3]": (40, "q", (1 << 33, 1 << 31, -3, 0)),
    "pixdim[1]": (112, "d", (0.0, float("nan"), -1.0)),
    "vox_offset": (168, "q", (-1, 1 << 50, 0)),
    "xyzt_units": (500, "i", (99, -1)),
    "qform_code": (344, "i", (7, -1)),
}
#: NIfTI-2 values that make the header declare a volume far larger than the file.
_N2_HUGE = ("dim[1]", "dim[3]")


def mutate_nifti(rng: random.Random, path: Path) -> str:
    """Set one header field of a NIfTI file (plain or gzipped) to a bad value."""
    if path.name.endswith(".gz"):
        return gzip_inner(rng, path, mutate_nifti)
    data = bytearray(path.read_bytes())
    if len(data) < 348:
        return mutate_bytes(rng, path)
    little = struct.unpack_from("<i", data, 0)[0] in (348, 540)
    two = struct.unpack_from("<i" if little else ">i", data, 0)[0] == 540
    fields = _N2 if two else _N1
    name = rng.choice(list(fields))
    offset, code, values = fields[name]
    value = rng.choice(values)
    struct.pack_into(("<" if little else ">") + code, data, offset, value)
    path.write_bytes(bytes(data))
    what = f"NIfTI-{'2' if two else '1'} {name} -> {value!r}"
    if two and name in _N2_HUGE and isinstance(value, int) and value > (1 << 30):
        return "!" + what + " (declares more voxels than the file holds: must be refused)"
    return what


# --------------------------------------------------------------------------------------------
# NRRD and MetaImage header lines

NRRD_FIELDS: dict[str, tuple[str, ...]] = {
    "dimension": ("0", "17", "-1", "x", "3 3"),
    "sizes": ("65535 65535 65535", "0 1 1", "-1 2 2", "a b c", "2 2", "1 1 1 1 1", "1e9 1e9 1e9"),
    "type": ("int128", "block", "garbage", "double", "uchar"),
    "encoding": ("raw", "gzip", "bzip2", "hex", "ascii", "foo", "text"),
    "endian": ("middle", "big", ""),
    "space directions": (
        "(nan,0,0) (0,1,0) (0,0,1)",
        "none none none",
        "(1,0) (0,1) (0,0)",
        "(0,0,0) (0,0,0) (0,0,0)",
        "garbage",
    ),
    "space origin": ("(nan,nan,nan)", "(1,2)", "x"),
    "space": ("klingon", "left-posterior-superior", ""),
    "byte skip": ("-1", "1000000000000", "x"),
    "line skip": ("-1", "99999999"),
    "kinds": ("domain domain", "RGBA-color domain domain", "foo foo foo"),
    "data file": (
        "../secret.raw",
        "@ABS@",
        "missing.raw",
        "fifo.raw",
        "/dev/zero",
        "LIST",
        "slice%03d.raw 0 2 1",
        ".",
    ),
}

MHA_FIELDS: dict[str, tuple[str, ...]] = {
    "NDims": ("0", "10", "-1", "x", "2"),
    "DimSize": ("65535 65535 65535", "0 0 0", "-1 5 5", "3 3", "4294967295 2 2", "a b c"),
    "ElementType": ("MET_FOO", "MET_DOUBLE", "MET_UCHAR", "MET_OTHER", ""),
    "ElementDataFile": (
        "../secret.raw",
        "@ABS@",
        "missing.raw",
        "fifo.raw",
        "/dev/zero",
        "LIST",
        "LOCAL",
        "slice%d.raw 0 2 1",
    ),
    "CompressedData": ("True", "False", "maybe"),
    "CompressedDataSize": ("0", "99999999999", "-1"),
    "ElementSpacing": ("0 0 0", "nan nan nan", "-1 1 1", "1", "x y z"),
    "TransformMatrix": ("1 0 0 0 1 0", "nan 0 0 0 1 0 0 0 1", "0 0 0 0 0 0 0 0 0"),
    "Offset": ("x y z", "1e308 1e308 1e308", "nan 0 0"),
    "HeaderSize": ("-1", "99999999999", "1"),
    "BinaryDataByteOrderMSB": ("True", "maybe"),
    "ElementNumberOfChannels": ("0", "1000", "-1"),
    "ObjectType": ("Mesh", ""),
}


def split_header(data: bytes, kind: str) -> tuple[list[str], bytes]:
    """The header lines and the bytes after them (the attached data) of an NRRD or MetaImage."""
    if kind == "nrrd":
        end = data.find(b"\n\n")
        head, rest = (data, b"") if end < 0 else (data[:end], data[end + 2 :])
    else:
        m = re.search(rb"ElementDataFile\s*=[^\n]*\n", data)
        head, rest = (data, b"") if m is None else (data[: m.end() - 1], data[m.end() :])
    return head.decode("latin-1").split("\n"), rest


def join_header(lines: list[str], rest: bytes, kind: str) -> bytes:
    """Inverse of :func:`split_header`."""
    text = "\n".join(lines).encode("latin-1")
    if kind == "nrrd":
        return text + (b"\n\n" + rest if rest or not text.endswith(b"\n") else b"")
    return text + b"\n" + rest


def _key(line: str, kind: str) -> str:
    sep = ":" if kind == "nrrd" else "="
    return line.split(sep, 1)[0].strip() if sep in line else ""


def mutate_header(rng: random.Random, path: Path, kind: str) -> str:
    """Edit one header line of an NRRD (``kind="nrrd"``) or MetaImage (``kind="mha"``) file:
    a bad value, a removed or repeated line, a wrong magic, a very long line, or the data bytes."""
    data = path.read_bytes()
    lines, rest = split_header(data, kind)
    fields = NRRD_FIELDS if kind == "nrrd" else MHA_FIELDS
    sep = ": " if kind == "nrrd" else " = "
    roll = rng.random()
    must_refuse = False
    if roll < 0.55:
        name = rng.choice(list(fields))
        value = rng.choice(fields[name])
        if value == "@ABS@":
            value = str((path.parent.parent / "secret.raw").resolve())
        must_refuse = value.startswith(("../", "/")) and name.lower().replace(" ", "") in (
            "datafile",
            "elementdatafile",
        )
        if (
            name == "CompressedData"
            and value == "True"
            and "CompressedDataSize" not in data.decode("latin-1", "replace")
        ):
            must_refuse = True
        idx = [i for i, line in enumerate(lines) if _key(line, kind).lower() == name.lower()]
        line = f"{name}{sep}{value}"
        if idx:
            lines[idx[0]] = line
        elif kind == "nrrd":
            lines.insert(rng.randint(1, len(lines)), line)
        else:
            lines.insert(max(len(lines) - 1, 0), line)
        what = f"header {name!r} -> {value!r}"
    elif roll < 0.65:
        keyed = [i for i, line in enumerate(lines) if _key(line, kind)]
        if not keyed:
            return mutate_bytes(rng, path)
        i = rng.choice(keyed)
        what = f"header line {lines[i][:40]!r} removed"
        del lines[i]
    elif roll < 0.72:
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
        what = f"header line {lines[i][:40]!r} repeated"
    elif roll < 0.78 and kind == "nrrd":
        lines[0] = rng.choice(["NRRD0009", "NRRD", "NRRD0004\x00", "nrrd0004"])
        what = f"magic -> {lines[0]!r}"
    elif roll < 0.84:
        i = rng.randint(1, len(lines) - 1) if len(lines) > 1 else 0
        lines.insert(i, "# " + "x" * rng.choice([10_000, 1_000_000]))
        what = "very long comment line"
    elif rest:
        new_rest, what = rng.choice(BYTE_MUTATORS)(rng, rest)
        rest = new_rest
        what = "data bytes: " + what
    else:
        return mutate_bytes(rng, path)
    path.write_bytes(join_header(lines, rest, kind))
    return ("!" + what + " (must be refused)") if must_refuse else what


# --------------------------------------------------------------------------------------------
# YAML and JSON documents

WRONG_VALUES: tuple[object, ...] = (
    [],
    {},
    [[1, 2], [3]],
    {"a": {"b": None}},
    0,
    -1,
    2**63,
    1e308,
    True,
    None,
    "",
    "x" * 100_000,
    "1e999",
    "../../etc/passwd",
    "/dev/zero",
)


def _paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, prefix + (i,))
    return out


def _replace(node: object, path: tuple[object, ...], value: object) -> None:
    for key in path[:-1]:
        node = node[key]  # type: ignore[index]
    node[path[-1]] = value  # type: ignore[index]


def wrong_type(rng: random.Random, doc: object) -> tuple[object, str]:
    """Replace one random node of a parsed document with a value of another type."""
    paths = _paths(doc)
    if not paths:
        return rng.choice(WRONG_VALUES), "whole document replaced"
    where = rng.choice(paths)
    value = rng.choice(WRONG_VALUES)
    _replace(doc, where, value)
    shown = repr(value) if len(repr(value)) < 40 else f"<{type(value).__name__} of {len(value)}>"  # type: ignore[arg-type]
    return doc, f"{'/'.join(map(str, where))} -> {shown}"


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """A small YAML document whose aliases expand to ``width ** levels`` items."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * width)
        lines.append(f"a{i}: &a{i} [{refs}]")
    lines.append(f"case: {{id: *a{levels - 1}}}")
    return "\n".join(lines) + "\n"


def mutate_text(rng: random.Random, path: Path, kind: str) -> str:
    """One mutation of a YAML (``kind="yaml"``) or JSON document."""
    import yaml

    text = path.read_text(encoding="utf-8")
    roll = rng.random()
    if roll < 0.3:
        doc = yaml.safe_load(text) if kind == "yaml" else json.loads(text)
        doc, what = wrong_type(rng, doc)
        out = yaml.safe_dump(doc, sort_keys=False) if kind == "yaml" else json.dumps(doc)
        path.write_text(out, encoding="utf-8")
        return "wrong type: " + what
    if roll < 0.4:
        depth = rng.choice([200, 5_000, 100_000])
        if kind == "yaml" and rng.random() < 0.5:
            body = (
                "".join(" " * i + "a:\n" for i in range(min(depth, 3000))) + " " * 3000 + "b: 1\n"
            )
        else:
            body = "[" * depth + "]" * depth
        path.write_text(body, encoding="utf-8")
        return f"nested {depth} levels deep"
    if roll < 0.46 and kind == "yaml":
        path.write_text(alias_bomb(), encoding="utf-8")
        return "YAML alias bomb (9**9 items)"
    if roll < 0.52 and kind == "yaml":
        extra = rng.choice(["? [a, b]\n: 1\n", "? {a: 1}\n: 2\n"])
        path.write_text(text + extra, encoding="utf-8")
        return f"unhashable key {extra.splitlines()[0]!r}"
    if roll < 0.56 and kind == "yaml":
        marker = path.parent / "CODE_RAN"
        path.write_text(
            text + f"evil: !!python/object/apply:os.system ['touch {marker}']\n", encoding="utf-8"
        )
        return "python tag that would run code"
    if roll < 0.62:
        size = rng.choice([1 << 20, 17 << 20])
        pad = "# " + "x" * size if kind == "yaml" else " " * size
        path.write_text(text + "\n" + pad + "\n", encoding="utf-8")
        return f"{size >> 20} MiB of padding"
    if roll < 0.68:
        junk = rng.choice([b"\xff\xfe\x00", b"\x00" * 8, b"\xef\xbb\xbf", b"\x80abc"])
        data = path.read_bytes()
        i = rng.randrange(len(data) + 1)
        path.write_bytes(data[:i] + junk + data[i:])
        return f"bytes {junk!r} inserted at {i}"
    if roll < 0.72 and kind == "json":
        literal = rng.choice(["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
        new = re.sub(r"-?\d+\.\d+", literal, text, count=rng.randint(1, 3))
        path.write_text(new, encoding="utf-8")
        return f"numbers -> {literal}"
    return mutate_bytes(rng, path)


def many_points(path: Path, count: int) -> str:
    """A landmarks file whose IVC centreline has ``count`` points."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    pts = [[-10.0, 10.0, -125.0 + 250.0 * i / count] for i in range(count)]
    doc.setdefault("ivc_centreline", {})["points"] = pts
    path.write_text(json.dumps(doc), encoding="utf-8")
    return f"centreline of {count} points"
