"""A file whose compressed pixel data does not decode is left out; the rest of its series loads.

Its header reads, so only decoding finds it out: the stack is rebuilt without it, reported as
``unreadable_file``, and the slot it leaves is a gap (filled or interpolated, and reported), as
for a file the scan finds incomplete. The default ``raise`` mode still refuses the series.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _dicom_factory import axial_volume, write_volume
from pydicom import uid as pduid

from ivcviewer.dicom import load_dicom
from ivcviewer.dicom.undecodable import MAX_UNDECODABLE
from ivcviewer.errors import DicomSeriesError
from ivcviewer.report import ValidationMode

N = 20


def _cut_end(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-20])  # inside the last fragment: no end delimiter


@pytest.fixture
def j2k_series(tmp_path: Path) -> list[Path]:
    """A 20-slice JPEG 2000 series (slice k holds 100 k + 2 row + col - 1000 HU)."""
    return write_volume(
        tmp_path / "ct",
        axial_volume(n=N),
        seed="undecodable",
        transfer_syntax=pduid.JPEG2000Lossless,
    )


def _slice_of(path: Path, files: list[Path]) -> int:
    return files.index(path)


@pytest.mark.parametrize("mode", [ValidationMode.WARN, ValidationMode.RESAMPLE])
def test_a_truncated_file_leaves_a_reported_gap_and_the_rest_loads(
    j2k_series: list[Path], mode: ValidationMode
) -> None:
    bad = j2k_series[7]
    _cut_end(bad)
    (vol,) = load_dicom(bad.parent, on_irregular=mode, workers=1)
    source = axial_volume(n=N).array
    assert vol.shape == source.shape
    k = _slice_of(bad, j2k_series)
    others = [i for i in range(N) if i != k]
    np.testing.assert_array_equal(vol.array[others], source[others])
    (item,) = [i for i in vol.report.items if i.code == "unreadable_file"]
    assert str(bad) in item.message and "truncated" in item.message
    assert "missing_slices" in vol.report.codes
    if mode is ValidationMode.RESAMPLE:  # interpolated from its neighbours: the ramp again
        np.testing.assert_allclose(vol.array[k], source[k], atol=1)
        assert "resampled" in vol.report.codes
    else:
        assert np.all(vol.array[k] == vol.array.min())
    assert bad not in vol.metadata.source_files and len(vol.metadata.source_files) == N - 1


def test_helper_processes_leave_the_file_out_the_same_way(
    j2k_series: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ivcviewer.dicom import fill, pixels

    monkeypatch.setattr(pixels, "_imagecodecs_jpeg2k", lambda: False)  # pydicom's decoders
    monkeypatch.setattr(fill, "PROCESS_POOL_MIN_PIXELS", 0)
    monkeypatch.setattr(fill, "DECODE_CHUNK_PIXELS", 1)
    bad = j2k_series[3]
    _cut_end(bad)
    (vol,) = load_dicom(bad.parent, on_irregular=ValidationMode.WARN, workers=2)
    assert vol.shape[0] == N
    assert any(str(bad) in i.message for i in vol.report.items if i.code == "unreadable_file")


def test_a_damaged_last_file_shortens_the_stack_without_a_gap(j2k_series: list[Path]) -> None:
    bad = j2k_series[-1]
    _cut_end(bad)
    (vol,) = load_dicom(bad.parent, on_irregular=ValidationMode.WARN, workers=1)
    assert vol.shape[0] == N - 1
    np.testing.assert_array_equal(vol.array, axial_volume(n=N).array[: N - 1])
    assert "unreadable_file" in vol.report.codes and "missing_slices" not in vol.report.codes


def test_raise_mode_still_refuses_the_series(j2k_series: list[Path]) -> None:
    _cut_end(j2k_series[5])
    with pytest.raises(DicomSeriesError) as info:
        load_dicom(j2k_series[5].parent, workers=1)
    assert str(info.value).startswith(f"{j2k_series[5]}: pixel data cannot be decoded")


def test_too_many_damaged_files_give_the_decoders_error(j2k_series: list[Path]) -> None:
    for p in j2k_series[1 : 2 + MAX_UNDECODABLE]:
        _cut_end(p)
    with pytest.raises(DicomSeriesError, match="pixel data cannot be decoded"):
        load_dicom(j2k_series[0].parent, on_irregular=ValidationMode.WARN, workers=1)
