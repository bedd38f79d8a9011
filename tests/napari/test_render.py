"""The figures of :mod:`ivcviewer._napari.render` in a shown viewer, on the small phantom."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _figure_checks import assert_overlay_inside_body, canvas_part, coloured

from ivcviewer.annotations import default_case_path
from ivcviewer.phantom import build_phantom, write_phantom
from ivcviewer.phantom.output import CT_DIR
from ivcviewer.workflows.figures import VIEW_TITLES, RenderInputs, fit_case

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")

from ivcviewer._napari import render  # noqa: E402

CANVAS = (400, 400)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The small phantom (DICOM and truth) with the case fitted from its truth."""
    folder = tmp_path_factory.mktemp("phantom")
    write_phantom(build_phantom("small"), folder)
    inputs = RenderInputs(str(folder / CT_DIR), str(default_case_path()), phantom_truth=str(folder))
    return fit_case(inputs)


@pytest.fixture
def figures(make_napari_viewer, fitted, tmp_path: Path):  # type: ignore[no-untyped-def]
    viewer = make_napari_viewer(show=True)
    ct, result = fitted
    shots = render.render_views(viewer, ct, result, tmp_path, CANVAS)
    return viewer, result, shots, tmp_path


def _rgb(image) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def test_every_view_is_written_with_the_overlay_inside_the_body(figures) -> None:  # type: ignore[no-untyped-def]
    viewer, _result, shots, folder = figures
    assert [p.name for p in sorted(folder.glob("*.png"))] == sorted(
        f"{name}.png" for name in VIEW_TITLES
    )
    assert len(shots) == len(VIEW_TITLES)
    for shot in shots:
        rgb = _rgb(shot)
        assert rgb.shape[0] == CANVAS[0]
        assert rgb.std() > 20
        assert_overlay_inside_body(canvas_part(rgb, render.LEGEND_FRACTION))
    assert render.scale_bar(viewer).visible
    assert all(str(u) == "millimeter" for layer in viewer.layers for u in layer.units)


def test_legend_colours_are_the_layers(figures) -> None:  # type: ignore[no-untyped-def]
    viewer, result, shots, _folder = figures
    findings = next(layer for layer in viewer.layers if isinstance(layer, napari.layers.Labels))
    entries = render.legend_entries(findings, result)
    assert [name for name, _ in entries] == [r.name for r in result.regions]
    legend = _rgb(shots[0])[:, CANVAS[1] :]
    for region, (name, rgb) in zip(result.regions, entries, strict=True):
        expected = np.round(np.asarray(findings.get_color(region.value))[:3] * 255)
        assert np.allclose(rgb, expected, atol=1), name
        swatch = np.all(np.abs(legend - np.asarray(rgb)) <= 2, axis=2)
        assert np.count_nonzero(swatch) > 20, name


def test_axial_and_coronal_show_the_patients_right_on_the_left(figures) -> None:  # type: ignore[no-untyped-def]
    """The case's mass lies on the patient's right: left of the canvas centre (radiological
    convention), in the axial and coronal figures and the anterior 3D view."""
    _viewer, _result, shots, _folder = figures
    names = list(VIEW_TITLES)
    for name in ("axial_renal_veins", "coronal_ivc", "3d"):
        canvas = canvas_part(_rgb(shots[names.index(name)]), render.LEGEND_FRACTION)
        reddish = coloured(canvas) & (canvas[..., 0] - canvas[..., 2] > 60)
        cols = np.nonzero(reddish)[1]
        assert cols.size > 100, name
        assert cols.mean() < canvas.shape[1] / 2, name


def test_with_legend_wraps_long_names_inside_the_strip() -> None:
    canvas = np.zeros((300, 300, 4), dtype=np.uint8)
    long = "Intravascular tumour (tumour thrombus in the inferior vena cava)"
    out = render.with_legend(canvas, "Axial", [(long, (200, 30, 30))])
    rgb = _rgb(out)
    assert rgb.shape[1] == 300 + int(300 * render.LEGEND_FRACTION)
    text = rgb[:, 300:].max(axis=2) > 150
    rows = np.nonzero(text.any(axis=1))[0]
    # the name takes several lines, and no text reaches the image's right edge
    assert rows.max() - rows.min() > 60
    assert not text[:, -3:].any()
