"""Phantom benchmark: time and peak memory to generate (and write) the small and standard presets.

Each measurement runs in a fresh subprocess (imports are done, and the model's one-off truth
computations warmed on a tiny grid, before the clock starts), the presets in turn for
``--repeat`` rounds so that other work on the machine slows them alike. Reported per preset:
best and median wall time of :func:`ivcviewer.phantom.build_phantom`, the time of
:func:`ivcviewer.phantom.write_phantom` (DICOM series, NIfTI labels, landmarks, manifest), and
the peak resident memory above the interpreter's baseline after imports (Linux: the peak
counter is reset through ``/proc/self/clear_refs``), compared with the size of the outputs
themselves (``int16`` CT + ``uint8`` labels: 3 bytes per voxel).

Peer in the same run (small preset only, ``--naive``): the same model painted the obvious way,
every structure evaluated over the whole slab instead of inside its bounding box (what the
bounding boxes and shared slab fields save).

Usage::

    .venv/bin/python benchmarks/bench_phantom.py [--repeat 3] [--sizes small standard]
        [--no-write] [--naive] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

MIB = 1024.0 * 1024.0

_CHILD = r"""
import json, os, sys, tempfile, time
from pathlib import Path

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0

def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass

from ivcviewer.phantom import PhantomGrid, build_phantom, write_phantom
build_phantom("small", grid=PhantomGrid.around((0, 0, 0), (2, 8, 8), (2.0, 2.0, 2.0)))
build_phantom("small", normal=True, grid=PhantomGrid.around((0, 0, 0), (2, 8, 8), (2.0, 2.0, 2.0)))
size, seed, write, naive = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4] == "1"
if naive:
    import dataclasses
    from ivcviewer.phantom import build as _b
    from ivcviewer.phantom.sdf import Box
    _orig = _b.phantom_model
    def _everywhere(normal=False):
        model, anat, find = _orig(normal)
        big = Box(-1e4, 1e4, -1e4, 1e4, -1e4, 1e4)
        model.structures = [dataclasses.replace(s, box=big) for s in model.structures]
        return model, anat, find
    _b.phantom_model = _everywhere
reset_peak()
base = status("VmRSS")
t0 = time.perf_counter()
p = build_phantom(size, seed=seed)
t_build = time.perf_counter() - t0
peak_build = status("VmHWM")
t_write = None
if write:
    with tempfile.TemporaryDirectory() as tmp:
        t1 = time.perf_counter()
        write_phantom(p, Path(tmp) / "out")
        t_write = time.perf_counter() - t1
print(json.dumps({
    "size": size + (" (naive, no boxes)" if naive else ""), "shape": list(p.ct.shape),
    "build_s": t_build, "write_s": t_write, "baseline_bytes": base, "peak_bytes": peak_build,
    "output_bytes": int(p.ct.array.nbytes + p.labels.array.nbytes),
}))
"""


def run_one(size: str, seed: int, write: bool, naive: bool = False) -> dict[str, Any]:
    """One measurement in a fresh interpreter."""
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            _CHILD,
            size,
            str(seed),
            "1" if write else "0",
            "1" if naive else "0",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(res.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sizes", nargs="+", default=["small", "standard"])
    ap.add_argument("--no-write", action="store_true", help="time the generation only")
    ap.add_argument("--naive", action="store_true", help="add the no-bounding-box peer (small)")
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    args = ap.parse_args(argv)

    runs: dict[str, list[dict[str, Any]]] = {s: [] for s in args.sizes}
    if args.naive:
        runs["small, naive"] = []
    for r in range(args.repeat):
        for size in args.sizes:
            runs[size].append(run_one(size, seed=r, write=not args.no_write))
        if args.naive:
            runs["small, naive"].append(run_one("small", seed=r, write=False, naive=True))

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"{args.repeat} rounds; times in s, memory in MiB above the post-import baseline")
    print(
        "| preset | grid | build best | build median | write median | peak above baseline "
        "| outputs | peak / outputs |"
    )
    print("|" + "---|" * 8)
    for size, rs in runs.items():
        b = [x["build_s"] for x in rs]
        w = [x["write_s"] for x in rs if x["write_s"] is not None]
        peak = max(x["peak_bytes"] - x["baseline_bytes"] for x in rs) / MIB
        out = rs[0]["output_bytes"] / MIB
        shape = " x ".join(str(v) for v in rs[0]["shape"])
        wm = f"{statistics.median(w):.2f}" if w else "-"
        print(
            f"| {size} | {shape} | {min(b):.2f} | {statistics.median(b):.2f} | {wm} | "
            f"{peak:.0f} | {out:.0f} | {peak / out:.1f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    with tempfile.TemporaryDirectory():
        sys.exit(main())
