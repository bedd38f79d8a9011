"""Region surfaces: closed meshes on the analytic surface, on anisotropic and oblique grids."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from numpy.typing import NDArray

from ivcviewer import geometry
from ivcviewer.errors import MeasurementError
from ivcviewer.mesh import region_surface, surface_volume_ml
from ivcviewer.volume import Volume

#: Ellipsoid semi-axes (LPS x, y, z) in mm and its centre.
SEMI_AXES = np.array([16.0, 12.0, 22.0])
CENTRE = np.array([-40.0, 25.0, 110.0])
VALUE = 7


def _rotation(axis: NDArray[np.float64], angle_deg: float) -> NDArray[np.float64]:
    """Rodrigues' rotation matrix."""
    k = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    t = math.radians(angle_deg)
    return np.eye(3) + math.sin(t) * K + (1 - math.cos(t)) * K @ K


def _ellipsoid_labels(
    directions: NDArray[np.float64], spacing: tuple[float, float, float]
) -> Volume:
    """The ellipsoid voxelised (voxel centres inside) on a grid with these axis directions
    (columns: slice, row, col) and spacing, the grid covering it with a margin."""
    cols = directions * np.asarray(spacing, dtype=float)
    reach = SEMI_AXES.max() + 8.0
    # the grid's extent along each of its axes: project a cube of half-side `reach`
    half = np.ceil(reach * np.abs(np.linalg.inv(cols)).sum(axis=1)).astype(int)
    shape = tuple(int(v) for v in 2 * half + 1)
    affine = np.eye(4)
    affine[:3, :3] = cols
    affine[:3, 3] = CENTRE - cols @ half
    ijk = np.indices(shape).reshape(3, -1).T
    lps = geometry.apply_affine(affine, ijk)
    inside = (((lps - CENTRE) / SEMI_AXES) ** 2).sum(axis=1) <= 1.0
    arr = np.zeros(shape, np.uint8)
    arr.reshape(-1)[inside] = VALUE
    arr[0, 0, 0] = 1  # another label, away from the region
    return Volume(arr, affine)


GRIDS = {
    # axial, 0.7 x 0.7 mm pixels, 2.5 mm slices
    "anisotropic": (
        np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]).T,
        (2.5, 0.7, 0.7),
    ),
    # rotated 25 degrees about an oblique axis (no axis of the grid is a patient axis)
    "oblique": (
        _rotation(np.array([1.0, 2.0, 0.5]), 25.0)
        @ np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]).T,
        (2.0, 0.8, 0.9),
    ),
}


@pytest.fixture(params=sorted(GRIDS), scope="module")
def ellipsoid(request: pytest.FixtureRequest) -> Volume:
    directions, spacing = GRIDS[request.param]
    return _ellipsoid_labels(directions, spacing)


def _edge_counts(faces: NDArray[np.int64]) -> Counter[tuple[int, int]]:
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    return Counter(map(tuple, np.sort(edges, axis=1).tolist()))


def _to_surface(points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Displacement (LPS mm) from each point to the nearest point of the ellipsoid.

    The nearest point is ``x_i = a_i**2 p_i / (t + a_i**2)`` (``p`` relative to the centre) with
    ``t > -min(a_i**2)`` the root of ``sum((a_i p_i / (t + a_i**2))**2) = 1``, which decreases
    in ``t``: found by bisection, all points at once.
    """
    p = points - CENTRE
    a2 = SEMI_AXES**2
    lo = np.full(len(p), -a2.min() * (1 - 1e-12))
    hi = np.full(len(p), 1e4)
    for _ in range(200):
        t = (lo + hi) / 2
        g = ((SEMI_AXES * p / (t[:, None] + a2)) ** 2).sum(axis=1) - 1.0
        lo = np.where(g > 0, t, lo)
        hi = np.where(g > 0, hi, t)
    t = (lo + hi) / 2
    return np.asarray(p - a2 * p / (t[:, None] + a2), dtype=float)


@pytest.mark.parametrize("sigma", [0.0, 1.0])
def test_ellipsoid_mesh_is_closed_on_the_surface_with_its_volume(
    ellipsoid: Volume, sigma: float
) -> None:
    verts, faces = region_surface(ellipsoid, VALUE, smooth_sigma_mm=sigma)
    assert verts.ndim == 2 and verts.shape[1] == 3 and len(verts) > 500
    assert faces.ndim == 2 and faces.shape[1] == 3 and np.issubdtype(faces.dtype, np.integer)
    assert faces.min() >= 0 and faces.max() < len(verts)

    # closed and of a sphere's topology: every edge in exactly two triangles, V - E + F = 2
    edges = _edge_counts(faces)
    assert set(edges.values()) == {2}
    assert len(verts) - len(edges) + len(faces) == 2
    # consistently oriented: each directed edge appears once (neighbours traverse it oppositely)
    directed = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    assert len({tuple(e) for e in directed.tolist()}) == len(directed)

    # within one voxel of the analytic surface: the step to the nearest surface point,
    # measured in voxels of the grid (mm through the inverse affine), is shorter than one
    disp_mm = _to_surface(verts)
    disp_vox = disp_mm @ np.linalg.inv(ellipsoid.affine[:3, :3]).T
    steps = np.linalg.norm(disp_vox, axis=1)
    assert steps.max() < 1.0, steps.max()
    assert steps.mean() < 0.3
    if sigma > 0:  # smoothing takes the staircase away: within half a voxel
        assert steps.max() < 0.5, steps.max()
    assert np.linalg.norm(disp_mm, axis=1).max() < float(ellipsoid.spacing.max())

    # outward-facing, enclosing the analytic volume within 3 %
    analytic_ml = 4.0 / 3.0 * math.pi * float(np.prod(SEMI_AXES)) / 1000.0
    volume_ml = surface_volume_ml(verts, faces)
    assert volume_ml > 0
    assert volume_ml == pytest.approx(analytic_ml, rel=0.03)
    # and the voxel count (the unsmoothed surface only cuts the voxel corners)
    voxel_ml = np.count_nonzero(ellipsoid.array == VALUE) * ellipsoid.voxel_volume_mm3 / 1000
    assert volume_ml == pytest.approx(voxel_ml, rel=0.03)


def test_vertices_follow_the_affine_exactly() -> None:
    """The same region on an axial grid and on a copy whose axes are permuted and flipped
    (the same voxels in space) gives the same surface in LPS."""
    aff = geometry.affine_from_dicom(
        [1, 0, 0, 0, 1, 0], [-20.0, 10.0, 5.0], [0.7, 0.8], [0, 0, 2.5]
    )
    arr = np.zeros((12, 30, 30), np.int16)
    arr[3:9, 8:22, 5:20] = 2
    arr[5:7, 12:15, 18:26] = 2  # a bump, so the shape has no symmetry
    a = Volume(arr, aff)
    b = a.to_canonical()
    flipped = Volume(
        np.flip(arr.transpose(2, 0, 1), axis=(0, 2)).copy(),
        geometry.reorient_affine(aff, arr.shape, (2, 0, 1), (True, False, True)),
    )
    for sigma in (0.0, 1.0):
        va, fa = region_surface(a, 2, smooth_sigma_mm=sigma)
        vb, fb = region_surface(flipped, 2, smooth_sigma_mm=sigma)
        vc, _ = region_surface(b, 2, smooth_sigma_mm=sigma)
        assert len(va) == len(vb) == len(vc)
        for other in (vb, vc):
            # the same points: matched by nearest neighbour, equal to float32 rounding
            d = np.linalg.norm(va[:, None, :] - other[None, :, :], axis=2)
            assert d.min(axis=1).max() < 1e-5 and d.min(axis=0).max() < 1e-5
        assert surface_volume_ml(va, fa) == pytest.approx(surface_volume_ml(vb, fb), rel=1e-9)
        assert surface_volume_ml(vb, fb) > 0


def test_region_touching_the_grid_edge_is_closed() -> None:
    arr = np.zeros((4, 10, 10), np.uint8)
    arr[:, :5, :5] = 1  # touches three faces of the grid
    verts, faces = region_surface(Volume(arr, np.diag([2.5, 0.7, 0.7, 1.0])), 1)
    assert set(_edge_counts(faces).values()) == {2}
    assert surface_volume_ml(verts, faces) > 0


def test_step_gives_a_coarser_mesh(ellipsoid: Volume) -> None:
    v1, f1 = region_surface(ellipsoid, VALUE, step=1)
    v2, f2 = region_surface(ellipsoid, VALUE, step=2)
    assert len(f2) < len(f1) / 2
    assert surface_volume_ml(v2, f2) == pytest.approx(surface_volume_ml(v1, f1), rel=0.05)


def test_thin_region_falls_back_to_the_unsmoothed_mask() -> None:
    arr = np.zeros((5, 12, 12), np.uint8)
    arr[2, 6, 3:9] = 4  # one voxel thick: a 3 mm smoothing would wash it out
    verts, faces = region_surface(
        Volume(arr, np.diag([1.0, 1.0, 1.0, 1.0])), 4, smooth_sigma_mm=3.0
    )
    assert len(faces) > 0
    assert surface_volume_ml(verts, faces) > 0


def test_empty_region_raises_a_clear_error() -> None:
    arr = np.zeros((4, 6, 6), np.uint8)
    arr[1, 2, 2] = 3
    with pytest.raises(MeasurementError, match=r"Label value 5 is not present.*\[3\]"):
        region_surface(Volume(arr, np.eye(4)), 5)


def test_bad_arguments_raise() -> None:
    vol = Volume(np.ones((3, 3, 3), np.uint8), np.eye(4))
    with pytest.raises(MeasurementError, match="smooth_sigma_mm"):
        region_surface(vol, 1, smooth_sigma_mm=-1.0)
    with pytest.raises(MeasurementError, match="step"):
        region_surface(vol, 1, step=0)
    with pytest.raises(MeasurementError, match="integers"):
        region_surface(Volume(np.ones((3, 3, 3), np.float32), np.eye(4)), 1)
    with pytest.raises(MeasurementError, match=r"\(N, 3\)"):
        surface_volume_ml(np.zeros((4, 2)), [[0, 1, 2]])
