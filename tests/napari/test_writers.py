"""The npe2 writers: painted labels and CT saved in the source CT's voxel order, with names."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from _napari_factory import GEOMETRIES, write_dicom_series

from ivcviewer.io import load_labels, load_volume, open_path
from ivcviewer.report import ValidationMode

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")
from napari.layers import Image, Labels  # noqa: E402
from napari.utils.notifications import notification_manager  # noqa: E402

from ivcviewer._napari.layer_label_table import set_layer_label_table  # noqa: E402
from ivcviewer.io import LabelEntry, LabelTable  # noqa: E402

#: Painted boxes (display grid, slice/row/col) and their values.
BOXES = {
    3: (slice(2, 5), slice(10, 14), slice(4, 9)),
    8: (slice(15, 17), slice(30, 33), slice(5, 9)),
}


@pytest.fixture(scope="module")
def sagittal_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sagittal DICOM series: its display grid differs from its stored voxel order."""
    return write_dicom_series(GEOMETRIES["sagittal"], tmp_path_factory.mktemp("ct") / "s", "w")


def _open_ct(viewer: napari.Viewer, folder: Path) -> Image:
    (layer,) = viewer.open(str(folder), plugin="ivcviewer")
    assert isinstance(layer, Image)
    return layer


def _painted_layer(viewer: napari.Viewer, ct: Image) -> Labels:
    """napari's own "New labels layer" on the CT, painted with two boxes, one named."""
    viewer.layers.selection.active = ct
    viewer._new_labels()
    layer = viewer.layers[-1]
    assert isinstance(layer, Labels) and not layer.metadata  # nothing of ivcviewer's
    for value, box in BOXES.items():
        layer.data[box] = value
        assert (layer.data == value).sum() > 10
    set_layer_label_table(layer, LabelTable({3: LabelEntry("thrombus", (0.0, 0.0, 1.0, 1.0))}))
    return layer


def _world_of_values(layer: Labels) -> dict[int, set[tuple[float, ...]]]:
    data = np.asarray(layer.data)
    out = {}
    for value in np.unique(data[data > 0]):
        idx = np.argwhere(data == value)
        world = np.round(np.array([layer.data_to_world(i) for i in idx]), 3)
        out[int(value)] = {tuple(w) for w in world}
    return out


def _world_of_names(layer: Labels) -> dict[str, set[tuple[float, ...]]]:
    names = dict(zip(layer.features["index"], layer.features["name"], strict=True))
    return {str(names.get(v, f"label_{v}")): w for v, w in _world_of_values(layer).items()}


@pytest.mark.parametrize("ending", [".nii.gz", ".nrrd"])
def test_painted_layer_is_written_in_the_ct_order_and_reopens_in_place(
    make_napari_viewer, sagittal_dir: Path, tmp_path: Path, ending: str
) -> None:
    viewer = make_napari_viewer(show=True)
    ct = _open_ct(viewer, sagittal_dir)
    painted = _painted_layer(viewer, ct)
    out = tmp_path / f"painted{ending}"
    written = viewer.layers.save(str(out), selected=True, plugin="ivcviewer")
    assert sorted(written) == sorted([str(out), str(tmp_path / "painted_labels.json")])

    # the file holds the voxels in the DICOM series' order, on its affine
    (source,) = open_path(sagittal_dir, on_irregular=ValidationMode.WARN)
    labels, table = load_labels(out)
    assert labels.shape == source.shape != painted.data.shape
    np.testing.assert_allclose(labels.affine, source.affine, atol=1e-4)
    assert table.names == {3: "thrombus", 8: "label_8"}
    assert table[3].rgba == pytest.approx((0.0, 0.0, 1.0, 1.0))
    assert table[8].rgba == pytest.approx(tuple(painted.get_color(8)), abs=1e-6)

    # opened again, every painted voxel is at the same world position
    (reopened,) = viewer.open(str(out), plugin="ivcviewer")
    assert isinstance(reopened, Labels)
    assert _world_of_values(reopened) == _world_of_values(painted)
    assert reopened.features["name"].tolist() == ["thrombus", "label_8"]


def test_ct_image_is_written_in_its_source_order(
    make_napari_viewer, sagittal_dir: Path, tmp_path: Path
) -> None:
    viewer = make_napari_viewer(show=True)
    ct = _open_ct(viewer, sagittal_dir)
    out = tmp_path / "ct.nii.gz"
    assert viewer.layers.save(str(out), selected=True, plugin="ivcviewer") == [str(out)]
    (source,) = open_path(sagittal_dir, on_irregular=ValidationMode.WARN)
    back = load_volume(out)
    assert np.array_equal(back.array, source.array)
    np.testing.assert_allclose(back.affine, source.affine, atol=1e-4)
    assert back.shape != ct.data.shape  # the display grid is another order


def test_a_layer_of_no_ivcviewer_ct_is_written_on_its_own_grid(
    make_napari_viewer, tmp_path: Path
) -> None:
    viewer = make_napari_viewer(show=True)
    data = np.zeros((4, 5, 6), np.uint8)
    data[1, 2, 3] = 2
    layer = viewer.add_labels(data, scale=(2.0, 0.5, 0.5), translate=(10.0, -3.0, 4.0))
    out = tmp_path / "free.nii.gz"
    viewer.layers.save(str(out), selected=True, plugin="ivcviewer")
    labels, table = load_labels(out)
    assert np.array_equal(labels.array, data) and table.names == {2: "label_2"}
    (reopened,) = viewer.open(str(out), plugin="ivcviewer")
    (idx,) = np.argwhere(np.asarray(reopened.data) == 2)
    np.testing.assert_allclose(reopened.data_to_world(idx), layer.data_to_world((1, 2, 3)))


def test_a_refused_write_is_one_notification_and_no_file(
    make_napari_viewer, sagittal_dir: Path
) -> None:
    viewer = make_napari_viewer(show=True)
    ct = _open_ct(viewer, sagittal_dir)
    _painted_layer(viewer, ct)
    before = sorted(os.listdir(sagittal_dir))
    n = len(notification_manager.records)
    with pytest.warns(UserWarning, match="did not return any written paths"):
        written = viewer.layers.save(
            str(sagittal_dir / "labels.nii.gz"), selected=True, plugin="ivcviewer"
        )
    assert written == []
    notes = [str(r.message) for r in notification_manager.records[n:]]
    assert any("could not save labels" in t and "refusing to write into" in t for t in notes)
    assert sorted(os.listdir(sagittal_dir)) == before


def test_painted_layer_on_a_dicom_ct_saves_as_a_seg_that_reopens_in_place(
    make_napari_viewer, sagittal_dir: Path, tmp_path: Path
) -> None:
    pytest.importorskip("highdicom")
    viewer = make_napari_viewer(show=True)
    ct = _open_ct(viewer, sagittal_dir)
    painted = _painted_layer(viewer, ct)
    out = tmp_path / "painted.dcm"
    assert viewer.layers.save(str(out), selected=True, plugin="ivcviewer") == [str(out)]
    (reopened,) = viewer.open(str(out), plugin="ivcviewer")
    assert isinstance(reopened, Labels) and reopened.data.shape == ct.data.shape
    world = _world_of_names(reopened)
    assert sorted(world) == ["label_8", "thrombus"]  # SEG segments are numbered 1, 2...
    assert world == _world_of_names(painted)


def test_a_seg_needs_its_dicom_ct(make_napari_viewer, tmp_path: Path) -> None:
    pytest.importorskip("highdicom")
    from _napari_factory import marker_volume

    from ivcviewer.io import save_volume

    nifti = tmp_path / "in" / "ct.nii.gz"
    nifti.parent.mkdir()
    save_volume(marker_volume(GEOMETRIES["axial"]), nifti)
    viewer = make_napari_viewer(show=True)
    ct = _open_ct(viewer, nifti)
    _painted_layer(viewer, ct)
    n = len(notification_manager.records)
    with pytest.warns(UserWarning, match="did not return any written paths"):
        viewer.layers.save(str(tmp_path / "a.dcm"), selected=True, plugin="ivcviewer")
    viewer.layers.remove(ct)
    with pytest.warns(UserWarning, match="did not return any written paths"):
        viewer.layers.save(str(tmp_path / "b.dcm"), selected=True, plugin="ivcviewer")
    notes = [str(r.message) for r in notification_manager.records[n:]]
    assert any("a.dcm" in t and "NIfTI" in t for t in notes), notes
    assert any("b.dcm" in t and "no open CT layer shares" in t for t in notes), notes
    assert not (tmp_path / "a.dcm").exists() and not (tmp_path / "b.dcm").exists()
