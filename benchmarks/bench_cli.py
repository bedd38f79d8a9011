"""Command-line start-up benchmark: ``ivcviewer --help`` as a whole process.

Runs ``python -m ivcviewer --help`` (this checkout's ``src`` first on the path) repeatedly, the
way hyperfine does: warm-up runs first, then ``--runs`` timed runs, each a fresh interpreter
timed from start to exit. In the same run and the same way it times two references: an empty
interpreter (``python -c pass``, the floor) and ``python -c "import numpy"`` (what the command
would cost at least if it imported numpy). It then runs ``python -X importtime`` once and lists
the slowest imports, and checks that numpy, pydicom, SimpleITK, scipy and napari are not
among them.

Target: ``ivcviewer --help`` at most 0.25 s (median).

Usage::

    .venv/bin/python benchmarks/bench_cli.py [--runs 20] [--warmup 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import print_targets, write_json

SRC = Path(__file__).resolve().parents[1] / "src"

#: Libraries that ``--help`` must not import.
HEAVY = ("numpy", "pydicom", "SimpleITK", "scipy", "nibabel", "napari", "imagecodecs")

COMMANDS: dict[str, list[str]] = {
    "ivcviewer --help": ["-m", "ivcviewer", "--help"],
    "python -c pass (floor)": ["-c", "pass"],
    "python -c 'import numpy' (reference)": ["-c", "import numpy"],
}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH", "")) if p)
    return env


def _children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def time_command(args: list[str], runs: int, warmup: int) -> tuple[list[float], list[float]]:
    """Wall and CPU times of ``runs`` fresh interpreters running ``args`` (after ``warmup``).

    The CPU time (user + system) is less sensitive than the wall time to other work on a
    shared machine.
    """
    env = _env()
    cmd = [sys.executable, *args]
    times, cpu = [], []
    for i in range(warmup + runs):
        c0 = _children_cpu()
        t0 = time.perf_counter()
        subprocess.run(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
        )
        if i >= warmup:
            times.append(time.perf_counter() - t0)
            cpu.append(_children_cpu() - c0)
    return times, cpu


def slowest_imports(top: int = 8) -> tuple[list[tuple[str, float]], list[str]]:
    """The ``top`` top-level imports of ``--help`` by cumulative time (s), and heavy ones seen."""
    cmd = [sys.executable, "-X", "importtime", "-m", "ivcviewer", "--help"]
    out = subprocess.run(cmd, env=_env(), capture_output=True, text=True, check=True)
    rows: list[tuple[str, float]] = []
    heavy = set()
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = (part.strip() for part in line.split("|"))
        if not cumulative.isdigit():
            continue
        base = name.split(".")[0]
        if base in HEAVY:
            heavy.add(base)
        if not line.split("|")[2].startswith("  "):  # imported directly, not by another module
            rows.append((name, int(cumulative) / 1e6))
    rows.sort(key=lambda r: -r[1])
    return rows[:top], sorted(heavy)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = p.parse_args(argv)

    load_before = os.getloadavg()
    results: dict[str, dict[str, Any]] = {}
    for name, cmd in COMMANDS.items():
        times, cpu = time_command(cmd, args.runs, args.warmup)
        results[name] = {
            "cpu_median_s": statistics.median(cpu),
            "best_s": min(times),
            "median_s": statistics.median(times),
            "mean_s": statistics.fmean(times),
            "stdev_s": statistics.stdev(times) if len(times) > 1 else 0.0,
            "times_s": times,
        }
    top, heavy = slowest_imports()
    print(
        f"{args.runs} runs after {args.warmup} warm-up runs, each a fresh process; "
        f"{os.cpu_count()} cores; Python {sys.version.split()[0]}; load average "
        f"{load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    print()
    print("| command | best s | median s | mean s +- sd | CPU s (median) |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['best_s']:.3f} | {r['median_s']:.3f} | "
            f"{r['mean_s']:.3f} +- {r['stdev_s']:.3f} | {r['cpu_median_s']:.3f} |"
        )
    print()
    print("Slowest imports of `ivcviewer --help` (cumulative, one run):")
    for name, seconds in top:
        print(f"  {seconds * 1000:6.1f} ms  {name}")
    help_median = results["ivcviewer --help"]["median_s"]
    checks = {
        "ivcviewer --help: median <= 0.25 s": help_median <= 0.25,
        f"ivcviewer --help imports none of {', '.join(HEAVY)}": not heavy,
    }
    print_targets(checks)
    if heavy:
        print(f"         imported: {', '.join(heavy)}")
    if args.json:
        payload = {"results": results, "slowest_imports": top, "heavy": heavy, "targets": checks}
        write_json(args.json, payload)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
