"""First slice on screen: a 400-slice JPEG 2000 series opened in napari.

Uses the JPEG 2000 series of ``bench_loader.py`` (written there, or here when missing, in the
same cache). In a fresh process per round, with a shown napari viewer (under Xvfb when there
is no display), it opens the series the way napari's reader does and times, from the call:

* ``first slice``: until the first decoded slice is in a layer and the canvas has painted it
  (background loading, the reader's path for long compressed series: header scan, first
  frames decoded, layer added);
* ``all slices``: until the whole volume is in the layer (the load finished);
* ``blocking``: in the same process afterwards, the reader's blocking path for the same series
  (every frame decoded before anything shows), the time before anything is on screen without
  background loading.

Target: first slice on screen in at most 1 s.

Usage::

    .venv/bin/python benchmarks/bench_progressive.py [--repeat 3] [--cache DIR] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import print_targets, write_json

HERE = Path(__file__).resolve().parent


def round_in_viewer(folder: Path) -> dict[str, float]:
    """One round in this process (needs a display): the three times, in seconds."""
    import napari
    from qtpy.QtWidgets import QApplication

    from ivcviewer._napari import progressive, reader

    viewer = napari.Viewer(show=True)
    app = QApplication.instance()
    for _ in range(20):
        app.processEvents()
    t0, c0 = time.perf_counter(), time.process_time()
    loads = progressive.open_in_background([str(folder)], None, reader.DEFAULT_ON_IRREGULAR)
    if not loads:
        raise RuntimeError(f"{folder}: not loaded in the background")
    (load,) = loads
    started = time.perf_counter() - t0
    while load.layer is None and not load.done:
        app.processEvents()
        time.sleep(0.002)
    viewer.window._qt_viewer.canvas.native.repaint()  # the slice painted, not only queued
    app.processEvents()
    first = time.perf_counter() - t0
    first_cpu = time.process_time() - c0
    while not load.done:
        app.processEvents()
        time.sleep(0.005)
    everything = time.perf_counter() - t0
    if load.error is not None:
        raise load.error
    viewer.layers.clear()
    t1 = time.perf_counter()
    layers, _ = reader.read_layer_data([str(folder)])
    viewer.add_image(layers[0][0], **layers[0][1])
    viewer.window._qt_viewer.canvas.native.repaint()
    app.processEvents()
    blocking = time.perf_counter() - t1
    viewer.close()
    return {
        "first_slice_s": first,
        "first_slice_cpu_s": first_cpu,
        "scan_and_start_s": started,
        "all_slices_s": everything,
        "blocking_s": blocking,
    }


def run_round(folder: Path) -> dict[str, float]:
    """One round in a fresh process (under xvfb-run when there is no display)."""
    cmd = [sys.executable, __file__, "--worker", "--folder", str(folder)]
    if not os.environ.get("DISPLAY") and shutil.which("xvfb-run"):
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"round failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--slices", type=int, default=400)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "ivcviewer-bench")
    p.add_argument("--json", type=Path)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(round_in_viewer(args.folder)))
        return 0

    sys.path.insert(0, str(HERE))
    from bench_loader import make_series

    folder = make_series(args.cache, args.slices, args.size, with_j2k=True)["jpeg2000"]
    load_before = os.getloadavg()
    rounds: list[dict[str, float]] = []
    for i in range(args.repeat):
        print(f"  round {i + 1}/{args.repeat}", flush=True)
        rounds.append(run_round(folder))
    summary: dict[str, Any] = {}
    for key in rounds[0]:
        values = [r[key] for r in rounds]
        summary[key] = {"best": min(values), "median": statistics.median(values)}
    print()
    print(
        f"{args.slices} x {args.size} x {args.size} JPEG 2000 lossless, {args.repeat} rounds, "
        f"each in a fresh napari viewer; {os.cpu_count()} cores; load average "
        f"{load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    print()
    print("| time from opening | best s | median s |")
    print("|---|---|---|")
    names = {
        "scan_and_start_s": "header scan done, decoding started (background loading)",
        "first_slice_s": "first slice on screen (background loading)",
        "first_slice_cpu_s": "  CPU time of this process until then (both cores)",
        "all_slices_s": "all slices in the layer (background loading)",
        "blocking_s": "anything on screen, blocking reader",
    }
    for key, name in names.items():
        print(f"| {name} | {summary[key]['best']:.2f} | {summary[key]['median']:.2f} |")
    checks = {"first slice on screen <= 1 s (median)": summary["first_slice_s"]["median"] <= 1.0}
    print_targets(checks)
    if args.json:
        payload = {"rounds": rounds, "summary": summary, "targets": checks}
        write_json(args.json, payload)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
