"""Gantry-tilt resampling benchmark: ivcviewer's orthogonal resampling against SimpleITK.

Builds a gantry-tilted CT-like stack in memory (slices of ``--size`` x ``--size`` pixels, a
head-like field defined in patient space: smooth tissue, a bony shell, air) and resamples it
onto the orthogonal grid that holds every source voxel:

- even steps: ivcviewer (:func:`ivcviewer.dicom.orthogonal.resample_onto`) and SimpleITK's
  ``Resample`` of the same sheared image onto the same grid (linear): wall time (best of
  ``--repeat``) and the largest difference where both are defined;
- uneven steps (1 to 7 mm, as on some head CT) with a smooth field whose exact value is known
  everywhere: the error against it, and the share of source voxels inside the grid;
- peak memory of the resampling (``tracemalloc``) above the int16 output it returns.

Usage::

    .venv/bin/python benchmarks/bench_tilt.py [--slices 120] [--size 512] [--tilt 18.5]
        [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ivcviewer.dicom.orthogonal import OrthogonalGrid, orthogonal_grid, resample_onto
from ivcviewer.geometry import lps_to_voxel, voxel_to_lps

PIXEL_MM = 0.45
Field = Callable[[NDArray[np.float64]], NDArray[np.float64]]


def head(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Air, a 6 mm bony shell and brain-like tissue with smooth variation (HU)."""
    c = p - np.array([0.0, 0.0, 60.0])
    r = np.sqrt((c[..., 0] / 75.0) ** 2 + (c[..., 1] / 95.0) ** 2 + (c[..., 2] / 80.0) ** 2)
    tissue = 35.0 + 8.0 * np.sin(c[..., 0] / 9.0) * np.cos(c[..., 1] / 11.0)
    out = np.where(r < 1.0, tissue, -1000.0)
    return np.where((r >= 0.93) & (r < 1.0), 1200.0, out)


def smooth(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """A smooth field (scale of centimetres) whose exact value is known at any point (HU)."""
    return 300.0 * np.sin(p[..., 0] / 20.0) * np.cos(p[..., 1] / 25.0) + 4.0 * p[..., 2]


def stack(
    field: Field, offsets: NDArray[np.float64], size: int, tilt_deg: float
) -> tuple[NDArray[np.int16], NDArray[np.float64], tuple[NDArray[np.float64], ...]]:
    """Axial slices at ``offsets`` mm, drifting ``tan(tilt)`` mm posterior per mm (int16 HU)."""
    origin = np.array([-size * PIXEL_MM / 2, -size * PIXEL_MM / 2, 0.0])
    positions = origin + offsets[:, None] * np.array([0.0, np.tan(np.radians(tilt_deg)), 1.0])
    row_step, col_step = np.array([0.0, PIXEL_MM, 0.0]), np.array([PIXEL_MM, 0.0, 0.0])
    r, c = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    in_plane = r[..., None] * row_step + c[..., None] * col_step
    out = np.empty((len(offsets), size, size), np.int16)
    for k, p in enumerate(positions):
        out[k] = np.clip(np.rint(field(p + in_plane)), -1024, 3071)
    return out, positions, (row_step, col_step)


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def simpleitk_resample(
    source: NDArray[np.int16],
    positions: NDArray[np.float64],
    steps: tuple[NDArray[np.float64], ...],
    grid: OrthogonalGrid,
    fill: float,
) -> NDArray[np.float32]:
    """SimpleITK's linear resampling of the sheared stack onto ``grid`` (NaN outside)."""
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(source)
    axes = [steps[1], steps[0], positions[1] - positions[0]]
    image.SetSpacing([float(np.linalg.norm(a)) for a in axes])
    image.SetDirection(np.stack([a / np.linalg.norm(a) for a in axes], axis=1).ravel().tolist())
    image.SetOrigin(positions[0].tolist())
    spacing = np.linalg.norm(grid.affine[:3, :3], axis=0)
    ref = sitk.Image([int(v) for v in reversed(grid.shape)], sitk.sitkFloat32)
    ref.SetSpacing([float(v) for v in reversed(spacing)])
    ref.SetDirection((grid.affine[:3, :3] / spacing)[:, ::-1].ravel().tolist())
    ref.SetOrigin(grid.affine[:3, 3].tolist())
    resampled = sitk.Resample(
        sitk.Cast(image, sitk.sitkFloat32), ref, sitk.Transform(), sitk.sitkLinear, float("nan")
    )
    return np.asarray(sitk.GetArrayFromImage(resampled))


def interior(grid: OrthogonalGrid, size: int) -> NDArray[np.bool_]:
    """Grid voxels inside both source slices bracketing them, a pixel from their edges."""
    mask = np.zeros(grid.shape, bool)
    n = len(grid.distances_mm)
    for j in range(grid.shape[0]):
        b = int(np.clip(np.searchsorted(grid.distances_mm, j * grid.step_mm), 1, n - 1))
        lo = np.ceil(grid.offsets_px[[b - 1, b]].max(axis=0)).astype(int)
        hi = np.floor(grid.offsets_px[[b - 1, b]].min(axis=0)).astype(int) + size - 1
        mask[j, lo[0] : hi[0] + 1, lo[1] : hi[1] + 1] = True
    return mask


def even_case(args: argparse.Namespace) -> dict[str, Any]:
    offsets = np.arange(args.slices) * 1.25
    source, positions, steps = stack(head, offsets, args.size, args.tilt)
    grid = orthogonal_grid(positions, steps, source.shape[1:], 1.25)
    fill = float(source.min())
    t_ours, ours = timed(lambda: resample_onto(source, grid, fill), args.repeat)
    t_itk, peer = timed(
        lambda: simpleitk_resample(source, positions, steps, grid, fill), args.repeat
    )
    # compare away from the slices' edges, where ITK clamps and ivcviewer blends with air
    inner = ~np.isnan(peer) & interior(grid, args.size)
    diff = np.abs(ours[inner] - peer[inner])
    return {
        "source_shape": list(source.shape),
        "grid_shape": list(grid.shape),
        "ivcviewer_s": round(t_ours, 3),
        "simpleitk_s": round(t_itk, 3),
        "speedup": round(t_itk / t_ours, 2),
        "compared_voxels": int(inner.sum()),
        "max_abs_diff_hu": round(float(diff.max()), 3),
        "mean_abs_diff_hu": round(float(diff.mean()), 4),
    }


def uneven_case(args: argparse.Namespace) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    gaps = rng.choice([1.0, 1.0, 2.5, 5.0, 7.0], size=args.slices // 3 - 1)
    offsets = np.concatenate([[0.0], np.cumsum(gaps)])
    source, positions, steps = stack(smooth, offsets, args.size, args.tilt)
    median = float(np.median(gaps))
    step = float(offsets[-1] / np.ceil(offsets[-1] / median - 1e-6))
    grid = orthogonal_grid(positions, steps, source.shape[1:], step)
    fill = float(source.min())
    tracemalloc.start()
    out = resample_onto(source, grid, fill)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # every source voxel inside the grid
    size = args.size
    corners = np.array([[0, 0], [0, size - 1], [size - 1, 0], [size - 1, size - 1]], float)
    pts = positions[:, None, :] + corners[None, :, :1] * steps[0] + corners[None, :, 1:] * steps[1]
    ijk = lps_to_voxel(grid.affine, pts.reshape(-1, 3))
    inside = bool(ijk.min() >= -1e-3 and np.all(ijk.max(axis=0) <= np.array(grid.shape) - 1 + 1e-3))
    # error against the exact field, where both bracketing slices hold the point
    idx = np.stack(np.meshgrid(*[np.arange(n) for n in grid.shape], indexing="ij"), -1)
    truth = smooth(voxel_to_lps(grid.affine, idx.reshape(-1, 3)).reshape(grid.shape + (3,)))
    valid = interior(grid, size)
    err = np.abs(out[valid] - truth[valid])
    return {
        "source_shape": list(source.shape),
        "steps_mm": [float(gaps.min()), float(gaps.max())],
        "grid_shape": list(grid.shape),
        "grid_step_mm": round(grid.step_mm, 4),
        "every_source_voxel_inside": inside,
        "max_abs_error_hu": round(float(err.max()), 3),
        "mean_abs_error_hu": round(float(err.mean()), 4),
        "peak_above_output": round((peak - out.nbytes) / out.nbytes, 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slices", type=int, default=120)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--tilt", type=float, default=18.5)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    result = {"tilt_deg": args.tilt, "even": even_case(args), "uneven": uneven_case(args)}
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
