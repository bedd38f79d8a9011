"""Splitting one SeriesInstanceUID into stacks before deciding on duplicates; their order; a
folder whose bad series does not block the good ones."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from _dicom_factory import axial_volume
from _split_factory import (
    enhanced_repeats,
    enhanced_two_frame_types,
    item,
    repeat_values,
    write_good_and_gapped,
    write_repeats,
)

from ivcviewer.cli.info import describe_path, format_table
from ivcviewer.dicom import load_dicom, scan
from ivcviewer.errors import DicomSeriesError
from ivcviewer.io import open_path
from ivcviewer.report import ValidationMode

OFFSETS = [0.0, 2.5, 5.0, 7.5]


def loaded_repeats(vols: list) -> list[int]:
    """Which repeat each volume holds (its values are :func:`repeat_values` of that repeat)."""
    out = []
    for v in vols:
        shift = (v.array.astype(int) - repeat_values(v.shape[0], 0)).ravel()
        assert np.all(shift == shift[0]), "a volume mixes images of several repeats"
        out.append(int(shift[0]) // 7)
    return out


def test_two_echoes_are_two_stacks_not_duplicates(tmp_path: Path) -> None:
    write_repeats(
        tmp_path / "s", 2, OFFSETS, lambda r: {"EchoNumbers": r + 1}, series_description="dual"
    )
    result = scan(tmp_path / "s")
    assert [s.description for s in result.series] == ["dual (echo 1)", "dual (echo 2)"]
    assert len({s.series_uid for s in result.series}) == 1
    for s in result.series:
        assert s.shape[0] == 4 and "duplicate_positions" not in s.report
        assert "echo: echo 1 vs echo 2" in s.report.items[0].message
    vols = load_dicom(tmp_path / "s")  # RAISE: no duplicate stops them
    assert loaded_repeats(vols) == [0, 1]


def test_image_types_split_original_first(tmp_path: Path) -> None:
    types = [r"DERIVED\SECONDARY\AXIAL", r"ORIGINAL\PRIMARY\AXIAL"]
    write_repeats(tmp_path / "s", 2, OFFSETS, lambda r: {"ImageType": types[r].split("\\")})
    result = scan(tmp_path / "s")
    assert [s.stack_label for s in result.series] == [
        r"stack 1 of 2: ImageType ORIGINAL\PRIMARY\AXIAL",
        r"stack 2 of 2: ImageType DERIVED\SECONDARY\AXIAL",
    ]
    assert (
        r"ORIGINAL\PRIMARY\AXIAL vs DERIVED\SECONDARY\AXIAL"
        in result.series[0].report.items[0].message
    )
    assert loaded_repeats(load_dicom(tmp_path / "s")) == [1, 0]


def test_reformatted_images_in_the_series_make_their_own_stack(tmp_path: Path) -> None:
    types = [r"ORIGINAL\PRIMARY\AXIAL", r"DERIVED\SECONDARY\REFORMATTED"]
    write_repeats(tmp_path / "s", 2, OFFSETS, lambda r: {"ImageType": types[r].split("\\")})
    result = scan(tmp_path / "s")
    assert result.skipped == []
    assert types[0] + " vs " + types[1] in result.series[1].report.items[0].message
    assert [s.description for s in result.series] == [
        rf"ivcviewer CT ({types[0]})",
        rf"ivcviewer CT ({types[1]})",
    ]
    # a derived secondary image of another kind (a screen capture) is still left out
    write_repeats(
        tmp_path / "t", 1, OFFSETS, lambda r: {"ImageType": ["DERIVED", "SECONDARY", "SCREEN"]}
    )
    assert {s.code for s in scan(tmp_path / "t").skipped} == {"secondary_capture_skipped"}


def test_image_type_beyond_three_values_splits_only_shared_positions(tmp_path: Path) -> None:
    types = [r"ORIGINAL\PRIMARY\AXIAL\HELIX", r"ORIGINAL\PRIMARY\AXIAL\VOLUME"]
    write_repeats(tmp_path / "a", 2, OFFSETS, lambda r: {"ImageType": types[r].split("\\")})
    assert [s.description.split("(")[-1] for s in scan(tmp_path / "a").series] == [
        r"ORIGINAL\PRIMARY\AXIAL\HELIX)",
        r"ORIGINAL\PRIMARY\AXIAL\VOLUME)",
    ]
    # the same two types on consecutive pieces of one stack: one stack
    write_repeats(
        tmp_path / "b",
        2,
        lambda r: [10.0 * r + o for o in OFFSETS],
        lambda r: {"ImageType": types[r].split("\\")},
        seed="b",
    )
    (info,) = scan(tmp_path / "b").series
    assert info.n_images == 8 and info.stack_label == ""


def test_enhanced_file_with_two_frame_types(tmp_path: Path) -> None:
    vol = axial_volume(n=5, rows=16, cols=16)
    types = [r"ORIGINAL\PRIMARY\AXIAL\NONE", r"DERIVED\PRIMARY\AXIAL\SUBTRACTION"]
    enhanced_two_frame_types(tmp_path / "e" / "enh.dcm", vol, types)
    result = scan(tmp_path / "e")
    assert [s.n_images for s in result.series] == [5, 5]
    assert [s.description for s in result.series] == [
        r"enhanced (ORIGINAL\PRIMARY\AXIAL)",
        r"enhanced (DERIVED\PRIMARY\AXIAL)",
    ]
    a, b = load_dicom(tmp_path / "e")
    np.testing.assert_array_equal(a.array, vol.array)
    np.testing.assert_array_equal(b.array, vol.array + 7)


def test_enhanced_file_with_one_frame_type_keeps_its_duplicates(tmp_path: Path) -> None:
    """The same file with one type for all frames: true duplicates, refused under RAISE."""
    vol = axial_volume(n=5, rows=16, cols=16)
    same = r"ORIGINAL\PRIMARY\AXIAL\NONE"
    enhanced_two_frame_types(tmp_path / "e" / "enh.dcm", vol, [same, same])
    (info,) = scan(tmp_path / "e").series
    assert "duplicate_positions" in info.report
    with pytest.raises(DicomSeriesError, match="Duplicate position"):
        load_dicom(tmp_path / "e")


def test_enhanced_mr_magnitude_and_field_map_and_two_echoes(tmp_path: Path) -> None:
    """Enhanced MR: frame types (magnitude, field map) and echo times in the functional groups."""
    vol = axial_volume(n=4, rows=16, cols=16)
    kinds = [
        (r"ORIGINAL\PRIMARY\M_FFE\NONE", 4.6),
        (r"ORIGINAL\PRIMARY\M_FFE\NONE", 9.2),
        (r"ORIGINAL\PRIMARY\B0 MAP\NONE", 4.6),
    ]
    enhanced_repeats(
        tmp_path / "e" / "mr.dcm",
        vol,
        3,
        lambda r: {
            "MRImageFrameTypeSequence": item(FrameType=kinds[r][0].split("\\")),
            "MREchoSequence": item(EffectiveEchoTime=kinds[r][1]),
        },
        mr=True,
    )
    infos = scan(tmp_path / "e").series
    assert [s.description for s in infos] == [
        r"enhanced (ORIGINAL\PRIMARY\B0 MAP)",
        r"enhanced (ORIGINAL\PRIMARY\M_FFE, TE 4.6 ms)",
        r"enhanced (ORIGINAL\PRIMARY\M_FFE, TE 9.2 ms)",
    ]
    assert all("duplicate_positions" not in s.report for s in infos)
    assert sorted(loaded_repeats(load_dicom(tmp_path / "e"))) == [0, 1, 2]


def test_enhanced_temporal_positions_in_numeric_order(tmp_path: Path) -> None:
    vol = axial_volume(n=3, rows=16, cols=16)
    enhanced_repeats(
        tmp_path / "e" / "dce.dcm",
        vol,
        11,
        lambda r: {"FrameContentSequence": item(TemporalPositionIndex=11 - r)},
    )
    infos = scan(tmp_path / "e").series
    assert [s.description for s in infos] == [
        f"enhanced (temporal position {t})" for t in range(1, 12)
    ]
    assert loaded_repeats(load_dicom(tmp_path / "e")) == list(range(10, -1, -1))


def test_twelve_acquisitions_in_numeric_order(tmp_path: Path) -> None:
    write_repeats(
        tmp_path / "s",
        12,
        OFFSETS,
        lambda r: {"AcquisitionNumber": r + 1},
        series_description="multiphase",
    )
    infos = scan(tmp_path / "s").series
    assert [s.description for s in infos] == [f"multiphase (acquisition {a})" for a in range(1, 13)]
    assert [s.stack_label.split(":")[0] for s in infos] == [
        f"stack {i} of 12" for i in range(1, 13)
    ]
    assert [s.stack_index for s in infos] == list(range(12))
    assert loaded_repeats(load_dicom(tmp_path / "s")) == list(range(12))
    table = format_table(describe_path(tmp_path / "s"))
    shown = [
        line.split("(acquisition ")[1].rstrip(")") for line in table.splitlines() if "(acq" in line
    ]
    assert shown == [str(a) for a in range(1, 13)]


def test_temporal_positions_split_before_acquisitions(tmp_path: Path) -> None:
    write_repeats(
        tmp_path / "s",
        3,
        OFFSETS,
        lambda r: {"TemporalPositionIndex": r + 1, "AcquisitionNumber": 1},
    )
    infos = scan(tmp_path / "s").series
    assert [s.stack_label for s in infos] == [
        f"stack {t} of 3: TemporalPositionIndex {t}" for t in (1, 2, 3)
    ]


def test_phase_covering_part_of_another_is_split(tmp_path: Path) -> None:
    write_repeats(
        tmp_path / "s",
        2,
        lambda r: [2.5 * k for k in range(10)] if r == 0 else [5.0, 7.5, 10.0, 12.5],
        lambda r: {"AcquisitionNumber": r + 1},
    )
    assert [s.shape[0] for s in scan(tmp_path / "s").series] == [10, 4]


def test_acquisition_per_rotation_with_an_overlap_stays_one_stack(tmp_path: Path) -> None:
    """Step-and-shoot: each rotation its own acquisition, the rotations touch at one slice."""
    write_repeats(
        tmp_path / "s",
        3,
        lambda r: [7.5 * r + 2.5 * k for k in range(4)],
        lambda r: {"AcquisitionNumber": r + 1},
    )
    (info,) = scan(tmp_path / "s").series
    assert info.shape[0] == 10 and info.n_images == 12
    assert "duplicate_positions" in info.report and info.stack_label == ""


def test_true_duplicates_are_still_reported(tmp_path: Path) -> None:
    write_repeats(tmp_path / "s", 2, OFFSETS, lambda r: {"EchoNumbers": 1})
    (info,) = scan(tmp_path / "s").series
    assert "duplicate_positions" in info.report


# one bad series in a folder -------------------------------------------------------------------


@pytest.fixture
def five_good_one_gap(tmp_path: Path) -> Path:
    return write_good_and_gapped(tmp_path / "study")


def test_open_path_returns_the_good_series_and_reports_the_bad_one(five_good_one_gap: Path) -> None:
    listed = describe_path(five_good_one_gap)["series"]
    assert [s["description"] for s in listed] == [*(f"good {i}" for i in range(5)), "with a gap"]
    bad_uid = listed[-1]["series_uid"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vols = open_path(five_good_one_gap)
    assert [v.metadata.description for v in vols] == [f"good {i}" for i in range(5)]
    for i, v in enumerate(vols):
        np.testing.assert_array_equal(v.array, axial_volume(n=3 + i, rows=16, cols=16).array)
        (item,) = [it for it in v.report.items if it.code == "series_left_out"]
        assert bad_uid in item.message and "missing" in item.message
        assert "5 of 6 series loaded" in item.message
    assert [str(w.message) for w in caught if "left out" in str(w.message)] == [item.message]
    # the bad series alone, or asked for by its UID, is still refused
    with pytest.raises(DicomSeriesError, match="missing"):
        open_path(five_good_one_gap / "gap")
    with pytest.raises(DicomSeriesError, match="missing"):
        open_path(five_good_one_gap, series_uid=bad_uid)
    # under WARN it loads with the others, and nothing is left out
    vols = open_path(five_good_one_gap, on_irregular=ValidationMode.WARN)
    assert len(vols) == 6 and all("series_left_out" not in v.report for v in vols)


def test_cli_info_and_open_agree_on_the_bad_series(five_good_one_gap: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "ivcviewer", "info", str(five_good_one_gap)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "6 series" in proc.stdout and "missing_slices" in proc.stdout
    uid = pydicom.dcmread(next((five_good_one_gap / "gap").iterdir())).SeriesInstanceUID
    assert uid in proc.stdout
