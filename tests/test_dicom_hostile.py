"""Hostile DICOM input: every damaged file is left out with its reason or refused in one line.

Each test builds its damaged input in ``tmp_path`` from a good synthetic series (the raw bytes
of one element are rewritten, so that pydicom's own checks on writing are not in the way) and
checks that ivcviewer answers with its own words: the file named, the rule broken and, for a
refusal, ``Fix:``; never a library's exception, never a traceback, never a raw warning, and the
input left as it was.
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

import pytest
from _dicom_factory import axial_volume, write_volume
from pydicom import uid as pduid
from pydicom.datadict import tag_for_keyword

from ivcviewer.cli.main import main
from ivcviewer.dicom import load_dicom, scan
from ivcviewer.errors import DicomSeriesError, IvcviewerError, NoSeriesFoundError
from ivcviewer.report import ValidationMode

#: Explicit-VR value representations written with a 4-byte length.
_LONG_VRS = {b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN", b"OD", b"OL", b"OV", b"UC", b"UR"}


def _element_at(data: bytes, tag: int, start: int) -> int:
    key = struct.pack("<HH", tag >> 16, tag & 0xFFFF)
    i = data.find(key, start)
    while i >= 0 and not (data[i + 4 : i + 6].isalpha() and data[i + 4 : i + 6].isupper()):
        i = data.find(key, i + 1)
    if i < 0:
        raise KeyError(hex(tag))
    return i


def _element_end(data: bytes, i: int) -> int:
    if data[i + 4 : i + 6] in _LONG_VRS:
        return i + 12 + int.from_bytes(data[i + 8 : i + 12], "little")
    return i + 8 + int.from_bytes(data[i + 6 : i + 8], "little")


def patch_element(path: Path, keyword: str, value: bytes, vr: bytes | None = None) -> None:
    """Rewrite one element of an explicit-VR little-endian file with raw ``value`` bytes.

    The file meta group's length is kept consistent; nothing else is checked, which is the
    point: the result is what a damaged or hostile file holds.
    """
    tag = int(tag_for_keyword(keyword) or 0)
    data = path.read_bytes()
    i = _element_at(data, tag, 132)
    end = _element_end(data, i)
    vr = vr or data[i + 4 : i + 6]
    if len(value) % 2:
        value += b"\0" if vr in (b"UI", b"OB") else b" "
    if vr in _LONG_VRS:
        head = data[i : i + 4] + vr + b"\0\0" + len(value).to_bytes(4, "little")
    else:
        head = data[i : i + 4] + vr + len(value).to_bytes(2, "little")
    new = data[:i] + head + value + data[end:]
    if tag >> 16 == 2:
        gl = _element_at(new, 0x00020000, 128)
        j = gl + 12
        while new[j : j + 2] == b"\x02\x00":
            j = _element_end(new, j)
        new = new[: gl + 8] + (j - gl - 12).to_bytes(4, "little") + new[gl + 12 :]
    path.write_bytes(new)


def digest(root: Path) -> dict[str, str]:
    """Content hash of every regular file under ``root`` (to show an input is unchanged)."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            if p.is_file() and not p.is_symlink():
                out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line(err: str, *words: str) -> str:
    """stderr is exactly one ``ivcviewer: error:`` line holding ``words``; return it."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ivcviewer: error: "), err
    assert "Traceback" not in err
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


@pytest.fixture
def series(tmp_path: Path) -> list[Path]:
    """A good 4-slice uncompressed CT series (explicit VR little endian)."""
    return write_volume(tmp_path / "ct", axial_volume(n=4), seed="hostile")


# ------------------------------------------------------------------ malformed header values

#: (element, raw value, words of the reason) for values no grid or series can be built from.
MALFORMED = {
    "position_two_values": ("ImagePositionPatient", b"1\\2", "ImagePositionPatient"),
    "position_text": ("ImagePositionPatient", b"abc\\def\\ghi", "ImagePositionPatient"),
    "position_nan": ("ImagePositionPatient", b"nan\\0\\0", "finite"),
    "orientation_text": ("ImageOrientationPatient", b"1\\0\\0\\0\\x\\0", "ImageOrientation"),
    "orientation_nan": ("ImageOrientationPatient", b"1\\0\\0\\0\\nan\\0", "finite"),
    "spacing_zero": ("PixelSpacing", b"0\\0", "positive"),
    "spacing_negative": ("PixelSpacing", b"-1\\0.5", "positive"),
    "spacing_nan": ("PixelSpacing", b"nan\\0.5", "finite"),
    "spacing_inf": ("PixelSpacing", b"inf\\0.5", "finite"),
    "series_uid_text": ("SeriesInstanceUID", b"hello world!", "not a UID"),
    "series_uid_bytes": ("SeriesInstanceUID", b"\xff\xfe1.2", "not a UID"),
    "syntax_not_uid": ("TransferSyntaxUID", b"not a uid", "no known transfer syntax"),
    "syntax_unknown": ("TransferSyntaxUID", b"1.2.3.4.5", "no known transfer syntax"),
    "syntax_deflated_not_deflate": (
        "TransferSyntaxUID",
        str(pduid.DeflatedExplicitVRLittleEndian).encode(),
        "not deflate data",
    ),
    "vr_unknown": ("SeriesDescription", b"abcd", "Value Representation"),
    "rows_zero": ("Rows", b"\0\0", "at least one pixel"),
    "bits_allocated_0": ("BitsAllocated", b"\0\0", "BitsAllocated 0"),
    "bits_allocated_7": ("BitsAllocated", b"\x07\0", "BitsAllocated 7"),
    "bits_allocated_64": ("BitsAllocated", b"\x40\0", "BitsAllocated 64"),
    "samples_per_pixel_0": ("SamplesPerPixel", b"\0\0", "SamplesPerPixel 0"),
    "rows_columns_65535": ("Rows", b"\xff\xff", "65535"),
}


def _damage(path: Path, case: str) -> None:
    keyword, value, _words = MALFORMED[case]
    vr = b"ZZ" if case == "vr_unknown" else None
    patch_element(path, keyword, value, vr)
    if case == "rows_columns_65535":
        patch_element(path, "Columns", b"\xff\xff")


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_value_leaves_the_file_out_with_its_reason(
    series: list[Path], case: str, recwarn: pytest.WarningsRecorder
) -> None:
    _damage(series[0], case)
    result = scan(series[0].parent)
    assert [s.n_images for s in result.series] == [3]
    (skipped,) = result.skipped
    assert skipped.path == series[0]
    assert str(skipped.code) == "unreadable_file"
    assert MALFORMED[case][2] in skipped.reason
    assert not [w for w in recwarn.list if "pydicom" in str(w.filename)]


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_series_is_refused_in_one_line(
    series: list[Path], case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = series[0].parent
    for p in series:
        _damage(p, case)
    before = digest(folder)
    with pytest.raises(NoSeriesFoundError) as info:
        load_dicom(folder)
    assert "CT0001.dcm" in str(info.value) and MALFORMED[case][2] in str(info.value)
    assert "Fix:" in str(info.value)
    rc, out, err = run_cli(capsys, "info", str(folder))
    assert rc == 2 and out == ""
    assert_one_line(err, str(folder))
    assert digest(folder) == before
