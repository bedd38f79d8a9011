"""Real public CT through the reader: label maps land on their CT in napari's world."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.napari, pytest.mark.realdata]

napari = pytest.importorskip("napari")
from napari.layers import Layer  # noqa: E402

from ivcviewer._napari import launch, reader  # noqa: E402
from ivcviewer._napari.layers import labels_layer_data  # noqa: E402


def _hu_at_label(viewer, image, labels, value: int, n: int = 25) -> np.ndarray:
    """HU napari shows in ``image`` at the world positions of ``n`` voxels of label ``value``."""
    idx = np.argwhere(np.asarray(labels.data) == value)
    rng = np.random.default_rng(0)
    hu = []
    for i in idx[rng.choice(len(idx), size=min(n, len(idx)), replace=False)]:
        world = tuple(labels.data_to_world(i))
        viewer.dims.point = world
        hu.append(float(image.get_value(world, world=True)))
    return np.array(hu)


def test_nifti_ct_and_its_named_label_map(make_napari_viewer, public_ct: Path) -> None:
    folder = public_ct / "totalsegmentator_abdomen"
    ct_path, seg_path = folder / "example_ct.nii.gz", folder / "example_ct_totalseg_v1.nii.gz"
    read = reader.napari_get_reader([str(ct_path), str(seg_path)])
    assert callable(read)
    layer_data = read([str(ct_path), str(seg_path)])
    assert [kind for _, _, kind in layer_data] == ["image", "labels"]
    viewer = make_napari_viewer(show=True)
    image, labels = (viewer.add_layer(Layer.create(*d)) for d in layer_data)
    names = labels.metadata["label_names"]
    assert names[40] == "liver" and names[37] == "inferior_vena_cava"
    liver_hu = _hu_at_label(viewer, image, labels, 40)
    assert 20 < np.median(liver_hu) < 120, liver_hu  # non-contrast liver parenchyma
    vertebra = next(v for v, n in names.items() if n == "vertebrae_L3")
    assert np.median(_hu_at_label(viewer, image, labels, vertebra)) > 120  # bone
    assert np.median(_hu_at_label(viewer, image, labels, 42)) < -400  # lung_lower_lobe_left: air
    # and in patient space the liver is on the right (LPS x below the spine's)
    data = np.asarray(labels.data)
    centre_x = {
        v: float(np.mean([labels.data_to_world(i)[2] for i in np.argwhere(data == v)[::50]]))
        for v in (40, vertebra)
    }
    assert centre_x[40] < centre_x[vertebra] - 30
    # hovering the liver shows its name
    world = tuple(labels.data_to_world(np.argwhere(np.asarray(labels.data) == 40)[0]))
    viewer.dims.point = world
    assert "name: liver" in labels.get_status(world, world=True)["coordinates"]


def test_dicom_series_and_its_flipped_label_map(make_napari_viewer, public_ct: Path) -> None:
    from ivcviewer.io import load_labels

    folder = public_ct / "totalsegmentator_dicom"
    layer_data = reader.read_paths(str(folder / "series"), show_report=False)
    assert len(layer_data) == 1
    labels_volume, table = load_labels(folder / "example_seg_dicom.nii.gz", names={5: "liver"})
    viewer = make_napari_viewer(show=True)
    image = viewer.add_layer(Layer.create(*layer_data[0]))
    labels = viewer.add_layer(Layer.create(*labels_layer_data(labels_volume, table)))
    assert image.metadata["geometry"]["spacing_mm"][0] == pytest.approx(2.0, abs=1e-3)
    liver_hu = _hu_at_label(viewer, image, labels, 5)
    assert 60 < np.median(liver_hu) < 250, liver_hu  # contrast-enhanced liver
    # the CT shows: a screenshot of the middle slice is windowed soft tissue, not black
    launch.set_view(viewer, "axial", size=(256, 256))
    labels.visible = False
    img = launch.screenshot(viewer)[..., :3].astype(float)
    grey = (img > 60) & (img < 200)
    assert grey.mean() > 0.2
