"""Screenshots of a shown viewer: the CT is visible, windowed, and oriented radiologically."""

from __future__ import annotations

import numpy as np
import pytest
from _napari_factory import GEOMETRIES, phantom_volume
from numpy.typing import NDArray

pytestmark = pytest.mark.napari

napari = pytest.importorskip("napari")
from napari.layers import Layer  # noqa: E402

from ivcviewer._napari import launch  # noqa: E402
from ivcviewer._napari.layers import image_layer_data  # noqa: E402

SIZE = (400, 400)

# axial phantom: bright block anterior (low rows) and left (high cols), upper slices;
# air block posterior-right; a 140 HU block (3/4 of the 40/400 window) posterior-left.
BRIGHT = (slice(12, 20), slice(2, 10), slice(36, 46))
AIR = (slice(0, 20), slice(38, 46), slice(2, 10))
MID = (slice(0, 20), slice(38, 46), slice(36, 46))


def _footprint(img: NDArray[np.uint8]) -> tuple[int, int, int, int]:
    """Bounding box (top, bottom, left, right) of the non-black pixels."""
    ys, xs = np.nonzero(img[..., :3].max(axis=2) > 20)
    assert ys.size, "the screenshot is black"
    return int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1


def _at(img: NDArray[np.uint8], box: tuple[int, int, int, int], fy: float, fx: float) -> float:
    """Mean grey value of a small patch at fractions (from top, from left) of the footprint."""
    top, bottom, left, right = box
    y = int(round(top + fy * (bottom - top)))
    x = int(round(left + fx * (right - left)))
    return float(img[y - 2 : y + 3, x - 2 : x + 3, :3].mean())


def _frac(index_lo: int, index_hi: int, n: int) -> float:
    """Screen fraction of the centre of voxels [lo, hi) along an axis of n voxels."""
    return (index_lo + index_hi) / 2.0 / n


def _phantom() -> object:
    v = phantom_volume(GEOMETRIES["axial"], BRIGHT, AIR)
    v.array[MID] = 140
    return v


def test_axial_screenshot_shows_windowed_ct_in_radiological_orientation(
    make_napari_viewer,
) -> None:
    volume = _phantom()
    viewer = make_napari_viewer(show=True)
    viewer.add_layer(Layer.create(*image_layer_data(volume)))
    launch.set_view(viewer, "axial", volume.voxel_to_lps((16, 24, 24)), SIZE)
    img = launch.screenshot(viewer)
    assert img.shape == (*SIZE, 4)
    box = _footprint(img)
    # 48 rows of 0.8 mm tall, 48 columns of 0.7 mm wide
    assert (box[1] - box[0]) / (box[3] - box[2]) == pytest.approx(0.8 / 0.7, rel=0.03)
    # soft tissue (40 HU) is the centre of the 40/400 window: mid grey
    assert _at(img, box, 0.5, 0.5) == pytest.approx(127.5, abs=4)
    # 140 HU is three quarters up the window
    assert _at(img, box, _frac(38, 46, 48), _frac(36, 46, 48)) == pytest.approx(191, abs=5)
    # the bright block is anterior (top) and on the patient's left (screen right)
    assert _at(img, box, _frac(2, 10, 48), _frac(36, 46, 48)) > 250
    assert _at(img, box, _frac(2, 10, 48), 1 - _frac(36, 46, 48)) == pytest.approx(127.5, abs=4)
    # air is black, posterior right (bottom left of the screen)
    assert _at(img, box, _frac(38, 46, 48), _frac(2, 10, 48)) < 5
    # a slice below the bright block shows soft tissue there
    launch.set_view(viewer, "axial", volume.voxel_to_lps((4, 24, 24)), SIZE)
    low = launch.screenshot(viewer)
    assert _at(low, _footprint(low), _frac(2, 10, 48), _frac(36, 46, 48)) == pytest.approx(
        127.5, abs=4
    )


def test_sagittal_acquisition_is_shown_as_axial_slices(make_napari_viewer) -> None:
    # sagittal grid: slices step to the patient's left, rows head->feet, columns front->back.
    # Block in the leftmost slices and the most anterior columns, all rows.
    bright = (slice(14, 20), slice(0, 48), slice(2, 8))
    volume = phantom_volume(GEOMETRIES["sagittal"], bright)
    viewer = make_napari_viewer(show=True)
    viewer.add_layer(Layer.create(*image_layer_data(volume)))
    launch.set_view(viewer, "axial", volume.voxel_to_lps((10, 24, 24)), SIZE)
    img = launch.screenshot(viewer)
    box = _footprint(img)
    # axial footprint: 48 columns x 0.9 mm front-to-back (vertical), 20 slices x 1.5 mm wide
    assert (box[1] - box[0]) / (box[3] - box[2]) == pytest.approx(48 * 0.9 / 30.0, rel=0.03)
    assert _at(img, box, _frac(2, 8, 48), _frac(14, 20, 20)) > 250  # anterior, left
    assert _at(img, box, _frac(2, 8, 48), 1 - _frac(14, 20, 20)) == pytest.approx(127.5, abs=4)
    assert _at(img, box, 1 - _frac(2, 8, 48), _frac(14, 20, 20)) == pytest.approx(127.5, abs=4)


def test_render_volumes_writes_coronal_and_3d_views(tmp_path, mock_app_model, qtbot) -> None:
    from PIL import Image

    volume = _phantom()
    paths = launch.render_volumes(
        [volume],
        tmp_path / "out",
        views=("coronal", "3d"),
        size=SIZE,
        point_lps=volume.voxel_to_lps((16, 6, 41)),
    )
    assert [p.name for p in paths] == ["axial_phantom_coronal.png", "axial_phantom_3d.png"]
    coronal, three_d = (np.asarray(Image.open(p)) for p in paths)
    assert not list((tmp_path / "out").glob(".*"))  # no temporary files left
    # coronal through the block: head up, the patient's left on the right
    box = _footprint(coronal)
    assert (box[1] - box[0]) / (box[3] - box[2]) == pytest.approx(50.0 / 33.6, rel=0.03)
    assert _at(coronal, box, 1 - _frac(12, 20, 20), _frac(36, 46, 48)) > 250
    assert _at(coronal, box, _frac(12, 20, 20), _frac(36, 46, 48)) == pytest.approx(127.5, abs=4)
    assert _at(coronal, box, 1 - _frac(12, 20, 20), 1 - _frac(36, 46, 48)) < 140
    # 3D anterior view: a maximum intensity projection shown with the 3D limits (150..1500 HU),
    # so only the 1000 HU block shows, centred up and to the right (the patient's left)
    h, w = three_d.shape[:2]
    ys, xs = np.nonzero(three_d[..., :3].max(axis=2) > 60)
    assert ys.size > 100
    assert ys.mean() < h / 2 - 0.1 * h and xs.mean() > w / 2 + 0.1 * w, (ys.mean(), xs.mean())
    level = (1000 - launch.MIP_LIMITS_3D[0]) / np.diff(launch.MIP_LIMITS_3D)[0] * 255
    assert np.median(three_d[ys, xs, 0]) == pytest.approx(level, abs=8)
