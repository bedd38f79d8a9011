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
import signal
import struct
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from _dicom_factory import axial_volume, dicomdir_referencing, write_volume
from pydicom import uid as pduid
from pydicom.datadict import tag_for_keyword

from ivcviewer.cli.main import main
from ivcviewer.dicom import load_dicom, scan
from ivcviewer.errors import DicomSeriesError, NoSeriesFoundError, ResourceLimitError
from ivcviewer.limits import Limits
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


def test_many_files_left_out_give_a_short_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "ct"
    files = write_volume(folder, axial_volume(n=12), seed="many")
    deflated = str(pduid.DeflatedExplicitVRLittleEndian).encode()
    for p in files[:10]:
        patch_element(p, "TransferSyntaxUID", deflated)
    patch_element(files[10], "PixelSpacing", b"nan\\0.5")
    patch_element(files[11], "Rows", b"\0\0")
    (tmp_path / "ct" / "notes.txt").write_text("x" * 5000)
    before = digest(folder)
    rc, out, err = run_cli(capsys, "info", str(folder))
    assert rc == 2 and out == ""
    assert_one_line(err, str(folder))
    with pytest.raises(NoSeriesFoundError) as info:
        load_dicom(folder)
    line = f"ivcviewer: error: {info.value}"
    assert "\n" not in line and len(line) < 420 + len(str(folder)), line
    assert str(folder) in line and "Fix:" in line
    assert "says deflated" in line and "and 9 other files" in line and "finite" in line
    assert "and 1 more file)" in line
    assert digest(folder) == before


# ------------------------------------------------------------------ damaged pixel data


def _pixel_data_at(path: Path) -> int:
    """Offset of the PixelData element (the last (7FE0,0010) tag in the file)."""
    return path.read_bytes().rfind(b"\xe0\x7f\x10\x00")


def _smash_fragment(path: Path, at: int = 0, n: int = 60) -> None:
    """Overwrite ``n`` bytes of the first frame's fragment (after the offset table)."""
    data = bytearray(path.read_bytes())
    i = _pixel_data_at(path) + 12 + 8 + 8 + at  # element header, empty offset table, item
    data[i : i + n] = b"\xab" * n
    path.write_bytes(bytes(data))


def _break_offset_table(path: Path) -> None:
    data = bytearray(path.read_bytes())
    i = _pixel_data_at(path) + 12
    data[i + 4 : i + 8] = (6).to_bytes(4, "little")  # an offset table must hold 4-byte offsets
    path.write_bytes(bytes(data))


def _cut_end(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-20])  # inside the last fragment: no end delimiter


#: (damage, transfer syntax, words of ivcviewer's reason).
DAMAGED_PIXELS = {
    "j2k_fragment": (_smash_fragment, pduid.JPEG2000Lossless, "JPEG 2000 frame is damaged"),
    "j2k_truncated": (_cut_end, pduid.JPEG2000Lossless, "truncated"),
    "j2k_offset_table": (_break_offset_table, pduid.JPEG2000Lossless, "offset table"),
    "jpegls_fragment": (_smash_fragment, pduid.JPEGLSLossless, "compressed frame is damaged"),
    "rle_fragment": (_smash_fragment, pduid.RLELossless, "compressed frame is damaged"),
}


@pytest.mark.parametrize("case", sorted(DAMAGED_PIXELS))
def test_damaged_compressed_pixel_data_is_refused_in_one_line(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    damage, syntax, words = DAMAGED_PIXELS[case]
    files = write_volume(tmp_path / "ct", axial_volume(n=3), seed=case, transfer_syntax=syntax)
    damage(files[1])
    before = digest(tmp_path / "ct")
    with pytest.raises(DicomSeriesError) as info:
        load_dicom(tmp_path / "ct", workers=1)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{files[1]}: pixel data cannot be decoded: ")
    assert words in message and "Fix:" in message
    out, err = capsys.readouterr()
    assert err == "" and out == ""  # no library warning printed on the way
    assert digest(tmp_path / "ct") == before


def test_uncompressed_data_under_a_compressed_syntax_is_left_out(series: list[Path]) -> None:
    patch_element(series[0], "TransferSyntaxUID", str(pduid.JPEG2000Lossless).encode())
    result = scan(series[0].parent)
    (skipped,) = result.skipped
    assert skipped.path == series[0] and "uncompressed block" in skipped.reason


def test_data_set_encoded_otherwise_than_its_syntax_says_is_left_out(tmp_path: Path) -> None:
    files = write_volume(
        tmp_path / "ct", axial_volume(n=3), seed="vr", transfer_syntax=pduid.ImplicitVRLittleEndian
    )
    patch_element(files[0], "TransferSyntaxUID", str(pduid.ExplicitVRLittleEndian).encode())
    (skipped,) = scan(tmp_path / "ct").skipped
    assert skipped.path == files[0] and "not encoded as its TransferSyntaxUID" in skipped.reason


def test_failing_helper_decode_leaves_no_process_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    psutil = pytest.importorskip("psutil")
    from ivcviewer.dicom import _decode_worker, pixels
    from ivcviewer.dicom import fill as fill_module

    monkeypatch.setattr(pixels, "_imagecodecs_jpeg2k", lambda: False)  # pydicom's decoders
    started: list[int] = []
    original_init = _decode_worker.DecodeWorker.__init__

    def recording_init(self: _decode_worker.DecodeWorker) -> None:
        original_init(self)
        started.append(self._proc.pid)

    monkeypatch.setattr(_decode_worker.DecodeWorker, "__init__", recording_init)
    monkeypatch.setattr(fill_module, "PROCESS_POOL_MIN_PIXELS", 0)
    monkeypatch.setattr(fill_module, "DECODE_CHUNK_PIXELS", 1)
    files = write_volume(
        tmp_path / "ct", axial_volume(n=6), seed="helper", transfer_syntax=pduid.JPEG2000Lossless
    )
    for p in files:
        _smash_fragment(p)
    with pytest.raises(DicomSeriesError, match="pixel data cannot be decoded"):
        load_dicom(tmp_path / "ct", workers=3)
    assert started, "no decoding helper was started"
    alive = {c.pid for c in psutil.Process().children(recursive=True)}
    assert alive.isdisjoint(started)


# ------------------------------------------------------------------ memory bombs


def test_declared_frames_beyond_the_file_are_refused(tmp_path: Path) -> None:
    from _dicom_factory import enhanced_ct_file

    path = enhanced_ct_file(tmp_path / "ct" / "enh.dcm", axial_volume(n=3))
    patch_element(path, "NumberOfFrames", b"1000000")
    (skipped,) = scan(tmp_path / "ct").skipped
    assert skipped.path == path and "1000000" in skipped.reason


def test_series_over_the_memory_budget_is_refused_before_allocating(
    series: list[Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ResourceLimitError) as info:
        load_dicom(series[0].parent, limits=Limits(memory_budget_bytes=4096))
    message = str(info.value)
    assert str(series[0]) in message and "4 slice(s) of 32 x 32 pixels" in message
    assert "memory budget" in message and "Fix:" in message
    monkeypatch.setenv("IVCVIEWER_MEMORY_BUDGET_MB", "1")
    big = write_volume(series[0].parent.parent / "big", axial_volume(n=4, rows=512, cols=512))
    with pytest.raises(ResourceLimitError, match="over the memory budget"):
        load_dicom(big[0].parent)


def test_positions_far_apart_make_no_giant_grid(tmp_path: Path) -> None:
    from _dicom_factory import ramp, write_stack

    write_stack(tmp_path / "ct", ramp(4, 8, 8), [0.0, 2.5, 5.0, 1.0e9], seed="far")
    (info,) = scan(tmp_path / "ct").series
    assert info.shape[0] == 4 and "irregular_spacing" in info.report
    with pytest.raises(ResourceLimitError, match="resampling 4 unevenly spaced slices"):
        load_dicom(tmp_path / "ct", on_irregular=ValidationMode.RESAMPLE)


def test_irregular_series_names_its_folder_and_cuts_absurd_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from _dicom_factory import ramp, write_stack

    folder = tmp_path / "ct"
    write_stack(folder, ramp(4, 8, 8), [0.0, 2.5, 1e300, 1e300], seed="absurd")
    before = digest(folder)
    with pytest.raises(DicomSeriesError) as info:
        load_dicom(folder)
    line = f"ivcviewer: error: {info.value}"
    assert line.startswith(f"ivcviewer: error: {folder}: series "), line
    assert "Duplicate position 1e+300 mm" in line and "Fix:" in line, line
    assert "\n" not in line and len(line) < 500 + len(str(folder)), line
    assert f"{folder}/" not in line  # the files are named within the folder named first
    from _io_factory import write_nifti

    labels = write_nifti(tmp_path / "labels.nii.gz", np.ones((2, 2, 2), dtype=np.uint8))
    rc, out, err = run_cli(capsys, "measure", str(labels), "--ct", str(folder))
    assert rc == 2 and out == ""
    assert_one_line(err, str(folder), "Duplicate position", "Fix:")
    assert digest(folder) == before


# ------------------------------------------------------------------ folder walks


def test_symlink_loop_ends_and_links_out_of_the_input_are_not_followed(
    series: list[Path], tmp_path: Path
) -> None:
    folder = series[0].parent
    outside = write_volume(tmp_path / "elsewhere", axial_volume(n=2), seed="outside")
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    (folder / "sub").mkdir()
    (folder / "sub" / "back").symlink_to(folder / "sub", target_is_directory=True)
    (folder / "out").symlink_to(outside[0].parent, target_is_directory=True)
    (folder / "out.dcm").symlink_to(outside[0])
    before = digest(folder)
    result = scan(folder)
    assert [s.n_images for s in result.series] == [4]
    reasons = {s.path.name: s.reason for s in result.skipped}
    assert "already searched" in reasons["loop"] and "already searched" in reasons["back"]
    assert "outside" in reasons["out"] and "outside" in reasons["out.dcm"]
    assert digest(folder) == before


@pytest.fixture
def no_hang() -> Iterator[None]:
    """Fail (instead of waiting forever) when the test blocks for 30 s, e.g. on a FIFO."""

    def hung(signum: int, frame: object) -> None:
        raise AssertionError("blocked for 30 s (a FIFO or device was opened?)")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(30)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_fifo_in_a_folder_is_never_opened(series: list[Path], no_hang: None) -> None:
    fifo = series[0].parent / "pipe"
    os.mkfifo(fifo)
    result = scan(series[0].parent)
    assert [s.n_images for s in result.series] == [4]
    (skipped,) = result.skipped
    assert skipped.path == fifo and "FIFO" in skipped.reason


def test_fifo_given_directly_is_refused(tmp_path: Path, no_hang: None) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(NoSeriesFoundError, match="FIFO"):
        load_dicom(fifo)


def test_walk_depth_and_entry_limits(series: list[Path], tmp_path: Path) -> None:
    deep = tmp_path / "deep"
    level = deep
    for i in range(5):
        level = level / f"d{i}"
    write_volume(level, axial_volume(n=2), seed="deep")
    result = scan(deep, limits=Limits(max_walk_depth=3))
    assert result.series == []
    (skipped,) = result.skipped
    assert skipped.path == deep / "d0" / "d1" / "d2" / "d3" and "not searched" in skipped.reason
    assert [s.n_images for s in scan(deep).series] == [2]
    with pytest.raises(ResourceLimitError) as info:
        scan(series[0].parent, limits=Limits(max_walk_entries=2))
    assert str(series[0].parent) in str(info.value) and "Fix:" in str(info.value)


# ------------------------------------------------------------------ DICOMDIR


_root_dicomdir = dicomdir_referencing


def test_nested_and_looping_dicomdirs_end(tmp_path: Path) -> None:
    from _dicom_factory import write_dicomdir

    files = write_volume(tmp_path / "src", axial_volume(n=3), seed="nested")
    inner = write_dicomdir(files, tmp_path / "media" / "disc1")
    root = _root_dicomdir(tmp_path / "media", [["DISC1", "DICOMDIR"], ["DICOMDIR"]])
    (tmp_path / "media" / "DISC1").symlink_to(inner.parent, target_is_directory=True)
    result = scan(root)
    assert [s.n_images for s in result.series] == [3]


def test_dicomdir_references_leaving_its_folder_are_refused(tmp_path: Path) -> None:
    outside = write_volume(tmp_path / "secret", axial_volume(n=2), seed="secret")
    root = _root_dicomdir(
        tmp_path / "media",
        [["..", "secret", outside[0].name], [str(outside[1])]],
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = scan(root)
    assert caught == []
    assert result.series == []
    assert len(result.skipped) == 2
    assert all("not a path inside the DICOMDIR" in s.reason for s in result.skipped)


def test_dicomdir_with_missing_files_gives_one_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _root_dicomdir(tmp_path / "media", [[f"IM{i:04d}"] for i in range(40)])
    result = scan(root)
    (summary,) = result.skipped
    assert summary.path == root
    assert summary.reason.startswith("40 files listed in this DICOMDIR are missing (IM0000")
    assert "and 37 more" in summary.reason
    rc, out, err = run_cli(capsys, "info", str(root))
    assert rc == 2
    assert_one_line(err, str(root))


# ------------------------------------------------------------------ damaged element lengths


def test_a_damaged_element_length_is_not_a_memory_blow_up(tmp_path: Path) -> None:
    """An element whose 4-byte length says 4 GiB in a file of a few KiB: pydicom would ask
    Python for the whole buffer; reads are capped at the file's size, so it ends as a file left
    out (or a clear line), under an address-space limit far below 4 GiB."""
    import subprocess
    import sys

    import pydicom

    path = write_volume(tmp_path / "ct", axial_volume(n=1), seed="length")[0]
    ds = pydicom.dcmread(path)
    ds.add_new(0x00091010, "OB", b"\x00" * 8)
    ds.save_as(path)
    data = bytearray(path.read_bytes())
    head = struct.pack("<HH", 0x0009, 0x1010) + b"OB\x00\x00" + struct.pack("<I", 8)
    at = data.find(head)
    assert at > 0
    data[at + 8 : at + 12] = struct.pack("<I", 0xFFFFFFF0)
    path.write_bytes(bytes(data))
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))\n"
        "from ivcviewer.cli.main import main\n"
        "sys.exit(main(['info', sys.argv[1]]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode in (0, 2), proc.stderr
    assert "MemoryError" not in proc.stderr and "Traceback" not in proc.stderr
    assert len([ln for ln in proc.stderr.splitlines() if ln.strip()]) <= 1
