"""Measurement benchmark: ivcviewer.measure vs a naive uncropped approach vs SimpleITK.

Builds a 400 x 512 x 512 label map (0.78 x 0.78 mm pixels, 1.25 mm slices: a 400 mm field of
view over 500 mm) with five regions of abdominal sizes (the case's mass, a tumour thrombus in
the IVC, both kidneys, a liver-sized region) and a CT on the same grid, then times, in the same
run:

* ``ivcviewer``: :func:`ivcviewer.measure.measure_labels` (every statistic: extents, oriented
  box, maximum diameter, RECIST axes, volume, centroid, and HU statistics with the CT), which
  crops each region to its bounding box first;
* ``naive``: the same statistics (less RECIST) computed the obvious way on the full grid, per
  label: ``labels == v``, ``np.nonzero``, boundary voxels by a full-size erosion, the convex
  hull of the boundary voxels, HU values by boolean indexing;
* ``simpleitk``: ``LabelShapeStatisticsImageFilter`` (oriented bounding box on; Feret
  diameter on, then off, since it dominates its time) plus ``LabelStatisticsImageFilter``
  for HU (SimpleITK multithreads: the number of threads is printed). The array-to-image
  conversion is timed separately.

It prints the times, the ratios, and the figures of each method side by side (volume, maximum
diameter vs Feret diameter, OBB sizes) so that speed is never bought with a different answer.
Target: all region statistics for the five regions in under 0.5 s.

Usage::

    .venv/bin/python benchmarks/bench_measure.py [--repeat 5] [--skip-naive] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

SHAPE = (400, 512, 512)
SPACING = (1.25, 0.78, 0.78)  # slice, row, col (mm)

#: name, centre LPS (mm), semi-axes (mm) along the region's own axes, rotation (deg about x, y, z)
REGIONS: tuple[tuple[str, tuple[float, ...], tuple[float, ...], tuple[float, ...]], ...] = (
    ("mass", (-55.0, 15.0, -60.0), (52.5, 44.5, 66.0), (0.0, 0.0, 0.0)),
    ("intravascular_tumour", (25.0, 10.0, 40.0), (12.0, 11.0, 70.0), (8.0, -5.0, 0.0)),
    ("right_kidney", (-140.0, 55.0, -70.0), (28.0, 24.0, 55.0), (10.0, 15.0, 20.0)),
    ("left_kidney", (85.0, 55.0, -55.0), (28.0, 24.0, 55.0), (10.0, -15.0, -20.0)),
    ("liver", (-60.0, 0.0, 150.0), (95.0, 75.0, 60.0), (0.0, 0.0, 15.0)),
)


def _rotation(ax: float, ay: float, az: float) -> NDArray[np.float64]:
    a, b, c = np.radians([ax, ay, az])
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return np.asarray(rz @ ry @ rx, dtype=float)


def make_data() -> tuple[Any, Any, dict[int, str]]:
    """The label map and CT volumes (ivcviewer ``Volume``) and the label names."""
    from ivcviewer.geometry import affine_from_dicom
    from ivcviewer.volume import Volume

    aff = affine_from_dicom(
        [1, 0, 0, 0, 1, 0], [-200.0, -200.0, -250.0], list(SPACING[1:]), [0, 0, SPACING[0]]
    )
    labels = np.zeros(SHAPE, np.uint8)
    inv = np.linalg.inv(aff)
    rng = np.random.default_rng(0)
    ct = rng.normal(-60.0, 20.0, SHAPE).astype(np.float32)
    names = {}
    for value, (name, centre, semi, deg) in enumerate(REGIONS, start=1):
        c = np.asarray(centre)
        r = float(max(semi))
        corners = np.array([c - r, c + r])
        ijk = corners @ inv[:3, :3].T + inv[:3, 3]
        lo = np.clip(np.floor(ijk.min(axis=0)).astype(int), 0, SHAPE)
        hi = np.clip(np.ceil(ijk.max(axis=0)).astype(int) + 1, 0, SHAPE)
        grid = np.stack(
            np.meshgrid(*(np.arange(a, b) for a, b in zip(lo, hi, strict=True)), indexing="ij"),
            axis=-1,
        ).astype(float)
        local = (grid @ aff[:3, :3].T + aff[:3, 3] - c) @ _rotation(*deg)
        inside = np.sum((local / np.asarray(semi)) ** 2, axis=-1) <= 1.0
        sl = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
        sub = labels[sl]
        if np.any(sub[inside] != 0):
            raise SystemExit(f"benchmark regions overlap at {name}; move it")
        sub[inside] = value
        ct[sl][inside] += 100.0 + 10 * value
        names[value] = name
    ct_int = np.clip(np.rint(ct), -1024, 3071).astype(np.int16)
    return Volume(labels, aff), Volume(ct_int, aff), names


# ----------------------------------------------------------------------------- naive


def naive_measure(labels: Any, ct: Any, names: dict[int, str]) -> list[dict[str, Any]]:
    """Every statistic but RECIST, on the full grid: the obvious way, with no cropping."""
    from scipy import ndimage
    from scipy.spatial import ConvexHull
    from scipy.spatial.distance import pdist

    arr, aff = labels.array, labels.affine
    lin = aff[:3, :3]
    out = []
    for value in names:
        mask = arr == value
        ijk = np.argwhere(mask).astype(float)
        pts = ijk @ lin.T + aff[:3, 3]
        steps = 1.0 / np.abs(np.linalg.inv(lin)).max(axis=0)  # voxel step along x, y, z
        extents = pts.max(axis=0) - pts.min(axis=0) + steps
        cov = np.cov(pts.T)
        _, vecs = np.linalg.eigh(cov)
        proj = pts @ vecs
        obb_steps = 1.0 / np.abs(vecs.T @ np.linalg.inv(lin).T).max(axis=1)
        obb = np.sort(proj.max(axis=0) - proj.min(axis=0) + obb_steps)[::-1]
        surface = mask & ~ndimage.binary_erosion(mask)
        spts = np.argwhere(surface).astype(float) @ lin.T + aff[:3, 3]
        hull = spts[ConvexHull(spts).vertices]
        diameter = float(pdist(hull).max())  # between voxel centres
        values = ct.array[mask].astype(float)
        out.append(
            {
                "label": value,
                "volume_ml": float(mask.sum()) * abs(np.linalg.det(lin)) / 1000,
                "centroid_lps": pts.mean(axis=0).tolist(),
                "extents_mm": extents.tolist(),
                "obb_mm": obb.tolist(),
                "max_diameter_mm": diameter,
                "hu": [
                    values.mean(),
                    values.std(),
                    values.min(),
                    values.max(),
                    *np.percentile(values, [50, 5, 25, 75, 95]),
                ],
            }
        )
    return out


# ----------------------------------------------------------------------------- SimpleITK


def sitk_images(labels: Any, ct: Any) -> tuple[Any, Any]:
    import SimpleITK as sitk

    from ivcviewer.geometry import itk_from_affine

    origin, spacing, direction = itk_from_affine(labels.affine)
    out = []
    for v in (labels, ct):
        img = sitk.GetImageFromArray(v.array)
        img.SetOrigin(origin.tolist())
        img.SetSpacing(spacing.tolist())
        img.SetDirection(direction.ravel().tolist())
        out.append(img)
    return out[0], out[1]


def sitk_measure(label_img: Any, ct_img: Any, feret: bool = True) -> dict[int, dict[str, Any]]:
    """Shape statistics (Feret diameter, oriented box) and HU statistics with SimpleITK."""
    import SimpleITK as sitk

    shape = sitk.LabelShapeStatisticsImageFilter()
    shape.SetComputeFeretDiameter(feret)
    shape.ComputeOrientedBoundingBoxOn()
    shape.Execute(label_img)
    stats = sitk.LabelStatisticsImageFilter()
    stats.UseHistogramsOn()
    stats.Execute(ct_img, label_img)
    out = {}
    for v in shape.GetLabels():
        out[int(v)] = {
            "volume_ml": shape.GetPhysicalSize(v) / 1000,
            "centroid_lps": list(shape.GetCentroid(v)),
            "obb_mm": sorted(shape.GetOrientedBoundingBoxSize(v), reverse=True),
            "feret_mm": shape.GetFeretDiameter(v) if feret else None,
            "hu_mean": stats.GetMean(v),
            "hu_median": stats.GetMedian(v),
        }
    return out


# ----------------------------------------------------------------------------- timing


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="repeats of the fast methods")
    parser.add_argument("--skip-naive", action="store_true", help="skip the slow naive method")
    parser.add_argument("--skip-sitk", action="store_true", help="skip SimpleITK")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)

    from ivcviewer.measure import measure_labels

    t0 = time.perf_counter()
    labels, ct, names = make_data()
    print(
        f"data: {SHAPE} label map, spacing {SPACING} mm, built in {time.perf_counter() - t0:.1f} s"
    )
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}")

    measure_labels(labels, names, ct)  # warm-up (imports, caches)
    times: dict[str, float] = {}
    times["ivcviewer (shape + HU)"], ours = best_of(
        lambda: measure_labels(labels, names, ct), args.repeat
    )
    times["ivcviewer (shape only)"], _ = best_of(lambda: measure_labels(labels, names), args.repeat)

    sitk_res: dict[int, dict[str, Any]] = {}
    if not args.skip_sitk:
        import SimpleITK as sitk

        t = time.perf_counter()
        limg, cimg = sitk_images(labels, ct)
        times["simpleitk array -> image"] = time.perf_counter() - t
        times["simpleitk (shape + HU)"], sitk_res = best_of(
            lambda: sitk_measure(limg, cimg), max(1, args.repeat // 2)
        )
        times["simpleitk (shape without Feret + HU)"], _ = best_of(
            lambda: sitk_measure(limg, cimg, feret=False), max(1, args.repeat // 2)
        )
        threads = sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()
        print(f"SimpleITK {sitk.Version.VersionString()}, {threads} threads")
    naive: list[dict[str, Any]] = []
    if not args.skip_naive:
        times["naive uncropped (no RECIST)"], naive = best_of(
            lambda: naive_measure(labels, ct, names), 1
        )

    base = times["ivcviewer (shape + HU)"]
    print("\nmethod                          time (s)   x ivcviewer")
    for k, v in times.items():
        print(f"{k:30s} {v:9.3f}   {v / base:10.1f}")
    target = "met" if base < 0.5 else "NOT met"
    print(f"\ntarget: five regions, all statistics, < 0.5 s: {base:.3f} s ({target})")

    print(
        "\nregion                 voxels  volume mL (ours/sitk)   Dmax mm (ours/sitk Feret/naive)"
        "   OBB mm ours | sitk"
    )
    rows = []
    for m in ours:
        s = sitk_res.get(m.label, {})
        n = next((x for x in naive if x["label"] == m.label), {})
        row = {
            "label": m.label,
            "name": m.name,
            "n_voxels": m.n_voxels,
            "volume_ml": m.volume_ml,
            "volume_ml_sitk": s.get("volume_ml"),
            "extents_mm": m.extents_mm,
            "max_diameter_mm": m.max_diameter.length_mm,
            "feret_mm_sitk": s.get("feret_mm"),
            "max_diameter_mm_naive_centres": n.get("max_diameter_mm"),
            "obb_mm": list(m.obb.sizes_mm),
            "obb_mm_sitk": s.get("obb_mm"),
            "long_short_mm": [m.recist.long_mm, m.recist.short_mm],
            "hu_mean": m.hu.mean if m.hu else None,
            "hu_mean_sitk": s.get("hu_mean"),
        }
        rows.append(row)

        def f(x: Any, d: int = 1) -> str:
            return "-" if x is None else f"{x:.{d}f}"

        print(
            f"{m.name:20s} {m.n_voxels:9d}  {f(m.volume_ml)} / {f(s.get('volume_ml'))}"
            f"   {f(m.max_diameter.length_mm)} / {f(s.get('feret_mm'))} / "
            f"{f(n.get('max_diameter_mm'))}   "
            + " x ".join(f(v) for v in m.obb.sizes_mm)
            + " | "
            + " x ".join(f(v) for v in s.get("obb_mm", []))
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"times_s": times, "regions": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
