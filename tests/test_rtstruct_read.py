"""Reading DICOM RTSTRUCT: contours filled on the CT's grid, names, colours, refusals.

The structure sets are written by rt-utils from known masks. The CT has square pixels, as CT
scanners write them: rt-utils places contour points with the row and column spacings exchanged,
which only square pixels hide.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from _dicom_factory import ramp
from _seg_factory import dicom_ct
from rt_utils import RTStructBuilder
from scipy import ndimage

from ivcviewer.geometry import affine_from_dicom
from ivcviewer.interop.rtstruct_read import read_rtstruct
from ivcviewer.interop.seg_read import SegmentationError
from ivcviewer.interop.sniff import dicom_object_kind
from ivcviewer.volume import Volume

#: rt-utils writes through pydicom attributes that pydicom deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:'FileDataset.is_:DeprecationWarning")

N, ROWS, COLS = 8, 40, 48
STEP = 2.5


@pytest.fixture(scope="module")
def ct(tmp_path_factory: pytest.TempPathFactory) -> Volume:
    aff = affine_from_dicom([1, 0, 0, 0, 1, 0], [-20, -30, 100], [0.75, 0.75], [0, 0, STEP])
    folder = tmp_path_factory.mktemp("ct") / "series"
    return dicom_ct(folder, Volume(ramp(N, ROWS, COLS), aff), seed="rt")[0]


def _ring() -> np.ndarray:
    """An ellipsoid with a hole through it along the slice axis."""
    k, r, c = np.indices((N, ROWS, COLS))
    ball = ((k - 4) / 3) ** 2 + ((r - 20) / 12) ** 2 + ((c - 24) / 15) ** 2 <= 1
    return ball & ~(((r - 20) / 5) ** 2 + ((c - 24) / 6) ** 2 <= 1)


def _box() -> np.ndarray:
    m = np.zeros((N, ROWS, COLS), bool)
    m[2:6, 33:39, 30:44] = True  # beside the ring, not over it
    return m


def _write(ct: Volume, path: Path, rois: dict[str, tuple[np.ndarray, list[int]]]) -> Path:
    """An RTSTRUCT written by rt-utils on ``ct``'s series, one ROI per (mask, colour)."""
    rt = RTStructBuilder.create_new(str(ct.metadata.source_files[0].parent))
    for name, (mask, colour) in rois.items():
        rt.add_roi(mask=mask.transpose(1, 2, 0), name=name, color=colour)  # rows, cols, slices
    rt.save(str(path))
    return path


def _within_one_voxel(got: np.ndarray, truth: np.ndarray) -> None:
    """Every voxel of each mask is at most one in-plane voxel from the other mask."""
    plane = np.zeros((3, 3, 3), bool)
    plane[1] = True
    assert not (got & ~ndimage.binary_dilation(truth, plane)).any()
    assert not (truth & ~ndimage.binary_dilation(got, plane)).any()
    assert got.sum() > 0.8 * truth.sum()


def test_rtutils_structure_set_rasterises_back(tmp_path: Path, ct: Volume) -> None:
    ring, box = _ring(), _box()
    path = _write(ct, tmp_path / "rt.dcm", {"ring": (ring, [255, 0, 0]), "box": (box, [0, 0, 255])})
    assert dicom_object_kind(path) == "rtstruct"
    res = read_rtstruct(path, ct)
    assert res.source_kind == "RTSTRUCT"
    assert res.table.names == {1: "ring", 2: "box"}
    assert res.table[1].rgba == (1.0, 0.0, 0.0, 1.0) and res.table[2].rgba == (0.0, 0.0, 1.0, 1.0)
    assert res.referenced_series_uid == ct.metadata.series_uid
    np.testing.assert_allclose(res.labels.affine, ct.affine)
    _within_one_voxel(res.labels.array == 1, ring)
    _within_one_voxel(res.labels.array == 2, box)
    # the hole stays empty (even-odd filling of the inner contour)
    assert not res.labels.array[4, 18:23, 22:27].any()
    assert not res.report


def _edit_z(path: Path, roi: int, dz: float, out: Path) -> Path:
    ds = pydicom.dcmread(path)
    for c in ds.ROIContourSequence[roi].ContourSequence:
        pts = np.asarray(c.ContourData, float).reshape(-1, 3)
        pts[:, 2] += dz
        c.ContourData = [f"{v:.6g}" for v in pts.ravel()]
    ds.save_as(out)
    return out


def test_contours_between_slices_go_to_the_nearest(tmp_path: Path, ct: Volume) -> None:
    path = _write(ct, tmp_path / "rt.dcm", {"box": (_box(), [0, 255, 0])})
    base = read_rtstruct(path, ct).labels.array
    near = read_rtstruct(_edit_z(path, 0, 0.4 * STEP, tmp_path / "near.dcm"), ct).labels.array
    np.testing.assert_array_equal(near, base)
    up = read_rtstruct(_edit_z(path, 0, 0.6 * STEP, tmp_path / "up.dcm"), ct).labels.array
    np.testing.assert_array_equal(up[1:], base[:-1])


def test_contours_outside_the_ct_are_reported(tmp_path: Path, ct: Volume) -> None:
    path = _write(ct, tmp_path / "rt.dcm", {"box": (_box(), [0, 255, 0])})
    base = read_rtstruct(path, ct).labels.array
    res = read_rtstruct(_edit_z(path, 0, 3 * STEP, tmp_path / "high.dcm"), ct)
    assert any("1 contour(s) of ROI 'box' lie outside the CT's slices" in n for n in res.report)
    np.testing.assert_array_equal(res.labels.array[5:], base[2:5])  # slice 5 went above the CT
    assert not res.labels.array[:5].any()


def test_overlapping_rois_later_wins(tmp_path: Path, ct: Volume) -> None:
    body = np.zeros((N, ROWS, COLS), bool)
    body[1:7, 2:38, 2:46] = True
    path = _write(ct, tmp_path / "rt.dcm", {"body": (body, [9, 9, 9]), "box": (_box(), [0, 9, 0])})
    res = read_rtstruct(path, ct)
    assert int((res.labels.array == 2).sum()) > 0
    assert any("ROIs 1 and 2 overlap" in n and "are 2" in n for n in res.report)


def test_structure_set_of_another_ct_is_refused(tmp_path: Path, ct: Volume) -> None:
    path = _write(ct, tmp_path / "rt.dcm", {"box": (_box(), [0, 255, 0])})
    other = dicom_ct(tmp_path / "other", Volume(ct.array, ct.affine), seed="other")[0]
    with pytest.raises(SegmentationError, match=r"RTSTRUCT was made on series .* not on the CT"):
        read_rtstruct(path, other)
    res = read_rtstruct(path, Volume(ct.array, ct.affine))  # a CT from NIfTI: positions only
    assert any("by voxel positions only" in n for n in res.report)


def test_damaged_structure_sets(tmp_path: Path, ct: Volume) -> None:
    path = _write(ct, tmp_path / "rt.dcm", {"box": (_box(), [0, 255, 0])})
    ds = pydicom.dcmread(path)
    ds.ROIContourSequence[0].ContourSequence[0].ContourData = [1.0, 2.0, 3.0, 4.0]
    ds.save_as(tmp_path / "bad_points.dcm")
    with pytest.raises(SegmentationError, match=r"contour 0 of ROI 'box' must hold at least 3"):
        read_rtstruct(tmp_path / "bad_points.dcm", ct)
    ds = pydicom.dcmread(path)
    del ds.StructureSetROISequence
    ds.save_as(tmp_path / "no_rois.dcm")
    with pytest.raises(SegmentationError, match="no StructureSetROISequence"):
        read_rtstruct(tmp_path / "no_rois.dcm", ct)
    ds = pydicom.dcmread(path)
    ds.ROIContourSequence[0].ContourSequence[0].ContourGeometricType = "POINT"
    ds.save_as(tmp_path / "point.dcm")
    assert any("not closed planar" in n for n in read_rtstruct(tmp_path / "point.dcm", ct).report)
    data = path.read_bytes()
    (tmp_path / "cut.dcm").write_bytes(data[: len(data) // 2])
    with pytest.raises(SegmentationError) as info:
        read_rtstruct(tmp_path / "cut.dcm", ct)
    assert "\n" not in str(info.value) and "Fix:" in str(info.value)
    with pytest.raises(SegmentationError, match=r"is not a RTSTRUCT"):
        read_rtstruct(ct.metadata.source_files[0], ct)


def test_rtstruct_as_anatomy_for_the_fit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from _overlay_factory import NAMES, sample_world

    from ivcviewer.annotations import default_case_path
    from ivcviewer.cli.main import main

    w = sample_world()
    ct = dicom_ct(tmp_path / "ct", w.ct, seed="world")[0]
    rois = {
        name.replace("_", " ").title(): (w.labels.array == v, [200, 100, 50])
        for v, name in NAMES.items()
    }
    (tmp_path / "rt").mkdir()
    rt = _write(ct, tmp_path / "rt" / "anatomy.dcm", rois)
    out = tmp_path / "out"
    args = ["overlay", str(tmp_path / "ct"), "--case", str(default_case_path())]
    assert main([*args, "--anatomy", str(rt), "--out", str(out)]) == 0
    findings = json.loads((out / "findings.json").read_text())
    assert findings["ivc_involvement"]["mayo_level"] == "III"
    assert "Mayo III" in capsys.readouterr().out


def test_structure_set_naming_no_ct_is_placed_by_positions(tmp_path: Path, ct: Volume) -> None:
    path = _write(ct, tmp_path / "rt.dcm", {"box": (_box(), [0, 255, 0])})
    ds = pydicom.dcmread(path)
    del ds.ReferencedFrameOfReferenceSequence
    for item in ds.StructureSetROISequence:
        del item.ReferencedFrameOfReferenceUID
    ds.save_as(tmp_path / "bare.dcm")
    res = read_rtstruct(tmp_path / "bare.dcm", ct)
    assert res.referenced_series_uid == ""
    assert any("names no referenced series" in n for n in res.report)
    np.testing.assert_array_equal(res.labels.array, read_rtstruct(path, ct).labels.array)


def test_contour_partly_beside_the_image(tmp_path: Path, ct: Volume) -> None:
    path = _write(ct, tmp_path / "rt.dcm", {"box": (_box(), [0, 255, 0])})
    base = read_rtstruct(path, ct).labels.array
    ds = pydicom.dcmread(path)
    for c in ds.ROIContourSequence[0].ContourSequence:
        pts = np.asarray(c.ContourData, float).reshape(-1, 3)
        pts[:, 0] -= 35 * 0.75  # 35 columns to the right of the patient: off the image's edge
        c.ContourData = [f"{v:.6g}" for v in pts.ravel()]
    ds.save_as(tmp_path / "edge.dcm")
    moved = read_rtstruct(tmp_path / "edge.dcm", ct).labels.array
    assert moved.any()
    np.testing.assert_array_equal(moved[..., : COLS - 35], base[..., 35:])
    assert not moved[..., COLS - 35 :].any()


def test_rtstruct_file_as_anatomy_in_the_case_overlay(tmp_path: Path) -> None:
    from _overlay_factory import NAMES, sample_world

    from ivcviewer.annotations import default_case_path
    from ivcviewer.errors import AnatomyError
    from ivcviewer.widget_models import AnatomyInput, CaseOverlayModel

    w = sample_world()
    ct = dicom_ct(tmp_path / "ct", w.ct, seed="world")[0]
    rois = {name: (w.labels.array == v, [200, 100, 50]) for v, name in NAMES.items()}
    (tmp_path / "rt").mkdir()
    rt = _write(ct, tmp_path / "rt" / "anatomy.dcm", rois)
    model = CaseOverlayModel()
    model.set_case(default_case_path())
    model.set_source(AnatomyInput.LABELMAP_FILE, rt)
    with pytest.raises(AnatomyError, match="no CT was given"):
        model.resolve_anatomy()  # no CT: the contours have no grid to be filled on
    result = model.fit(ct, "CT")
    assert result.findings
    assert "Mayo III" in model.level_text()
    assert model.anatomy is not None and str(rt) in model.anatomy.description
