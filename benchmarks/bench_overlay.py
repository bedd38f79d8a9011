"""Overlay benchmark: fitting and rasterising the case on a 512 x 512 x 400 CT grid.

Builds a synthetic abdomen CT (int16 HU, 0.8 x 0.8 mm pixels, 1 mm slices) with its anatomy
label map and landmarks, then times, in turns for ``--repeat`` rounds (so that other work on the
machine slows all of them alike):

``fit_case landmarks``
    :func:`ivcviewer.annotations.overlay.fit_case` from landmarks only (body and bone from the
    CT, the intravascular tumour as a circle of the IVC's radius);
``fit_case label map``
    the same with the anatomy label map on the CT's grid (bone and rules from labels, the
    tumour with the IVC's own section);
``peer: full-grid mass``
    the mass's shape tested at every voxel of the grid (no bounding-box cropping), the way a
    direct rasteriser would;
``peer: one threshold``
    one pass over the grid (``ct > -500``): the cost of touching every voxel once.

Target: fitting and rasterising under 1 s. Landmark derivation from a label map is a
separate step (``landmarks_from_labelmap``) and is timed on its own line.

Usage::

    .venv/bin/python benchmarks/bench_overlay.py [--shape 400 512 512] [--repeat 5]
        [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ivcviewer import geometry
from ivcviewer.annotations import default_case_path, landmarks_from_labelmap, load_case
from ivcviewer.annotations.anatomy import Landmarks, Provenance
from ivcviewer.annotations.fit import fit_solid
from ivcviewer.annotations.overlay import fit_case
from ivcviewer.volume import Volume

NAMES = {
    1: "inferior_vena_cava",
    2: "kidney_left",
    3: "kidney_right",
    4: "liver",
    5: "iliopsoas_right",
    6: "aorta",
    7: "vertebrae_L1",
}


def build(shape: tuple[int, int, int]) -> tuple[Volume, Volume]:
    """A synthetic abdomen CT and its label map (slices along +z, 0.8 mm pixels, 1 mm slices)."""
    nz, ny, nx = shape
    dz, dxy = 1.0, 0.8
    origin = [-(nx - 1) * dxy / 2, -(ny - 1) * dxy / 2 - 10.0, -nz * dz / 2]
    aff = geometry.affine_from_dicom([1, 0, 0, 0, 1, 0], origin, [dxy, dxy], [0, 0, dz])
    z = (origin[2] + dz * np.arange(nz)).astype(np.float32)
    y = (origin[1] + dxy * np.arange(ny)).astype(np.float32)[:, None]
    x = (origin[0] + dxy * np.arange(nx)).astype(np.float32)[None, :]
    ct = np.empty(shape, np.int16)
    lab = np.zeros(shape, np.uint8)
    body = (x / 160.0) ** 2 + ((y + 10.0) / 120.0) ** 2 <= 1.0
    ivc = np.hypot(x + 25.0, y + 10.0) <= 11.0
    aorta = np.hypot(x - 15.0, y + 5.0) <= 10.0
    spine = np.hypot(x, y - 32.0) <= 20.0
    psoas = np.hypot(x + 35.0, y - 35.0) <= 12.0
    wrap = (x >= -110) & (x <= 50) & (y >= -70) & (y <= 14) & ~(np.hypot(x + 25, y + 10) <= 12)
    rng = np.random.default_rng(0)
    for k in range(nz):
        zz = float(z[k])
        s = np.where(body, np.int16(40), np.int16(-1000))
        t = np.zeros((ny, nx), np.uint8)
        for v, xc in ((3, -75.0), (2, 75.0)):
            kid = ((x - xc) / 25) ** 2 + ((y - 40) / 20) ** 2 + (zz / 50) ** 2 <= 1
            if abs(zz) <= 12:
                kid &= ~(((x - xc) * np.sign(-xc) > 8) & (np.abs(y - 40) <= 8))
            s[kid], t[kid] = 150, v
        if 80 <= zz <= 150:
            s[wrap], t[wrap] = 110, 4
        if zz <= 60:
            s[psoas], t[psoas] = 50, 5
        s[aorta], t[aorta] = 170, 6
        s[spine], t[spine] = 700, 7
        if -150 <= zz <= 180:
            s[ivc], t[ivc] = 130, 1
        s += rng.integers(-10, 11, size=s.shape, dtype=np.int16) * body
        ct[k], lab[k] = s, t
    return Volume(ct, aff), Volume(lab, aff)


def landmarks() -> Landmarks:
    """The synthetic abdomen's landmarks (as a phantom or a user would give them)."""
    zc = np.arange(-150.0, 180.1, 2.0)
    c = np.c_[np.full_like(zc, -25.0), np.full_like(zc, -10.0), zc]
    return Landmarks.from_points(
        {
            "renal_vein_confluence": [-25, -10, 0],
            "intrahepatic_ivc_lower": [-25, -10, 80],
            "hepatic_vein_confluence": [-25, -10, 150],
            "cavo_atrial_junction": [-25, -10, 180],
            "right_psoas_at_mass": [-35, 35, 0],
            "liver_lower_edge": [-80, -30, 80],
        },
        c,
        np.full_like(zc, 11.0),
        Provenance("points", "benchmark"),
    )


def _time(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--shape", type=int, nargs=3, default=[400, 512, 512], metavar=("NZ", "NY", "NX")
    )
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args(argv)
    shape = (args.shape[0], args.shape[1], args.shape[2])
    t0 = time.perf_counter()
    ct, lab = build(shape)
    print(
        f"grid {shape} (slice, row, col), spacing {ct.spacing.tolist()} mm; "
        f"built in {time.perf_counter() - t0:.1f} s"
    )
    case = load_case(default_case_path())
    lm = landmarks()
    mass_model = fit_solid(case.finding("mass"), lm).model

    def full_grid() -> None:
        # every voxel tested, slab by slab to bound memory
        for k0 in range(0, shape[0], 32):
            box_shape = (min(32, shape[0] - k0), shape[1], shape[2])
            ijk = np.indices(box_shape, dtype=np.float32).reshape(3, -1)
            ijk[0] += k0
            p = (ct.affine[:3, :3].astype(np.float32) @ ijk) + ct.affine[:3, 3:4].astype(np.float32)
            mass_model.inside(p[0], p[1], p[2])

    runs: dict[str, Callable[[], Any]] = {
        "fit_case landmarks": lambda: fit_case(ct, case, lm),
        "fit_case label map": lambda: fit_case(ct, case, lm, lab, NAMES),
        "peer: full-grid mass": full_grid,
        "peer: one threshold": lambda: np.count_nonzero(ct.array > -500),
    }
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(args.repeat):
        for name, fn in runs.items():
            times[name].append(_time(fn))
    derive = [
        _time(lambda: landmarks_from_labelmap(lab, NAMES)) for _ in range(max(1, args.repeat // 2))
    ]
    times["landmarks_from_labelmap (separate step)"] = derive
    res = fit_case(ct, case, lm, lab, NAMES)
    print(f"{'step':40s} {'best s':>8s} {'median s':>9s}")
    for name, ts in times.items():
        print(f"{name:40s} {min(ts):8.3f} {statistics.median(ts):9.3f}")
    mass = res.finding("mass")
    print(
        f"mass {mass.n_voxels} voxels, {mass.volume_ml:.0f} mL; tumour "
        f"{res.finding('intravascular_tumour').n_voxels} voxels; "
        f"Mayo {res.involvement.mayo_level if res.involvement else '-'}"
    )
    ok = min(times["fit_case landmarks"]) < 1.0 and min(times["fit_case label map"]) < 1.0
    print("target (< 1 s):", "met" if ok else "NOT met")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(
                {
                    "shape": list(shape),
                    "python": sys.version.split()[0],
                    "machine": platform.machine(),
                    "times_s": times,
                },
                f,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
