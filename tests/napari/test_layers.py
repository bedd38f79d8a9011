"""Layer tuples in a shown viewer: world positions equal the LPS of the DICOM tags."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from _napari_factory import GEOMETRIES, affine_of, phantom_volume, unique_volume

from ivcviewer.geometry import lps_to_napari
from ivcviewer.report import GeometryReport
from ivcviewer.volume import Volume

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")
from napari.layers import Layer  # noqa: E402

from ivcviewer._napari import layers as nl  # noqa: E402

#: Voxels (slice, row, col) checked in every geometry: corners and inner points.
VOXELS = [(0, 0, 0), (19, 47, 47), (0, 47, 0), (19, 0, 47), (7, 13, 29), (12, 40, 3)]


@pytest.mark.parametrize("name", ["axial", "sagittal", "tilted"])
def test_world_position_of_a_voxel_is_its_dicom_lps(make_napari_viewer, name: str) -> None:
    geom = GEOMETRIES[name]
    volume = unique_volume(geom)
    viewer = make_napari_viewer(show=True)
    layer = viewer.add_layer(Layer.create(*nl.image_layer_data(volume)))
    for ijk in VOXELS:
        value = volume.array[ijk]
        # where that voxel sits in the displayed (canonical) array, found by its value
        (idx,) = np.argwhere(np.asarray(layer.data) == value)
        world = np.asarray(layer.data_to_world(idx))
        expected_lps = geom.lps(ijk)
        np.testing.assert_allclose(world, lps_to_napari(expected_lps), atol=1e-6)
        np.testing.assert_allclose(layer.world_to_data(world), idx, atol=1e-6)
        if name != "tilted":
            # napari shows the voxel's value at that world position (on the slice through it).
            # A sheared (tilted) grid is sliced per data slice in 2D, so it is left out here.
            viewer.dims.point = tuple(world)
            assert layer.get_value(tuple(world), world=True) == value
        # the metadata affine maps the layer index to the same LPS point
        np.testing.assert_allclose(nl.lps_of_layer_index(layer.metadata, idx), expected_lps)
    assert tuple(str(u) for u in layer.units) == ("millimeter",) * 3


def test_display_axes_are_superior_posterior_left(make_napari_viewer) -> None:
    """Every acquisition slices as axial: layer axes point S, P, L (napari z, y, x)."""
    viewer = make_napari_viewer(show=True)
    for name in ("axial", "sagittal"):
        volume = unique_volume(GEOMETRIES[name])
        layer = viewer.add_layer(Layer.create(*nl.image_layer_data(volume)))
        origin = np.asarray(layer.data_to_world((0, 0, 0)))
        for axis in range(3):
            step = np.zeros(3)
            step[axis] = 1
            d = np.asarray(layer.data_to_world(step)) - origin
            assert np.argmax(np.abs(d)) == axis, (name, axis, d)
            assert d[axis] > 0, (name, axis, d)


def test_image_kwargs(make_napari_viewer) -> None:
    axial = phantom_volume(GEOMETRIES["axial"], (slice(0, 2),) * 3, window=(50.0, 350.0))
    axial.report.add("gantry_tilt", "warning", "example message")
    data, kw, kind = nl.image_layer_data(axial)
    assert kind == "image"
    assert data is axial.array or np.shares_memory(data, axial.array)
    assert kw["scale"] == pytest.approx((2.5, 0.8, 0.7))
    assert kw["translate"] == pytest.approx((50.0, -120.0, -100.0))
    assert kw["units"] == ("mm", "mm", "mm")
    assert kw["contrast_limits"] == pytest.approx((-125.0, 225.0))
    assert kw["colormap"] == "gray"
    assert kw["name"] == "axial phantom"
    md = kw["metadata"]
    assert md["series_uid"] == "1.2.3.4"
    assert md["geometry_report"] == [
        {"code": "gantry_tilt", "severity": "warning", "message": "example message"}
    ]
    np.testing.assert_allclose(md["affine_lps"], affine_of(GEOMETRIES["axial"]))
    assert md["geometry"]["spacing_mm"] == pytest.approx([2.5, 0.8, 0.7])
    assert md["geometry"]["orientation"] == "axial"

    tilted = unique_volume(GEOMETRIES["tilted"])
    _, kw_t, _ = nl.image_layer_data(tilted)
    assert "affine" in kw_t and "scale" not in kw_t
    assert kw_t["metadata"]["geometry"]["tilt_deg"] == pytest.approx(15.0, abs=1e-6)
    # no window in the series: CT falls back to the abdomen window 400/40
    default = GeometryReport()
    default.add("default_window", "info", "no window")
    ct = phantom_volume(GEOMETRIES["axial"], (slice(0, 2),) * 3, report=default)
    assert nl.image_layer_data(ct)[1]["contrast_limits"] == pytest.approx((-160.0, 240.0))

    viewer = make_napari_viewer(show=True)
    layer = viewer.add_layer(Layer.create(data, kw, kind))
    assert tuple(layer.contrast_limits) == pytest.approx((-125.0, 225.0))
    assert layer.metadata["geometry"]["axes"] == "SPL"


def _label_volume() -> tuple[Volume, dict[int, object]]:
    geom = GEOMETRIES["sagittal"]
    arr = np.zeros((20, 48, 48), dtype=np.uint8)
    arr[2:6, 5:15, 5:15] = 1
    arr[10:14, 30:40, 20:30] = 2
    table: dict[int, object] = {1: "tumour", 2: {"name": "IVC", "color": (0, 0, 255)}}
    return Volume(arr, affine_of(geom)), table


def test_labels_show_names_on_hover_and_their_colours(make_napari_viewer) -> None:
    labels, table = _label_volume()
    viewer = make_napari_viewer(show=True)
    layer = viewer.add_layer(Layer.create(*nl.labels_layer_data(labels, table, name="Findings")))
    assert layer.name == "Findings"
    for value, name in ((1, "tumour"), (2, "IVC")):
        ijk = tuple(int(v) for v in np.argwhere(labels.array == value)[0])
        world = tuple(lps_to_napari(labels.voxel_to_lps(ijk)))
        viewer.dims.point = world
        assert layer.get_value(world, world=True) == value
        status = layer.get_status(world, world=True)
        assert f"name: {name}" in status["coordinates"], status
    # background: no name
    world0 = tuple(lps_to_napari(labels.voxel_to_lps((0, 0, 0))))
    viewer.dims.point = world0
    assert "name:" not in layer.get_status(world0, world=True)["coordinates"]
    np.testing.assert_allclose(layer.colormap.map(np.array([2]))[0], [0, 0, 1, 1], atol=1e-6)
    np.testing.assert_allclose(layer.colormap.map(np.array([0]))[0][3], 0.0)
    expected_1 = np.array(nl.normalise_label_table(table)[1][1])
    np.testing.assert_allclose(layer.colormap.map(np.array([1]))[0], expected_1, atol=1e-6)
    # the label map lands on the CT grid in world space (same place, same display axes)
    assert layer.metadata["label_names"] == {1: "tumour", 2: "IVC"}


def test_labels_reject_float_data() -> None:
    labels, table = _label_volume()
    with pytest.raises(ValueError, match="must hold integers"):
        nl.labels_layer_data(labels.with_array(labels.array.astype(float)), table)


def test_points_are_placed_in_lps_with_their_names(make_napari_viewer) -> None:
    pts = {"renal veins": (-5.0, 10.0, 42.5), "hepatic confluence": (3.0, 12.0, 80.0)}
    viewer = make_napari_viewer(show=True)
    layer = viewer.add_layer(Layer.create(*nl.points_layer_data(pts)))
    np.testing.assert_allclose(layer.data[0], (42.5, 10.0, -5.0))
    np.testing.assert_allclose(layer.data_to_world(layer.data[1]), (80.0, 12.0, 3.0))
    assert list(layer.features["name"]) == list(pts)
    assert layer.text.string.format == "{name}"
    assert list(layer.text.values) == list(pts)


def test_layer_helpers_doctests() -> None:
    from ivcviewer._napari import _display, launch
    from ivcviewer._napari.widgets import geometry_report

    for module in (nl, _display, launch, geometry_report):
        result = doctest.testmod(module)
        assert result.failed == 0, module.__name__
        assert result.attempted > 0, module.__name__


def test_the_modules_split_from_layers_keep_their_doctests_and_names() -> None:
    from ivcviewer._napari import geometry_text, label_colours, surface_layers

    for module in (geometry_text, label_colours, surface_layers):
        result = doctest.testmod(module)
        assert result.failed == 0, module.__name__
        assert result.attempted > 0, module.__name__
    # every name moved out of layers.py is still importable from it
    for name in (
        "GAP_CODES",
        "VOLUME_KEY",
        "geometry_summary",
        "window_to_limits",
        "report_summary_text",
        "normalise_label_table",
        "surface_layer_data",
        "display_smoothing_mm",
        "label_surfaces_layer_data",
        "layer_volume",
    ):
        assert hasattr(nl, name), name
