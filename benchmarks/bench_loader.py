"""Loader benchmark: ivcviewer vs SimpleITK's ImageSeriesReader vs a plain pydicom loop.

Writes its own series (cached in a temporary folder, outside the repository): an uncompressed
one (default 400 slices of 512 x 512, Explicit VR Little Endian) and a JPEG 2000 lossless copy.
Every load runs in a fresh subprocess (the way a viewer opens a series), the loaders in turn
for ``--repeat`` rounds, so that other work on the machine slows all of them alike. Reported:
the best and median wall time, the median CPU time (helper processes included), and the
largest peak resident memory above the interpreter's baseline after imports (Linux: the peak
counter is reset through ``/proc/self/clear_refs`` before loading). All loaders must return
the same HU values (SHA-1 of the int32 array).

Each round also times every loader as a whole process, the way a command run from the shell
pays for it: ``python -c`` with the loader's imports and the load, timed by this script from
start to exit (interpreter start-up, imports, load; nothing else).

Targets: whole-process uncompressed load at least 1.5x faster than SimpleITK (the load alone
at least 2x); JPEG 2000 whole-process at least 1.2x faster than SimpleITK on the best time
and at least as fast on the median; peak memory above the baseline at most 1.3x the int16
volume's size.

Usage::

    .venv/bin/python benchmarks/bench_loader.py [--slices 400] [--size 512] [--repeat 5]
        [--cache DIR] [--skip-j2k] [--json out.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from _common import print_targets, write_json

LOADERS = ("ivcviewer", "simpleitk", "pydicom")
MIB = 1024.0 * 1024.0


# ----------------------------------------------------------------------------- data


def phantom_slice(k: int, n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """A CT-like axial slice: air, fat, muscle, a liver-like blob, a vertebra, noise (HU)."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
    out = np.full((size, size), -1000.0, np.float32)
    body = (x / 0.42) ** 2 + (y / 0.30) ** 2 <= 1
    out[body] = -100.0
    out[(x / 0.38) ** 2 + (y / 0.26) ** 2 <= 1] = 45.0
    z = k / max(n - 1, 1)
    r_liver = 0.15 * np.sin(np.pi * z) + 0.02
    out[((x + 0.15) / r_liver) ** 2 + ((y + 0.02) / (0.8 * r_liver)) ** 2 <= 1] = 110.0
    out[(x**2 + (y - 0.17) ** 2) <= 0.05**2] = 350.0
    out[((x - 0.04) ** 2 + (y - 0.05) ** 2) <= 0.025**2] = 180.0  # aorta
    out += rng.normal(0.0, 12.0, out.shape).astype(np.float32) * body
    return np.clip(np.rint(out), -1024, 3071).astype(np.int16)


def _compress_one(args: tuple[str, str]) -> None:
    import pydicom
    from pydicom.uid import JPEG2000Lossless

    src, dst = args
    ds = pydicom.dcmread(src)
    ds.compress(JPEG2000Lossless, generate_instance_uid=False)
    tmp = dst + ".partial"
    ds.save_as(tmp, enforce_file_format=True)
    os.replace(tmp, dst)


def make_series(cache: Path, n: int, size: int, with_j2k: bool) -> dict[str, Path]:
    """Write (or reuse) the uncompressed and JPEG 2000 series under ``cache``."""
    from ivcviewer.dicom import write_ct_series
    from ivcviewer.geometry import affine_from_dicom
    from ivcviewer.volume import Volume

    root = cache / f"ct_{n}x{size}x{size}"
    raw, j2k = root / "uncompressed", root / "jpeg2000"
    if not (raw / "complete").is_file():
        print(f"writing {n} slices of {size}x{size} to {raw} ...", flush=True)
        rng = np.random.default_rng(2024)
        arr = np.empty((n, size, size), np.int16)
        for k in range(n):
            arr[k] = phantom_slice(k, n, size, rng)
        aff = affine_from_dicom(
            [1, 0, 0, 0, 1, 0], [-200.0, -180.0, -300.0], [0.78, 0.78], [0, 0, 1.0]
        )
        write_ct_series(Volume(arr, aff), raw, uid_seed="bench", overwrite=True)
        (raw / "complete").write_text("ok\n")
    out = {"uncompressed": raw}
    if with_j2k:
        if not (j2k / "complete").is_file():
            print(f"compressing to JPEG 2000 lossless in {j2k} ...", flush=True)
            j2k.mkdir(parents=True, exist_ok=True)
            jobs = [(str(f), str(j2k / f.name)) for f in sorted(raw.glob("*.dcm"))]
            with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as ex:
                list(ex.map(_compress_one, jobs, chunksize=8))
            (j2k / "complete").write_text("ok\n")
        out["jpeg2000"] = j2k
    return out


# ----------------------------------------------------------------------------- loaders


def load_ivcviewer(folder: Path) -> np.ndarray:
    from ivcviewer.dicom import load_dicom

    (vol,) = load_dicom(folder)
    return vol.array


def load_simpleitk(folder: Path) -> Any:
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    img = reader.Execute()
    return img, sitk.GetArrayViewFromImage(img)


def load_pydicom(folder: Path) -> np.ndarray:
    """The plain loop: read every file, sort along the normal, stack, rescale."""
    import pydicom

    datasets = [pydicom.dcmread(f) for f in sorted(folder.glob("*.dcm"))]
    iop = np.array(datasets[0].ImageOrientationPatient, dtype=float)
    normal = np.cross(iop[:3], iop[3:])
    datasets.sort(key=lambda d: float(np.dot(np.array(d.ImagePositionPatient, float), normal)))
    out = np.empty((len(datasets), datasets[0].Rows, datasets[0].Columns), np.int16)
    for k, d in enumerate(datasets):
        out[k] = d.pixel_array.astype(np.int32) * int(d.RescaleSlope) + int(d.RescaleIntercept)
    return out


def _array_of(result: Any) -> np.ndarray:
    return result[1] if isinstance(result, tuple) else result


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children (helper processes)."""
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        total += r.ru_utime + r.ru_stime
    return total


def worker(loader: str, folder: Path) -> dict[str, Any]:
    """Run in a fresh interpreter: one load, its wall time and its peak memory above baseline."""
    fn = {"ivcviewer": load_ivcviewer, "simpleitk": load_simpleitk, "pydicom": load_pydicom}[loader]
    # imports first, so that the baseline includes them
    if loader == "ivcviewer":
        import ivcviewer.dicom  # noqa: F401
    elif loader == "simpleitk":
        import SimpleITK  # noqa: F401
    else:
        import pydicom  # noqa: F401
        import pydicom.pixels  # noqa: F401
    import gc

    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset VmHWM (peak RSS) to the current RSS
    except OSError:
        pass
    baseline = _status_kib("VmRSS")
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    result = fn(folder)
    seconds = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu0
    peak = _status_kib("VmHWM")
    arr = np.ascontiguousarray(_array_of(result), dtype=np.int32)  # SimpleITK may give int32
    return {
        "loader": loader,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_above_baseline_mib": (peak - baseline) / 1024.0,
        "sha1": hashlib.sha1(arr.data).hexdigest(),
        "shape": list(arr.shape),
        "dtype": str(_array_of(result).dtype),
    }


#: What each loader runs as a whole process (``{folder}`` filled in): imports and one load.
WHOLE_PROCESS = {
    "ivcviewer": "from ivcviewer.dicom import load_dicom\n(vol,) = load_dicom({folder!r})\n",
    "simpleitk": (
        "import SimpleITK as sitk\n"
        "reader = sitk.ImageSeriesReader()\n"
        "reader.SetFileNames(reader.GetGDCMSeriesFileNames({folder!r}))\n"
        "array = sitk.GetArrayViewFromImage(reader.Execute())\n"
    ),
    "pydicom": (
        "import sys\nfrom pathlib import Path\nsys.path.insert(0, {here!r})\n"
        "from bench_loader import load_pydicom\nload_pydicom(Path({folder!r}))\n"
    ),
}


def whole_process_seconds(loader: str, folder: Path) -> float:
    """Wall time of a fresh interpreter that imports ``loader``, loads ``folder`` and exits."""
    code = WHOLE_PROCESS[loader].format(folder=str(folder), here=str(Path(__file__).parent))
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"{loader} (whole process) on {folder} failed:\n{out.stderr}")
    return seconds


def run_in_subprocess(loader: str, folder: Path) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", loader, "--folder", str(folder)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{loader} on {folder} failed:\n{out.stderr}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def bench(folder: Path, rounds: int) -> dict[str, dict[str, Any]]:
    """Each round runs every loader once, in turn, each in a fresh process (round-robin, so
    that load from other programs on the machine hits all loaders alike)."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in LOADERS}
    for i in range(rounds):
        for loader in LOADERS:
            print(f"  round {i + 1}/{rounds}: {loader}", flush=True)
            run = run_in_subprocess(loader, folder)
            run["whole_seconds"] = whole_process_seconds(loader, folder)
            runs[loader].append(run)
    out = {}
    for loader, rs in runs.items():
        times = [r["seconds"] for r in rs]
        whole = [r["whole_seconds"] for r in rs]
        out[loader] = {
            "best_s": min(times),
            "median_s": float(np.median(times)),
            "whole_best_s": min(whole),
            "whole_median_s": float(np.median(whole)),
            "whole_times_s": whole,
            "cpu_s": float(np.median([r["cpu_seconds"] for r in rs])),
            "times_s": times,
            "peak_above_baseline_mib": max(r["peak_above_baseline_mib"] for r in rs),
            "sha1": rs[0]["sha1"],
            "dtype": rs[0]["dtype"],
            "shape": rs[0]["shape"],
        }
    return out


# ----------------------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    import pydicom
    import SimpleITK as sitk

    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu
            )
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pydicom": pydicom.__version__,
        "simpleitk": sitk.Version_VersionString(),
        "platform": platform.platform(),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--slices", type=int, default=400)
    p.add_argument("--size", type=int, default=512)
    p.add_argument(
        "--repeat", type=int, default=5, help="rounds; each loads once with every loader"
    )
    p.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "ivcviewer-bench",
        help="where the generated series are kept between runs",
    )
    p.add_argument("--skip-j2k", action="store_true", help="only the uncompressed series")
    p.add_argument("--json", type=Path, help="also write the results as JSON here")
    p.add_argument("--worker", choices=LOADERS, help=argparse.SUPPRESS)
    p.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(args.worker, args.folder)))
        return 0

    series = make_series(args.cache, args.slices, args.size, not args.skip_j2k)
    load_before = os.getloadavg()
    volume_mib = args.slices * args.size * args.size * 2 / MIB
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for name, folder in series.items():
        print(f"{name}:", flush=True)
        results[name] = bench(folder, args.repeat)

    rows = []
    checks: dict[str, bool] = {}
    for name, by_loader in results.items():
        ref = by_loader["simpleitk"]
        digests = {r["sha1"] for r in by_loader.values()}
        checks[f"{name}: all loaders return the same HU array"] = len(digests) == 1
        for loader, r in by_loader.items():
            r["speedup_vs_simpleitk"] = ref["best_s"] / r["best_s"]
            r["whole_speedup_best"] = ref["whole_best_s"] / r["whole_best_s"]
            r["whole_speedup_median"] = ref["whole_median_s"] / r["whole_median_s"]
            r["peak_over_int16_volume"] = r["peak_above_baseline_mib"] / volume_mib
            rows.append(
                f"| {name} | {loader} | {r['whole_best_s']:.2f} | {r['whole_median_s']:.2f} | "
                f"{r['whole_speedup_best']:.2f}x / {r['whole_speedup_median']:.2f}x | "
                f"{r['best_s']:.2f} | {r['median_s']:.2f} | {r['cpu_s']:.2f} | "
                f"{r['speedup_vs_simpleitk']:.2f}x | {r['peak_above_baseline_mib']:.0f} | "
                f"{r['peak_over_int16_volume']:.2f} |"
            )
    ivc = results["uncompressed"]["ivcviewer"]
    checks["uncompressed: whole process >= 1.5x faster than SimpleITK (best)"] = (
        ivc["whole_speedup_best"] >= 1.5
    )
    checks["uncompressed: load alone >= 2x faster than SimpleITK (best)"] = (
        ivc["speedup_vs_simpleitk"] >= 2
    )
    checks["uncompressed: ivcviewer peak memory <= 1.3x int16 volume"] = (
        ivc["peak_over_int16_volume"] <= 1.3
    )
    if "jpeg2000" in results:
        j = results["jpeg2000"]["ivcviewer"]
        checks["jpeg2000: whole process >= 1.2x faster than SimpleITK (best)"] = (
            j["whole_speedup_best"] >= 1.2
        )
        checks["jpeg2000: whole process at least as fast as SimpleITK (median)"] = (
            j["whole_speedup_median"] >= 1.0
        )
        checks["jpeg2000: ivcviewer peak memory <= 1.3x int16 volume"] = (
            j["peak_over_int16_volume"] <= 1.3
        )

    info = machine()
    info["load_average_before"] = [round(v, 2) for v in load_before]
    info["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    print()
    print(
        f"Series: {args.slices} x {args.size} x {args.size}, int16 volume {volume_mib:.0f} MiB; "
        f"{args.repeat} rounds; each load in a fresh process, loaders in turn."
    )
    print(
        f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, "
        f"pydicom {info['pydicom']}, SimpleITK {info['simpleitk']}; load average "
        f"{info['load_average_before'][0]} before, {info['load_average_after'][0]} after"
    )
    print()
    print(
        "| series | loader | whole process best s | median s | vs SimpleITK (best / median) "
        "| load alone best s | median s | CPU s | vs SimpleITK (best) "
        "| peak MiB above baseline | peak / int16 volume |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print_targets(checks)
    if args.json:
        payload = {
            "machine": info,
            "slices": args.slices,
            "size": args.size,
            "repeat": args.repeat,
            "volume_mib": volume_mib,
            "results": results,
            "targets": checks,
        }
        write_json(args.json, payload)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
