"""napari sample data: the case phantom's CT, truth labels and landmarks as layer data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ivcviewer import geometry
from ivcviewer.annotations import Landmarks
from ivcviewer.phantom import PhantomGrid
from ivcviewer.phantom.output import LANDMARKS_FILE

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")
from napari.layers import Layer  # noqa: E402

from ivcviewer._napari import sample_data  # noqa: E402


@pytest.fixture
def cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private phantom cache (never the user's)."""
    root = tmp_path_factory.getbasetemp() / "sample-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(root))
    return root


def test_phantom_ct_is_an_image_in_mm_with_the_abdomen_window(cache: Path) -> None:
    (layer,) = sample_data.phantom_ct("small")
    data, kwargs, kind = layer
    grid = PhantomGrid.preset("small")
    assert kind == "image" and data.shape == grid.shape
    assert kwargs["name"] == sample_data.CT_NAME
    assert kwargs["scale"] == pytest.approx(grid.spacing)
    # world (z, y, x) of voxel 0 is the grid origin, LPS reversed
    assert kwargs["translate"] == pytest.approx(tuple(reversed(grid.origin_lps)))
    assert tuple(kwargs["units"]) == ("mm", "mm", "mm")
    assert kwargs["contrast_limits"] == pytest.approx((-160.0, 240.0))
    assert kwargs["metadata"]["modality"] == "CT"
    assert cache in sample_data.phantom_folder("small").parents


def test_phantom_with_truth_has_labels_and_landmarks_on_the_ct_grid(cache: Path) -> None:
    ct, labels, points = sample_data.phantom_ct_with_truth("small")
    assert [t[2] for t in (ct, labels, points)] == ["image", "labels", "points"]
    for t in (labels, points):
        assert t[1]["scale"] == pytest.approx(ct[1]["scale"])
        assert t[1]["translate"] == pytest.approx(ct[1]["translate"])
        assert tuple(t[1]["units"]) == ("mm", "mm", "mm")
    assert labels[0].shape == ct[0].shape
    names = set(labels[1]["features"]["name"])
    assert {"mass", "intravascular_tumour", "inferior_vena_cava", "liver"} <= names
    # the mass label is painted
    mass = int(labels[1]["features"]["index"][list(labels[1]["features"]["name"]).index("mass")])
    assert np.count_nonzero(labels[0] == mass) > 0
    # landmarks: data -> world through the layer's own transform gives the truth in LPS
    layer = Layer.create(*points)
    truth = Landmarks.load_json(sample_data.phantom_folder("small") / LANDMARKS_FILE)
    for i, lm in enumerate(points[1]["features"]["landmark"]):
        world = np.asarray(layer.data_to_world(layer.data[i]), dtype=float)
        np.testing.assert_allclose(geometry.napari_to_lps(world), truth.point(lm), atol=1e-6)


def test_the_manifest_lists_both_samples() -> None:
    import npe2

    import ivcviewer

    manifest = npe2.PluginManifest.from_file(Path(ivcviewer.__file__).parent / "napari.yaml")
    commands = {c.id: c.python_name for c in manifest.contributions.commands}
    samples = {s.display_name: commands[s.command] for s in manifest.contributions.sample_data}
    assert samples == {
        "Case phantom CT": "ivcviewer._napari.sample_data:phantom_ct",
        "Case phantom CT with truth labels": "ivcviewer._napari.sample_data:phantom_ct_with_truth",
    }
