"""What the ruler, bidirectional and HU probe tools compute, checked without napari."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ivcviewer.errors import MeasurementError
from ivcviewer.measure import PATIENT_AXES, recist_axes
from ivcviewer.measure.tools import (
    BIDIRECTIONAL,
    PERPENDICULAR_TOLERANCE_DEG,
    PROBE_SEPARATOR,
    RULER,
    ManualMeasurement,
    ProbeReading,
    assign_ids,
    axes_angle_deg,
    bidirectional_features,
    cross_slice_lines,
    mark_end_message,
    mark_start_message,
    polyline_segments,
    region_axes_source,
    region_axes_text,
    ruler_features,
    ruler_label,
    status_with_reading,
    tool_measurements,
)


def _line(p, q):
    return polyline_segments([p, q])


# ---------------------------------------------------------------------------------------------
# Ruler
# ---------------------------------------------------------------------------------------------


def test_ruler_text_is_the_3d_length_of_its_end_points() -> None:
    # ends on different slices: 30 mm in-plane, 40 mm across slices
    (seg,) = _line([10.0, -5.0, 2.5], [40.0, -5.0, 42.5])
    assert seg.length_mm == pytest.approx(50.0)
    assert ruler_label([seg]) == "50.0 mm"
    assert mark_end_message([10.0, -5.0, 2.5], [40.0, -5.0, 42.5]) == "Ruler: 50.0 mm (3D, LPS)"


def test_ruler_on_a_path_sums_its_segments() -> None:
    segs = polyline_segments([[0, 0, 0], [0, 6, 8], [0, 6, 20], [5, 6, 20]])
    assert [s.length_mm for s in segs] == pytest.approx([10.0, 12.0, 5.0])
    feats = ruler_features([-1], [segs])
    assert feats["length_mm"].tolist() == pytest.approx([27.0])
    assert feats["label"].tolist() == ["27.0 mm"]


def test_ruler_features_number_new_lines_and_skip_other_shapes() -> None:
    segs = [_line([0, 0, 0], [0, 0, 1.25]), None, _line([0, 0, 0], [3, 4, 0])]
    feats = ruler_features([4, -1, -1], segs)
    assert feats["id"].tolist() == [4, 5, 6]
    assert feats["label"].tolist() == ["1.2 mm", "", "5.0 mm"]
    assert math.isnan(feats["length_mm"][1])


def test_assign_ids_keeps_old_ids_and_splits_pasted_copies() -> None:
    ids = np.array([1, 1, 2, -1, -1, -1, 3], dtype=np.int64)
    out = assign_ids(ids, 2)
    # new lines join the newest group (the highest id) while it is incomplete
    assert out.tolist() == [1, 1, 2, 3, 4, 4, 3]
    assert ids.tolist() == [1, 1, 2, -1, -1, -1, 3]  # the input is left as it was
    # a pasted copy of a full pair (third line with id 1) starts a group of its own
    assert assign_ids([1, 1, 1], 2).tolist() == [1, 1, 2]
    assert assign_ids([], 1).tolist() == []


def test_mark_start_message_names_the_point_and_the_key() -> None:
    text = mark_start_message(np.array([-12.34, 5.0, 100.06]), "m")
    assert "LPS -12.3, 5.0, 100.1 mm" in text
    assert text.endswith("press M again.")


# ---------------------------------------------------------------------------------------------
# Bidirectional
# ---------------------------------------------------------------------------------------------


def test_bidirectional_rows_name_the_long_and_short_axis() -> None:
    short = _line([20, -10, 0], [20, 10, 0])
    long_ = _line([0, 0, 0], [40, 0, 0])
    feats = bidirectional_features([-1, -1], [short, long_], ["", "label 1 (mass)"])
    assert feats["id"].tolist() == [1, 1]
    assert feats["axis"].tolist() == ["short", "long"]
    assert feats["label"].tolist() == ["short 20.0 mm", "long 40.0 mm"]
    assert feats["source"].tolist() == ["", "label 1 (mass)"]


def test_bidirectional_flags_a_short_axis_off_perpendicular() -> None:
    long_ = _line([0, 0, 0], [40, 0, 0])
    tilt = 90.0 - PERPENDICULAR_TOLERANCE_DEG - 7.0  # 80 degrees to the long axis
    d = np.array([math.cos(math.radians(tilt)), math.sin(math.radians(tilt)), 0.0]) * 10.0
    short = _line([20, 0, 0], np.array([20.0, 0, 0]) + d)
    feats = bidirectional_features([-1, -1], [long_, short], ["", ""])
    assert feats["label"][1] == "short 10.0 mm (80\N{DEGREE SIGN} to long)"
    # within the tolerance: no angle shown
    tilt = 90.0 - PERPENDICULAR_TOLERANCE_DEG / 2
    d = np.array([math.cos(math.radians(tilt)), math.sin(math.radians(tilt)), 0.0]) * 10.0
    short = _line([20, 0, 0], np.array([20.0, 0, 0]) + d)
    assert bidirectional_features([-1, -1], [long_, short], ["", ""])["label"][1] == (
        "short 10.0 mm"
    )


def test_a_lone_bidirectional_line_asks_for_its_short_axis() -> None:
    feats = bidirectional_features([-1], [_line([0, 0, 0], [0, 25, 0])], [""])
    assert feats["axis"].tolist() == ["long"]
    assert feats["label"].tolist() == ["25.0 mm: now draw the short axis"]


def test_axes_angle_is_folded_into_0_to_90_degrees() -> None:
    (a,) = _line([0, 0, 0], [1, 0, 0])
    (b,) = _line([0, 0, 0], [-1, 1, 0])
    assert axes_angle_deg(a, b) == pytest.approx(45.0)
    (zero,) = _line([1, 1, 1], [1, 1, 1])
    assert math.isnan(axes_angle_deg(a, zero))


def test_a_bidirectional_line_without_points_is_an_error() -> None:
    with pytest.raises(MeasurementError, match="two points"):
        tool_measurements(BIDIRECTIONAL, "B", [1, 1], [(), _line([0, 0, 0], [1, 0, 0])])


def test_region_axes_texts_give_both_lengths_and_the_full_grid_section() -> None:
    mask = np.zeros((4, 20, 20), bool)
    mask[2, 4:14, 6:10] = True  # 10 x 4 voxels of 1 x 1 mm on slice 2
    affine = np.diag([1.0, 1.0, 3.0, 1.0])[:, [2, 1, 0, 3]]  # slices along z
    axes = recist_axes(mask, affine)
    assert axes.section_index == 2
    assert region_axes_source(7, "node", axes) == "label 7 (node), section 2"
    text = region_axes_text("node", axes)
    assert text.startswith(f"node: long {axes.long_mm:.1f} mm x short {axes.short_mm:.1f} mm")
    assert text.endswith("(section 2)")
    assert axes.long_mm == pytest.approx(math.hypot(10.0, 4.0))


# ---------------------------------------------------------------------------------------------
# Records of the table
# ---------------------------------------------------------------------------------------------


def test_tool_measurements_pair_bidirectionals_and_skip_incomplete_pairs() -> None:
    a = _line([0, 0, 0], [0, 30, 0])
    b = _line([-5, 15, 0], [5, 15, 0])
    found = tool_measurements(
        BIDIRECTIONAL,
        "Bidirectional (mm)",
        [2, 2, 3, -1],
        [b, a, a, a],
        ["", "label 1 (mass), section 12", "", ""],
    )
    assert [m.name for m in found] == ["Bidirectional 2"]
    (m,) = found
    assert (m.length_mm, m.short_mm) == pytest.approx((30.0, 10.0))
    assert m.angle_deg == pytest.approx(90.0)
    assert m.source == "label 1 (mass), section 12"
    assert m.layer == "Bidirectional (mm)"


def test_tool_measurements_number_rulers_by_id_then_position() -> None:
    segs = [_line([0, 0, 0], [0, 0, 5]), None, _line([0, 0, 0], [0, 3, 4])]
    found = tool_measurements(RULER, "Ruler (mm)", [-1, -1, 9], segs)
    assert [(m.name, m.length_mm) for m in found] == [("Ruler 1", 5.0), ("Ruler 9", 5.0)]
    assert tool_measurements("something else", "x", [1], segs[:1]) == []


def test_manual_measurement_json_forms() -> None:
    ruler = ManualMeasurement(
        RULER, "Ruler 1", "Ruler (mm)", polyline_segments([[0, 0, 0], [3, -4, 0], [3, -4, 10]])
    )
    d = ruler.to_dict()
    assert d["length_mm"] == pytest.approx(15.0)
    assert d["start_lps"] == [0.0, 0.0, 0.0] and d["end_lps"] == [3.0, -4.0, 10.0]
    assert d["delta_mm"] == dict(zip(PATIENT_AXES, [3.0, 4.0, 10.0], strict=True))
    assert len(d["segments"]) == 2
    assert ruler.short_mm is None and ruler.angle_deg is None

    (long_,) = _line([0, 0, 0], [40, 0, 0])
    (short,) = _line([20, -10, 0], [20, 10, 0])
    bidi = ManualMeasurement(BIDIRECTIONAL, "Bidirectional 1", "B", (long_, short), "label 2")
    d = bidi.to_dict()
    assert set(d) == {"kind", "name", "layer", "long_axis", "short_axis", "angle_deg", "source"}
    assert d["long_axis"]["length_mm"] == 40.0 and d["short_axis"]["length_mm"] == 20.0
    assert bidi.end_lps.tolist() == [40.0, 0.0, 0.0]


# ---------------------------------------------------------------------------------------------
# Lines across slices
# ---------------------------------------------------------------------------------------------


def test_cross_slice_lines_show_only_lines_spanning_the_shown_slice() -> None:
    vertices = [
        np.array([[0.0, 1, 1], [4.0, 5, 1]]),  # slices 0..4
        np.array([[2.2, 0, 0], [2.2, 3, 3]]),  # on one slice: napari shows it
        np.array([[5.0, 0, 0], [9.0, 3, 3]]),  # slices 5..9: does not cross slice 2
        np.array([[0.0, 0, 0], [4.0, 0, 0], [4.0, 9, 9]]),  # a path, slices 0..4
        np.array([[0.0, 0, 0], [4.0, 9, 9]]),  # a rectangle's corners: not a line
    ]
    kinds = ["line", "line", "line", "path", "rectangle"]
    lines, texts = cross_slice_lines(vertices, kinds, [52.0, 4.2, 9.0, 20.25, 1.0], 0, 2.0)
    assert texts == ["52.0 mm (3D)", "20.2 mm (3D)"]
    assert lines[0].tolist() == [[2.0, 1.0, 1.0], [2.0, 5.0, 1.0]]
    assert lines[1][:, 0].tolist() == [2.0, 2.0, 2.0]
    assert vertices[0][0, 0] == 0.0  # the layer's vertices are left as they were


def test_cross_slice_lines_without_lengths_yet_show_nothing() -> None:
    assert cross_slice_lines([np.array([[0.0, 0, 0], [4.0, 0, 0]])], ["line"], [], 0, 2.0) == (
        [],
        [],
    )


# ---------------------------------------------------------------------------------------------
# HU probe
# ---------------------------------------------------------------------------------------------


def test_probe_text_gives_hu_lps_and_voxel_index() -> None:
    reading = ProbeReading("CT", 1024.0, (-12.34, 45.66, 78.9), (3, 40, 7))
    assert reading.text() == "HU 1024 | LPS -12.3, 45.7, 78.9 mm | ijk 3, 40, 7"
    resampled = ProbeReading("CT", -3.25, (0.0, 0.0, 0.0), (0, 0, 0), integral=False)
    assert resampled.text().startswith("HU -3.2 |")


def test_probe_reading_follows_napari_status_after_the_separator() -> None:
    reading = ProbeReading("CT", 40.0, (1.0, 2.0, 3.0), (0, 1, 2))
    status = status_with_reading("CT [0 1 2]: 40", reading)
    assert status == "CT [0 1 2]: 40" + PROBE_SEPARATOR + reading.text()
    assert status.count(PROBE_SEPARATOR) == 1
