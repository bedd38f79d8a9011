"""``ivcviewer demo [--out DIR] [--size small|standard] [--no-window]``: the teaching demo.

1. Generates the case phantom (a synthetic abdominal CT with the case's findings, as a DICOM
   series with its truth) once, in the user cache (:func:`ivcviewer.phantom.cached_phantom`).
2. Fits the packaged case file's findings to the phantom's CT from its truth landmarks, exactly
   as ``ivcviewer overlay CT --case FILE --phantom-truth DIR --out DIR`` does, and writes
   ``labels.nii.gz``, ``labels.json``, ``findings.json`` and ``findings.md`` into ``--out``.
3. With a display (and without ``--no-window``) opens napari with the CT, the findings, the
   landmarks, the "Case overlay" widget and the measurement table; without one renders the
   standard views (axial at the renal-vein level, coronal through the IVC, an anterior 3D view,
   each with the overlay, and the whole window) to PNG files in ``--out`` under a private Xvfb,
   and prints where they are.

napari runs in a child process (``python -m ivcviewer._napari.demo``): this module never
imports it, so the demo's first steps run, and fail with one line, without Qt.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from .._child import child_error, child_paths
from ..errors import IvcviewerError, OptionalDependencyError

#: Default output folder (the README's ``make demo`` passes it explicitly).
DEFAULT_OUT = "ivcviewer-demo"

#: The module that shows or renders the demo in napari (run as ``python -m``).
NAPARI_DEMO_MODULE = "ivcviewer._napari.demo"

_log = logging.getLogger(__name__)


def add_parser(subparsers: Any) -> None:
    """Register the ``demo`` subcommand."""
    p = subparsers.add_parser(
        "demo",
        help="the case phantom with the case overlay: open it in napari, or render screenshots",
        description=(
            "Generate the case phantom (cached), fit the packaged case's findings to it from "
            "its truth landmarks, write the overlay (labels.nii.gz, labels.json, findings.json, "
            "findings.md) into --out, then open napari with the CT, the overlay and the Case "
            "overlay widget. Without a display, or with --no-window, render the views (axial "
            "at the renal veins, coronal through the IVC, 3D, and the window) as PNG files into "
            "--out instead."
        ),
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        default=DEFAULT_OUT,
        help=f"output folder (created if needed; default {DEFAULT_OUT})",
    )
    p.add_argument(
        "--size",
        choices=["small", "standard"],
        default="standard",
        help="phantom size: standard (512 x 512, 0.75 mm, 2.5 mm slices; the default) or small "
        "(96 x 96, 4 mm, 5 mm slices; quick)",
    )
    p.add_argument(
        "--no-window",
        action="store_true",
        dest="no_window",
        help="render screenshots into --out even when a display is available",
    )
    p.add_argument(
        "--case",
        metavar="FILE",
        default=None,
        help="case file (default: the packaged retroperitoneal leiomyosarcoma case)",
    )
    p.set_defaults(func=run)


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _check_napari() -> None:
    if importlib.util.find_spec("napari") is None:
        raise OptionalDependencyError(
            "Optional dependency 'napari' could not be imported but is required for the "
            "window and the screenshots of 'ivcviewer demo' (the overlay files are written). "
            "Install it with: pip install 'ivcviewer[napari]'"
        )


def _fit_and_write(ct: Path, case: Path, phantom: Path, out: Path) -> int:
    """Run ``ivcviewer overlay`` on the phantom (same checks, files and summary)."""
    from .main import build_parser

    args = build_parser().parse_args(
        ["overlay", str(ct), "--case", str(case), "--phantom-truth", str(phantom),
         "--out", str(out)]
    )
    return int(args.func(args))


def _napari_command(
    mode: str, ct: Path, case: Path, phantom: Path, verbose: bool = False
) -> list[str]:
    cmd = [
        sys.executable, "-m", NAPARI_DEMO_MODULE, mode,
        "--ct", str(ct), "--case", str(case), "--phantom-truth", str(phantom),
    ]
    return [*cmd, "--verbose"] if verbose else cmd


def render(ct: Path, case: Path, phantom: Path, out: Path, verbose: bool = False) -> list[Path]:
    """Render the demo's views into ``out`` in a napari child process (Xvfb when needed)."""
    _check_napari()
    cmd = _napari_command("render", ct, case, phantom, verbose) + ["--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return child_paths(proc, "Rendering the demo's screenshots")


def open_window(ct: Path, case: Path, phantom: Path, verbose: bool = False) -> None:
    """Open the demo in a napari window (returns when it is closed)."""
    _check_napari()
    proc = subprocess.run(
        _napari_command("open", ct, case, phantom, verbose),
        stdout=None,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise child_error(proc, "Opening the demo in napari")


def run(args: argparse.Namespace) -> int:
    """Generate, fit, write, then show or render; returns the exit status."""
    from ..annotations import default_case_path
    from ..phantom import cached_phantom
    from ..phantom.output import CT_DIR

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise IvcviewerError(f"--out {out}: is a file, not a folder. Fix: give a folder path.")
    case = Path(args.case) if args.case else default_case_path()
    if not case.is_file():
        raise IvcviewerError(f"--case {case}: no such file. Fix: give a case file (YAML).")

    print(f"phantom ({args.size}): generating or reading it from the cache ...", flush=True)
    phantom = cached_phantom(args.size)
    ct = phantom / CT_DIR
    print(f"phantom: {phantom} (DICOM CT series in {ct}, truth labels and landmarks)")

    status = _fit_and_write(ct, case, phantom, out)
    if status != 0:
        return status

    verbose = bool(getattr(args, "verbose", False))
    if _has_display() and not args.no_window:
        print("opening napari (close the window to finish) ...", flush=True)
        open_window(ct, case, phantom, verbose)
        return 0
    print("rendering the screenshots (no window) ...", flush=True)
    written = render(ct, case, phantom, out, verbose)
    print("screenshots:")
    for p in written:
        print(f"  {p}")
    print(f"findings: {out / 'findings.md'} (and findings.json, labels.nii.gz, labels.json)")
    return 0
