"""``ivcviewer render CT_PATH --case FILE (--anatomy LABELMAP|SEG|RTSTRUCT | --landmarks JSON |
--phantom-truth DIR) --out DIR [--force]``: figures of a case fitted on a CT, without a screen.

The case is fitted as ``ivcviewer overlay`` fits it (:func:`ivcviewer.workflows.fit_overlay`),
then a real napari viewer renders (under a private Xvfb when there is no display) the views of
:func:`ivcviewer.workflows.figures.case_figure_views`, each with the findings, a legend of their
names and a scale bar in mm, into ``--out``:

``axial_renal_veins.png``, ``coronal_ivc.png``, ``sagittal_ivc.png``, ``3d.png``
    axial at the renal veins, coronal and sagittal through the IVC (head up, the patient's left
    on the right of the screen), and an anterior 3D view (the findings as surfaces over a
    projection of the CT);
``panel.png``, ``panel.pdf``
    the four on one page;
``ivcviewer-complete.json``
    the marker of a complete set.

The files are written as one set (into a temporary folder beside DIR, then swapped in); never
into a folder that holds an input; into a folder that holds other files only with ``--force``.
napari runs in a child process (``python -m ivcviewer._napari.render``): this module never
imports it.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .options import add_case_fit_inputs, add_series_options

#: The module that fits and renders in napari (run as ``python -m``).
NAPARI_RENDER_MODULE = "ivcviewer._napari.render"


def add_parser(subparsers: Any) -> None:
    """Register the ``render`` subcommand."""
    p = subparsers.add_parser(
        "render",
        help="figures of a case's findings on a CT (PNG views and a PDF panel), without a screen",
        description=(
            "Fit the findings of a case file to CT_PATH (as 'ivcviewer overlay' does) and render, "
            "with napari (under a private Xvfb when there is no display), axial at the renal "
            "veins, coronal and sagittal through the IVC and a 3D view, each with the findings, "
            "a legend and a scale bar in mm, plus a one-page panel of the four (PNG and PDF), "
            "into --out. See docs/rendering.md."
        ),
    )
    add_case_fit_inputs(
        p,
        anatomy_help="anatomy label map (TotalSegmentator class names), or a DICOM SEG or "
        "RTSTRUCT made on CT_PATH",
        phantom_truth_help="a phantom's truth folder",
    )
    add_series_options(
        p,
        series_help="for a DICOM folder with several series",
        on_irregular_help="what to do with an irregular DICOM stack: raise (the default), warn "
        "or resample",
    )
    p.add_argument("--out", metavar="DIR", required=True, help="output folder (created if needed)")
    p.add_argument(
        "--force",
        action="store_true",
        help="write into --out even if it holds files that are not a figure set's (they are kept)",
    )
    p.set_defaults(func=run)


def _check_napari() -> None:
    from ..errors import OptionalDependencyError

    if importlib.util.find_spec("napari") is None:
        raise OptionalDependencyError(
            "Optional dependency 'napari' could not be imported but is required by 'ivcviewer "
            "render'. Install it with: pip install 'ivcviewer[napari]'"
        )


def _inputs(args: argparse.Namespace) -> Any:
    """The :class:`~ivcviewer.workflows.figures.RenderInputs` of ``args``."""
    from ..workflows.figures import RenderInputs

    return RenderInputs(
        str(args.ct),
        str(args.case),
        args.anatomy,
        args.anatomy_names,
        args.landmarks,
        args.phantom_truth,
        args.series,
        str(args.on_irregular),
    )


def run(args: argparse.Namespace) -> int:
    """Check the inputs and the output folder, then fit and render in a napari child."""
    from .._child import child_paths
    from ..errors import IvcviewerError
    from ..workflows.figures import check_render_output

    if args.anatomy_names and not args.anatomy:
        raise IvcviewerError(
            "--anatomy-names needs --anatomy (it names the values of that label map); remove "
            "it or give --anatomy LABELMAP."
        )
    if not Path(args.case).is_file():
        raise IvcviewerError(f"--case {args.case}: no such file. Fix: give a case file (YAML).")
    inputs = _inputs(args)
    # refuse an output folder that is a file, holds an input or other files before any work
    check_render_output(Path(args.out), inputs.files(), force=args.force)
    _check_napari()
    start = time.monotonic()
    cmd = [sys.executable, "-m", NAPARI_RENDER_MODULE, *inputs.args(), "--out", str(args.out)]
    cmd += ["--force"] if args.force else []
    cmd += ["--verbose"] if getattr(args, "verbose", False) else []
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    written = child_paths(proc, f"Rendering the figures of {args.ct}")
    for path in written:
        print(path)
    print(f"rendered {len(written)} files in {time.monotonic() - start:.1f} s")
    return 0
