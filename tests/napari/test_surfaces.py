"""Finding surfaces in napari: exact world vertices, lit and oriented in a 3D screenshot, and
the Case overlay's "3D surfaces" switch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from ivcviewer import geometry
from ivcviewer.geometry import affine_from_dicom
from ivcviewer.io import open_path
from ivcviewer.mesh import region_surface
from ivcviewer.volume import Volume

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")
from napari.layers import Labels, Layer, Surface  # noqa: E402

from ivcviewer._napari import launch  # noqa: E402
from ivcviewer._napari._viewer import prepare_viewer  # noqa: E402
from ivcviewer._napari.layers import image_layer_data, surface_layer_data  # noqa: E402
from ivcviewer._napari.widgets.case_overlay import (  # noqa: E402
    FINDINGS_LAYER,
    AnatomySource,
    CaseOverlayWidget,
)

#: Colour of the test surface: pure green, far from any grey of the CT.
GREEN = "#00ff00"


def _sphere_labels(
    affine: NDArray[np.float64],
    shape: tuple[int, int, int],
    centre_lps: NDArray[np.float64],
    radius_mm: float,
) -> Volume:
    ijk = np.indices(shape).reshape(3, -1).T
    inside = np.linalg.norm(geometry.apply_affine(affine, ijk) - centre_lps, axis=1) <= radius_mm
    arr = np.zeros(shape, np.uint8)
    arr.reshape(-1)[inside] = 1
    return Volume(arr, affine)


def test_surface_layer_world_vertices_are_the_mesh_in_napari_world(make_napari_viewer) -> None:
    # a rotated, sheared (tilted), anisotropic grid: the layer must not depend on the grid
    t = np.radians(20.0)
    affine = affine_from_dicom(
        [np.cos(t), np.sin(t), 0, -np.sin(t), np.cos(t), 0],
        [-30.0, -20.0, 40.0],
        [0.9, 0.8],
        [0.0, 0.5, 2.5],
    )
    labels = _sphere_labels(affine, (14, 40, 40), affine[:3, :3] @ [7, 20, 20] + affine[:3, 3], 9.0)
    verts, faces = region_surface(labels, 1)
    viewer = make_napari_viewer(show=True)
    layer = viewer.add_layer(Layer.create(*surface_layer_data(verts, faces, GREEN, "sphere")))

    assert isinstance(layer, Surface)
    world = np.array([layer.data_to_world(v) for v in layer.vertices])
    np.testing.assert_allclose(world, geometry.lps_to_napari(verts), atol=1e-9)
    np.testing.assert_allclose(geometry.napari_to_lps(world), verts, atol=1e-9)
    # the same triangles, each reversed (the world axes mirror LPS)
    np.testing.assert_array_equal(np.asarray(layer.faces), faces[:, ::-1])
    assert layer.shading == "smooth"
    colours = np.asarray(layer.vertex_colors)
    assert colours.shape == (len(verts), 4)
    np.testing.assert_allclose(colours, np.tile([0.0, 1.0, 0.0, 1.0], (len(verts), 1)))
    assert tuple(str(u) for u in layer.units) == ("millimeter",) * 3
    np.testing.assert_allclose(layer.metadata["vertices_lps"], verts)


def test_3d_screenshot_shows_the_lit_surface_right_side_left_head_up(make_napari_viewer) -> None:
    """Anterior view of a small CT with a sphere on the patient's right, towards the head: the
    sphere is green on the screen's left and upper half, lit (bright) from the viewer's side."""
    affine = affine_from_dicom([1, 0, 0, 0, 1, 0], [-60.0, -60.0, 0.0], [2.5, 2.5], [0, 0, 2.5])
    shape = (40, 48, 48)  # 120 mm cube: x, y from -60 to 57.5 mm, z from 0 to 97.5 mm
    ct = Volume(np.full(shape, -1000, np.int16), affine)
    ct.array[:, 20:28, 20:28] = 600  # a "spine" in the middle, posterior to the sphere
    centre = np.array([-30.0, -10.0, 70.0])  # patient's right (x < 0), superior
    sphere = _sphere_labels(affine, shape, centre, 15.0)
    verts, faces = region_surface(sphere, 1)

    viewer = make_napari_viewer(show=True)
    prepare_viewer(viewer)
    ct_layer = viewer.add_layer(Layer.create(*image_layer_data(ct, name="CT")))
    ct_layer.blending = "translucent_no_depth"
    viewer.add_layer(Layer.create(*surface_layer_data(verts, faces, GREEN, "sphere")))
    launch.set_view(viewer, "3d", ct.voxel_to_lps((np.array(shape) - 1) / 2.0), (300, 300))
    img = launch.screenshot(viewer)[..., :3].astype(int)

    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    green = (g > 60) & (g > 2 * r + 20) & (g > 2 * b + 20)
    assert green.sum() > 500, "no green surface on the screenshot"
    ys, xs = np.nonzero(green)
    h, w = green.shape
    # patient's right on the screen's left, head up; the CT centre is the screen centre
    assert xs.mean() < 0.4 * w and ys.mean() < 0.4 * h
    # the sphere's centre in projection is green (no hole), and lit: bright, not ambient-dark
    cy, cx = int(round(ys.mean())), int(round(xs.mean()))
    assert green[cy - 3 : cy + 4, cx - 3 : cx + 4].all()
    assert np.percentile(g[green], 90) > 200
    # the light comes from the upper left: the upper-left quarter of the disc is the brighter
    upper_left = green & (np.arange(h)[:, None] < cy) & (np.arange(w)[None, :] < cx)
    lower_right = green & (np.arange(h)[:, None] > cy) & (np.arange(w)[None, :] > cx)
    assert g[upper_left].mean() > g[lower_right].mean() + 10


def test_case_overlay_3d_surfaces_switch(make_napari_viewer, phantom_dir: Path) -> None:
    viewer = make_napari_viewer(show=True)
    ct = open_path(phantom_dir / "ct")[0]
    ct_layer = viewer.add_layer(Layer.create(*image_layer_data(ct, name="phantom CT")))
    w = CaseOverlayWidget(viewer)
    viewer.window.add_dock_widget(w, name="Case overlay")
    w.set_ct_layer(ct_layer)
    w.set_source(AnatomySource.PHANTOM_TRUTH, phantom_dir)
    result = w.run()
    assert w.surface_layers == []  # off by default

    viewer.layers.selection.active = ct_layer
    w.surfaces_check.setChecked(True)
    surfaces = w.surface_layers
    regions = {r.value: r for r in result.regions}
    assert len(surfaces) == len(regions) > 0
    labels = viewer.layers[FINDINGS_LAYER]
    assert isinstance(labels, Labels)
    names = [layer.name for layer in viewer.layers]
    for s in surfaces:
        assert isinstance(s, Surface)
        region = regions[s.metadata["label_value"]]
        assert s.name == f"Case surface: {region.name}"
        assert s.metadata["finding_id"] == region.finding_id
        np.testing.assert_allclose(np.asarray(s.vertex_colors)[0], region.rgba, atol=1e-6)
        # the surface lies on the region: its vertices are within the region's bounding box
        # (grown by a voxel) in LPS
        idx = np.argwhere(result.labels.array == region.value)
        lo = result.labels.voxel_to_lps(idx).min(axis=0) - result.labels.spacing.max()
        hi = result.labels.voxel_to_lps(idx).max(axis=0) + result.labels.spacing.max()
        lps = geometry.napari_to_lps(np.asarray(s.vertices))
        assert np.all(lps >= lo) and np.all(lps <= hi)
        # between the findings layer and the landmarks (the dots stay in front)
        assert names.index(FINDINGS_LAYER) < names.index(s.name) < len(names) - 1
    assert viewer.layers.selection.active is ct_layer

    # 2D: the Labels layer and the CT as they were; 3D: the surfaces in place of the labels
    assert labels.visible and not any(s.visible for s in surfaces)
    viewer.dims.ndisplay = 3
    assert not labels.visible and all(s.visible for s in surfaces)
    assert ct_layer.blending == "translucent_no_depth"
    viewer.dims.ndisplay = 2
    assert labels.visible and ct_layer.blending == "translucent"

    # a new fit rebuilds them; unticking removes them
    w.run()
    assert len(w.surface_layers) == len(regions)
    assert all(s not in viewer.layers for s in surfaces)
    w.set_surfaces(False)
    assert w.surface_layers == []
    assert not any(isinstance(layer, Surface) for layer in viewer.layers)
    # without surfaces the switch leaves the layers alone: a hidden Labels layer stays hidden
    labels = viewer.layers[FINDINGS_LAYER]
    assert labels.visible
    labels.visible = False
    viewer.dims.ndisplay = 3
    viewer.dims.ndisplay = 2
    assert not labels.visible and ct_layer.blending == "translucent"
