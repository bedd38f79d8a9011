"""The napari reader: what it accepts, what it refuses, and where the voxels land."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _napari_factory import (
    GEOMETRIES,
    MARKERS,
    dicom_lps_of_value,
    marker_volume,
    write_dicom_series,
)

from ivcviewer.geometry import lps_to_napari, lps_to_voxel
from ivcviewer.report import ValidationMode

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")
from napari.layers import Layer  # noqa: E402
from napari.utils.notifications import notification_manager  # noqa: E402

from ivcviewer._napari import reader  # noqa: E402
from ivcviewer._napari.widgets.geometry_report import GeometryReportWidget  # noqa: E402


@pytest.fixture(scope="module")
def series_dir(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Axial, sagittal and tilted marker series written as DICOM (once per module)."""
    root = tmp_path_factory.mktemp("dicom")
    return {
        name: write_dicom_series(GEOMETRIES[name], root / name, seed=f"napari-{name}")
        for name in ("axial", "sagittal", "tilted")
    }


def _notes_since(n: int) -> list[str]:
    return [str(r.message) for r in notification_manager.records[n:]]


def test_reader_refuses_what_it_cannot_read_without_raising(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not an image\n")
    no_ext = tmp_path / "README"
    no_ext.write_text("x" * 300)
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "a.csv").write_text("1,2,3\n")
    zarr = tmp_path / "image.zarr"
    zarr.mkdir()
    for path in (text, no_ext, folder, zarr, tmp_path / "missing.dcm", "", [], [str(text)]):
        assert reader.napari_get_reader(path) is None, path
    assert reader.napari_get_reader(12) is None  # not a path at all


def test_reader_accepts_dicom_and_volume_files(series_dir: dict[str, Path], tmp_path) -> None:
    from ivcviewer.io import save_volume

    folder = series_dir["axial"]
    one_file = sorted(folder.iterdir())[0]
    no_ext = tmp_path / "IM0001"
    no_ext.write_bytes(one_file.read_bytes())
    nifti = tmp_path / "ct.nii.gz"
    save_volume(marker_volume(GEOMETRIES["axial"]), nifti)
    for path in (folder, one_file, no_ext, nifti, [str(nifti)], [str(one_file), str(no_ext)]):
        assert callable(reader.napari_get_reader(path)), path


@pytest.mark.parametrize("name", ["axial", "sagittal", "tilted"])
def test_dicom_voxels_land_at_the_lps_of_their_tags(
    make_napari_viewer, series_dir: dict[str, Path], name: str
) -> None:
    """Read back through the reader: world position of each marker = LPS from its file's tags."""
    folder = series_dir[name]
    # WARN keeps a tilted stack on its sheared grid (no interpolation), so markers stay exact
    read = reader.make_reader(on_irregular=ValidationMode.WARN, show_report=False)
    layer_data = read(str(folder))
    assert len(layer_data) == 1
    viewer = make_napari_viewer(show=True)
    layer = viewer.add_layer(Layer.create(*layer_data[0]))
    assert layer.name == f"{name} markers"
    assert tuple(str(u) for u in layer.units) == ("millimeter",) * 3
    assert tuple(layer.contrast_limits) == pytest.approx((-160.0, 240.0))
    for value in MARKERS.values():
        (idx,) = np.argwhere(np.asarray(layer.data) == value)
        world = np.asarray(layer.data_to_world(idx))
        expected = lps_to_napari(dicom_lps_of_value(folder, value))
        np.testing.assert_allclose(world, expected, atol=1e-3)
    codes = [item["code"] for item in layer.metadata["geometry_report"]]
    assert ("gantry_tilt" in codes) == (name == "tilted")
    assert layer.metadata["series_uid"]


def test_tilted_series_is_resampled_by_default_and_markers_stay_put(
    series_dir: dict[str, Path],
) -> None:
    (data, kw, kind) = reader.read_paths(str(series_dir["tilted"]), show_report=False)[0]
    assert kind == "image"
    # the de-skewed grid is orthogonal (no shear), and the report says what was done
    assert kw["metadata"]["geometry"]["tilt_deg"] == pytest.approx(0.0, abs=1e-3)
    assert "gantry_tilt" in [item["code"] for item in kw["metadata"]["geometry_report"]]
    from ivcviewer._napari.widgets.geometry_report import report_rows

    tilt_row = dict(report_rows(kw["metadata"]))["Gantry tilt"]
    assert (
        tilt_row == "removed (resampled to an orthogonal grid, extended to hold every source voxel)"
    )
    affine = np.asarray(kw["metadata"]["affine_lps"])
    region = np.asarray(data, dtype=float)
    checked = 0
    for value in MARKERS.values():
        expected = dicom_lps_of_value(series_dir["tilted"], value)
        ijk = lps_to_voxel(affine, expected)
        if np.any(ijk < -0.5) or np.any(ijk > np.array(region.shape) - 0.5):
            continue  # outside the de-skewed grid (never, as it is extended: see below)
        # the de-skew interpolates in-plane: the marker stays within a voxel of its true place
        k, r, c = (int(round(v)) for v in ijk)
        near = region[max(k - 1, 0) : k + 2, max(r - 1, 0) : r + 2, max(c - 1, 0) : c + 2]
        assert near.max() > 40 + 0.3 * (value - 40), (value, (k, r, c))
        checked += 1
    assert checked == len(MARKERS)  # the extended grid holds every marker


def test_two_series_give_two_layers(series_dir: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    both = tmp_path / "study"
    shutil.copytree(series_dir["axial"], both / "a")
    shutil.copytree(series_dir["sagittal"], both / "b")
    layer_data = reader.read_paths(str(both), show_report=False)
    assert sorted(kw["name"] for _, kw, _ in layer_data) == ["axial markers", "sagittal markers"]
    uids = {kw["metadata"]["series_uid"] for _, kw, _ in layer_data}
    assert len(uids) == 2
    only = reader.read_paths(str(both), series_uid=uids.pop(), show_report=False)
    assert len(only) == 1


def test_viewer_open_shows_report_and_dock(make_napari_viewer, series_dir) -> None:
    viewer = make_napari_viewer(show=True)
    n = len(notification_manager.records)
    layers = viewer.open(str(series_dir["axial"]), plugin="ivcviewer")
    assert [layer.name for layer in layers] == ["axial markers"]
    notes = _notes_since(n)
    assert any("axial markers" in m for m in notes), notes
    docked = [w for w in viewer.window.dock_widgets.values() if isinstance(w, GeometryReportWidget)]
    assert len(docked) == 1
    assert viewer.scene.camera.orientation[0] == "away"  # 3D is a rotation, not a mirror
    rows = dict(docked[0].rows)
    assert rows["Spacing (mm)"].startswith("2.5, 0.8, 0.7")
    assert rows["Rescale to HU"] == "applied"
    # opening again docks no second widget
    viewer.open(str(series_dir["sagittal"]), plugin="ivcviewer")
    docked = [w for w in viewer.window.dock_widgets.values() if isinstance(w, GeometryReportWidget)]
    assert len(docked) == 1
    assert dict(docked[0].rows)["Orientation"].startswith("sagittal")


def test_unreadable_series_gives_a_notification_not_a_traceback(
    make_napari_viewer, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "IM0001").write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00garbage")
    read = reader.napari_get_reader(str(broken))
    assert callable(read)
    viewer = make_napari_viewer(show=True)
    n = len(notification_manager.records)
    layers = viewer.open(str(broken), plugin="ivcviewer")
    assert layers == []
    assert len(viewer.layers) == 0
    notes = _notes_since(n)
    assert any("could not open" in m and str(broken) in m for m in notes), notes


def test_label_map_with_a_table_opens_as_named_labels(
    make_napari_viewer, series_dir: dict[str, Path], tmp_path: Path
) -> None:
    from ivcviewer.io import LabelTable, save_labels

    ct = marker_volume(GEOMETRIES["sagittal"])
    arr = np.zeros(ct.shape, dtype=np.uint8)
    arr[2:6, 10:20, 10:20] = 3
    seg_path, sidecar = save_labels(
        ct.with_array(arr), LabelTable.from_names({3: "tumour"}), tmp_path / "seg.nii.gz"
    )
    assert sidecar.name == "seg_labels.json"
    layer_data = reader.read_paths([str(series_dir["sagittal"]), str(seg_path)])
    assert [kind for _, _, kind in layer_data] == ["image", "labels"]
    viewer = make_napari_viewer(show=True)
    image, labels = (viewer.add_layer(Layer.create(*d)) for d in layer_data)
    assert labels.name == "seg"
    # a voxel of the label sits on the same CT voxel in napari's world
    ijk = (3, 12, 15)
    world = tuple(lps_to_napari(ct.voxel_to_lps(ijk)))
    viewer.dims.point = world
    assert labels.get_value(world, world=True) == 3
    assert "name: tumour" in labels.get_status(world, world=True)["coordinates"]
    np.testing.assert_allclose(image.world_to_data(world), labels.world_to_data(world), atol=1e-6)
