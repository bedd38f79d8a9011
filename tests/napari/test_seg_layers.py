"""DICOM SEG and RTSTRUCT files open as named, coloured Labels layers on their CT."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from _napari_factory import GEOMETRIES, marker_volume
from scipy.ndimage import binary_dilation

from ivcviewer import geometry
from ivcviewer.interop.codes import codes_for_structure
from ivcviewer.io import load_labels, load_volume

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")
pytest.importorskip("highdicom")
from _seg_factory import dicom_ct, write_seg  # noqa: E402
from napari.layers import Labels  # noqa: E402
from napari.utils.notifications import notification_manager  # noqa: E402

from ivcviewer._napari import reader  # noqa: E402
from ivcviewer._napari.seg_layers import CODES_KEY, anatomy_names  # noqa: E402
from ivcviewer._napari.widgets.case_overlay.layer_inputs import labelmap_input  # noqa: E402

#: Boxes in the CT's stored (source) order, one per segment.
BOXES = {
    1: (slice(4, 9), slice(10, 20), slice(12, 30)),
    2: (slice(12, 16), slice(30, 40), slice(5, 15)),
}


@pytest.fixture(scope="module")
def sagittal_seg(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, np.ndarray]:
    """A sagittal DICOM CT, a binary SEG of two boxes on it, and the label map it holds."""
    root = tmp_path_factory.mktemp("seg")
    ct, sources = dicom_ct(root / "ct", marker_volume(GEOMETRIES["sagittal"]), seed="segct")
    masks = np.zeros((*ct.shape, 2), bool)
    truth = np.zeros(ct.shape, np.uint8)
    for value, box in BOXES.items():
        masks[(*box, value - 1)] = True
        truth[box] = value
    # the frames follow the CT's slices as read (along its slice axis)
    order = np.argsort([np.dot(s.ImagePositionPatient, ct.affine[:3, 0]) for s in sources])
    seg = write_seg(
        root / "boxes.dcm",
        [sources[i] for i in order],
        masks,
        ["Liver", "IVC"],
        colours={"Liver": (200, 100, 50), "IVC": (0, 0, 255)},
        segment_codes=[
            (codes_for_structure("liver").category, codes_for_structure("liver").type),
            (
                codes_for_structure("inferior_vena_cava").category,
                codes_for_structure("inferior_vena_cava").type,
            ),
        ],
    )
    return root / "ct", seg, truth


def _world_by_value(layer: Labels) -> dict[int, set[tuple[float, ...]]]:
    data = np.asarray(layer.data)
    out = {}
    for value in np.unique(data[data > 0]):
        idx = np.argwhere(data == value)
        out[int(value)] = {tuple(np.round(layer.data_to_world(i), 2)) for i in idx}
    return out


def _truth_world(ct_folder: Path, truth: np.ndarray) -> dict[int, set[tuple[float, ...]]]:
    from ivcviewer.io import open_path

    (ct,) = open_path(ct_folder)
    out = {}
    for value in BOXES:
        lps = geometry.apply_affine(ct.affine, np.argwhere(truth == value))
        out[value] = {tuple(np.round(w, 2)) for w in geometry.lps_to_napari(lps)}
    return out


def test_seg_opens_on_its_ct_named_coloured_and_saves_in_the_ct_order(
    make_napari_viewer, sagittal_seg, tmp_path: Path
) -> None:
    ct_folder, seg, truth = sagittal_seg
    viewer = make_napari_viewer(show=True)
    (ct_layer,) = viewer.open(str(ct_folder), plugin="ivcviewer")
    (layer,) = viewer.open(str(seg), plugin="ivcviewer")
    assert isinstance(layer, Labels) and layer.name == "boxes"
    assert layer.data.shape == ct_layer.data.shape  # on the CT's grid
    np.testing.assert_allclose(layer.metadata["affine_lps"], ct_layer.metadata["affine_lps"])
    assert dict(zip(layer.features["index"], layer.features["name"], strict=True)) == {
        1: "Liver",
        2: "IVC",
    }
    assert tuple(layer.get_color(2)) == pytest.approx((0.0, 0.0, 1.0, 1.0), abs=0.02)
    assert _world_by_value(layer) == _truth_world(ct_folder, truth)
    notes = [str(r.message) for r in notification_manager.records[-3:]]
    assert any(
        "boxes.dcm: binary SEG with 2 segments" in t and "placed on the CT" in t for t in notes
    )

    # the Case overlay takes it as anatomy, by the segments' codes
    assert anatomy_names(layer) == {1: "liver", 2: "inferior_vena_cava"}
    assert dict(labelmap_input(layer).names) == {1: "liver", 2: "inferior_vena_cava"}

    out = tmp_path / "boxes.nii.gz"
    viewer.layers.selection.active = layer
    viewer.layers.save(str(out), selected=True, plugin="ivcviewer")
    labels, table = load_labels(out)
    assert np.array_equal(labels.array, truth)  # the CT's stored voxel order
    assert table.names == {1: "Liver", 2: "IVC"}


def test_seg_without_its_ct_opens_on_its_own_grid_in_place(
    make_napari_viewer, sagittal_seg
) -> None:
    ct_folder, seg, truth = sagittal_seg
    viewer = make_napari_viewer(show=True)
    n = len(notification_manager.records)
    (layer,) = viewer.open(str(seg), plugin="ivcviewer")
    assert _world_by_value(layer) == _truth_world(ct_folder, truth)
    notes = [str(r.message) for r in notification_manager.records[n:]]
    assert any("shown on its own grid" in t and "open the CT first" in t for t in notes)
    assert set(layer.metadata[CODES_KEY]) == {1, 2}


def test_seg_dropped_with_its_ct_lands_on_it(sagittal_seg) -> None:
    ct_folder, seg, truth = sagittal_seg
    layers = reader.read_paths([str(seg), str(ct_folder)], show_report=False)
    assert [kind for _, _, kind in layers] == ["image", "labels"]  # labels drawn over the CT
    (ct_data, ct_kw, _), (data, kw, _) = layers
    assert data.shape == ct_data.shape
    np.testing.assert_allclose(kw["metadata"]["affine_lps"], ct_kw["metadata"]["affine_lps"])
    assert kw["metadata"]["source_affine_lps"] == pytest.approx(
        ct_kw["metadata"]["source_affine_lps"]
    )


def test_rtstruct_opens_on_its_ct_and_asks_for_the_ct_without_it(
    make_napari_viewer, tmp_path: Path
) -> None:
    rt_utils = pytest.importorskip("rt_utils")
    # square pixels: rt-utils swaps the two PixelSpacing values when it writes contours
    square = dataclasses.replace(GEOMETRIES["axial"], pixel_spacing=(0.75, 0.75))
    ct, _ = dicom_ct(tmp_path / "ct", marker_volume(square), seed="rtct")
    mask = np.zeros((ct.shape[1], ct.shape[2], ct.shape[0]), bool)  # rows, cols, slices
    mask[10:30, 12:36, 5:15] = True  # symmetric in the slices: either slice order agrees
    rt = rt_utils.RTStructBuilder.create_new(dicom_series_path=str(tmp_path / "ct"))
    rt.add_roi(mask=mask, name="tumour", color=[255, 0, 0])
    path = tmp_path / "rt" / "structures.dcm"
    path.parent.mkdir()
    rt.save(str(path))

    viewer = make_napari_viewer(show=True)
    n = len(notification_manager.records)
    assert viewer.open(str(path), plugin="ivcviewer") == []
    notes = [str(r.message) for r in notification_manager.records[n:]]
    assert any(
        "structures.dcm: an RTSTRUCT holds contours" in t and "Fix: open" in t for t in notes
    )

    (ct_layer,) = viewer.open(str(tmp_path / "ct"), plugin="ivcviewer")
    (layer,) = viewer.open(str(path), plugin="ivcviewer")
    assert layer.data.shape == ct_layer.data.shape
    assert dict(zip(layer.features["index"], layer.features["name"], strict=True)) == {1: "tumour"}
    assert tuple(layer.get_color(1)) == pytest.approx((1.0, 0.0, 0.0, 1.0))
    filled = np.asarray(layer.data) > 0
    box = np.zeros(ct.shape, bool)
    box[5:15, 10:30, 12:36] = True
    # the axial CT is shown in its own order; contours drawn through the boundary voxels'
    # centres: within one voxel of the mask
    assert not (filled & ~binary_dilation(box)).any() and not (box & ~binary_dilation(filled)).any()


@pytest.mark.realdata
def test_dcmqi_liver_seg_opens_as_a_named_liver_on_its_series(
    make_napari_viewer, public_ct: Path
) -> None:
    folder = public_ct / "dcmqi_ct3slice"
    viewer = make_napari_viewer(show=True)
    (ct_layer,) = viewer.open(str(folder / "series"), plugin="ivcviewer")
    (layer,) = viewer.open(str(folder / "liver.dcm"), plugin="ivcviewer")
    assert layer.name == "liver" and layer.data.shape == ct_layer.data.shape
    assert dict(zip(layer.features["index"], layer.features["name"], strict=True)) == {1: "Liver"}
    assert anatomy_names(layer) == {1: "liver"}
    ref = load_volume(folder / "liver_seg.nrrd")
    lps = geometry.apply_affine(ref.affine, np.argwhere(ref.array > 0))
    expected = {tuple(np.round(w, 2)) for w in geometry.lps_to_napari(lps)}
    assert len(expected) > 1000
    assert _world_by_value(layer) == {1: expected}
