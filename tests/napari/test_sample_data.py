"""napari sample data: the case phantom's CT, truth labels and landmarks, and the real CT with
its anatomy label map, as layer data and in a shown viewer."""

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


def test_real_ct_with_anatomy_is_a_ct_and_its_named_label_map_on_one_grid(
    make_napari_viewer,
) -> None:
    from ivcviewer.sample_data import real_abdominal_ct

    ct, anatomy = sample_data.real_ct_with_anatomy()
    assert [ct[2], anatomy[2]] == ["image", "labels"]
    assert ct[1]["name"] == sample_data.REAL_CT_NAME
    assert anatomy[1]["name"] == sample_data.REAL_ANATOMY_NAME
    assert ct[1]["metadata"]["source"] == str(real_abdominal_ct().ct)
    assert ct[1]["contrast_limits"] == pytest.approx((-160.0, 240.0))
    assert anatomy[0].shape == ct[0].shape == (112, 101, 122)
    # the same voxel -> LPS affine, hence the same napari transform
    np.testing.assert_allclose(
        anatomy[1]["metadata"]["affine_lps"], ct[1]["metadata"]["affine_lps"]
    )
    for key in ("scale", "translate"):
        assert anatomy[1][key] == pytest.approx(ct[1][key])
    assert tuple(anatomy[1]["units"]) == tuple(ct[1]["units"]) == ("mm", "mm", "mm")
    # the structure names, as the phantom's truth labels carry them
    names = anatomy[1]["metadata"]["label_names"]
    assert len(names) == 62
    assert {"inferior_vena_cava", "aorta", "liver", "iliopsoas_right"} <= set(names.values())
    assert list(anatomy[1]["features"]["name"]) == list(names.values())

    viewer = make_napari_viewer(show=True)
    image, labels = (viewer.add_layer(Layer.create(*d)) for d in (ct, anatomy))
    corners = np.array([[0, 0, 0], [111, 100, 121], [56, 50, 61]], dtype=float)
    for ijk in corners:
        np.testing.assert_allclose(image.data_to_world(ijk), labels.data_to_world(ijk))
    # the liver is where the CT shows liver parenchyma (non-contrast, 20-120 HU)
    liver = next(v for v, n in names.items() if n == "liver")
    idx = np.argwhere(np.asarray(labels.data) == liver)[::200]
    hu = []
    for i in idx:
        world = tuple(labels.data_to_world(i))
        viewer.dims.point = world  # napari reads the value on the slice shown
        hu.append(float(image.get_value(world, world=True)))
    assert 20 < np.median(hu) < 120, hu
    assert "name: liver" in labels.get_status(world, world=True)["coordinates"]


def test_the_case_overlay_fits_the_case_on_the_real_anatomy_layer(make_napari_viewer) -> None:
    from ivcviewer._napari.widgets.case_overlay import AnatomySource, CaseOverlayWidget
    from ivcviewer.annotations import default_case_path

    viewer = make_napari_viewer(show=True)
    image, labels = (viewer.add_layer(Layer.create(*d)) for d in sample_data.real_ct_with_anatomy())
    w = CaseOverlayWidget(viewer)
    viewer.window.add_dock_widget(w, name="Case overlay")
    w.set_case(default_case_path())
    w.set_ct_layer(image)
    w.set_source(AnatomySource.LABELMAP_LAYER, layer=labels)
    result = w.run()
    assert result.landmarks.provenance.source == "labelmap"
    assert {r.finding_id for r in result.regions} == {"mass", "intravascular_tumour"}
    lv = result.involvement
    assert lv is not None and lv.mayo_level == "III" and lv.ivc_segment == "II"


def test_the_manifest_lists_the_samples() -> None:
    import npe2

    import ivcviewer

    manifest = npe2.PluginManifest.from_file(Path(ivcviewer.__file__).parent / "napari.yaml")
    commands = {c.id: c.python_name for c in manifest.contributions.commands}
    samples = {s.display_name: commands[s.command] for s in manifest.contributions.sample_data}
    assert samples == {
        "Case phantom CT": "ivcviewer._napari.sample_data:phantom_ct",
        "Case phantom CT with truth labels": "ivcviewer._napari.sample_data:phantom_ct_with_truth",
        "Real abdominal CT with anatomy": "ivcviewer._napari.sample_data:real_ct_with_anatomy",
    }


@pytest.mark.parametrize("open_first", ["sample", "widget"])
def test_case_overlay_fits_the_phantom_sample_at_once(
    make_napari_viewer, cache: Path, open_first: str
) -> None:
    """The sample's CT names its truth folder: Fit overlay works without choosing a source,
    whether the widget is opened before or after the sample."""
    from ivcviewer._napari.widgets.case_overlay import AnatomySource, CaseOverlayWidget

    viewer = make_napari_viewer(show=True)

    def add_sample() -> None:
        for data in sample_data.phantom_ct("small"):
            viewer.add_layer(Layer.create(*data))

    if open_first == "sample":
        add_sample()
    widget = CaseOverlayWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Case overlay")
    if open_first == "widget":
        add_sample()
    assert widget.source == AnatomySource.PHANTOM_TRUTH
    assert widget.model.paths[AnatomySource.PHANTOM_TRUTH] == str(
        sample_data.phantom_folder("small")
    )
    result = widget.run()
    assert result.drawn


def test_a_chosen_path_is_kept_when_a_sample_opens(make_napari_viewer, cache: Path) -> None:
    from ivcviewer._napari.widgets.case_overlay import AnatomySource, CaseOverlayWidget

    viewer = make_napari_viewer(show=True)
    widget = CaseOverlayWidget(viewer)
    widget.set_source(AnatomySource.LANDMARKS_JSON, "/somewhere/landmarks.json")
    for data in sample_data.phantom_ct("small"):
        viewer.add_layer(Layer.create(*data))
    assert widget.source == AnatomySource.LANDMARKS_JSON
    assert AnatomySource.PHANTOM_TRUTH not in widget.model.paths


def test_real_ct_sample_names_its_label_map() -> None:
    ct = sample_data.real_ct_with_anatomy()[0]
    source, path, names = sample_data.anatomy_source_of(ct[1]["metadata"])
    from ivcviewer.sample_data import real_abdominal_ct

    sample = real_abdominal_ct()
    assert source.value == "label map file (structure names)"
    assert (path, names) == (str(sample.labels), str(sample.names))


def test_case_overlay_fits_the_real_ct_sample_at_once(make_napari_viewer) -> None:
    from ivcviewer._napari.widgets.case_overlay import AnatomySource, CaseOverlayWidget

    viewer = make_napari_viewer(show=True)
    for data in sample_data.real_ct_with_anatomy():
        viewer.add_layer(Layer.create(*data))
    widget = CaseOverlayWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Case overlay")
    assert widget.source == AnatomySource.LABELMAP_FILE
    assert widget.run().drawn
