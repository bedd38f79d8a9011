"""``ivcviewer demo [--out DIR] [--size small|standard] [--no-window]``: the teaching demo.

The case is fitted on two CTs, each with its outputs in its own subfolder of ``--out``:

* ``phantom/``: the case phantom, a synthetic abdominal CT with the case's findings, generated
  once as a DICOM series with its truth in the user cache
  (:func:`ivcviewer.phantom.cached_phantom`) and fitted from its truth landmarks, exactly as
  ``ivcviewer overlay CT --case FILE --phantom-truth DIR --out DIR`` does;
* ``real_ct/``: the real abdominal CT shipped with ivcviewer (the TotalSegmentator example CT,
  CC BY 4.0; :func:`ivcviewer.sample_data.real_abdominal_ct`), fitted from its anatomy label
  map, exactly as ``ivcviewer overlay CT --case FILE --anatomy LABELMAP --out DIR`` does.

Each subfolder gets ``labels.nii.gz``, ``labels.json``, ``findings.json`` and ``findings.md``,
written as one set (beside the subfolder, then swapped in) with the marker of a complete set
``ivcviewer-complete.json``; the screenshots are added to it and to its marker. An earlier
demo's subfolder is replaced; one that holds other files is refused.
With a display (and without ``--no-window``) napari opens one window per CT with the CT, the
findings, the landmarks, the "Case overlay" widget and the measurement table; without one the
standard views (axial at the renal-vein level, coronal through the IVC, an anterior 3D view,
each with the overlay, and the whole window) are rendered to PNG files in each subfolder under
a private Xvfb, and their paths printed.

napari runs in child processes (``python -m ivcviewer._napari.demo``): this module never
imports it, so the demo's first steps run, and fail with one line, without Qt.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import logging
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._atomic import SetKind, check_target, extend_marker
from .._child import child_error, child_paths
from ..errors import IvcviewerError, OptionalDependencyError

#: Default output folder (the README's ``make demo`` passes it explicitly).
DEFAULT_OUT = "ivcviewer-demo"

#: The module that shows or renders the demo in napari (run as ``python -m``).
NAPARI_DEMO_MODULE = "ivcviewer._napari.demo"

#: Subfolders of ``--out``, one per CT the case is fitted on.
PHANTOM_DIR = "phantom"
REAL_CT_DIR = "real_ct"

#: What a subfolder of ``--out`` holds: the overlay's files and the screenshots.
DEMO_SET = SetKind(
    "demo",
    "demo overlay",
    frozenset(
        ("labels.nii.gz", "labels_labels.json", "labels.json", "findings.json", "findings.md")
    ),
    ("demo_*.png",),
)

_log = logging.getLogger(__name__)


def add_parser(subparsers: Any) -> None:
    """Register the ``demo`` subcommand."""
    p = subparsers.add_parser(
        "demo",
        help="the case overlay on the case phantom and on a real CT: open it in napari, or "
        "render screenshots",
        description=(
            "Fit the packaged case's findings to the case phantom (generated once, cached) from "
            "its truth landmarks and to the real abdominal CT shipped with ivcviewer (the "
            "TotalSegmentator example CT, CC BY 4.0) from its anatomy label map. Write each "
            "overlay (labels.nii.gz, labels.json, findings.json, findings.md) into its "
            f"subfolder of --out ({PHANTOM_DIR}/, {REAL_CT_DIR}/), then open napari with each "
            "CT, its overlay and the Case overlay widget. Without a display, or with "
            "--no-window, render the views (axial at the renal veins, coronal through the IVC, "
            "3D, and the window) as PNG files into those subfolders instead."
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


@dataclass(frozen=True)
class DemoTarget:
    """One CT the demo fits the case on, with the anatomy that places the findings.

    Attributes
    ----------
    key
        Its subfolder of ``--out``.
    title
        What it is, for the window title and the messages.
    ct
        The CT (a DICOM folder or a volume file).
    phantom_truth
        The phantom's truth folder, or None.
    labelmap, labelmap_names
        The anatomy label map and its names file, or None.
    """

    key: str
    title: str
    ct: Path
    phantom_truth: Path | None = None
    labelmap: Path | None = None
    labelmap_names: Path | None = None

    def anatomy_args(self) -> list[str]:
        """The anatomy options of ``ivcviewer overlay`` and of the napari demo's child.

        >>> DemoTarget("ph", "phantom", Path("ph/ct"), phantom_truth=Path("ph")).anatomy_args()
        ['--phantom-truth', 'ph']
        """
        if self.phantom_truth is not None:
            return ["--phantom-truth", str(self.phantom_truth)]
        if self.labelmap is None:
            raise IvcviewerError(
                f"Demo CT {self.ct}: has neither a phantom truth folder nor an anatomy label "
                "map. Fix: give one of them."
            )
        names = [] if self.labelmap_names is None else ["--anatomy-names", str(self.labelmap_names)]
        return ["--anatomy", str(self.labelmap), *names]

    def inputs(self) -> list[Path]:
        """The files and folders the overlay of this CT reads (never written into).

        >>> target = DemoTarget("ph", "phantom", Path("ph/ct"), phantom_truth=Path("ph"))
        >>> [p.as_posix() for p in target.inputs()]
        ['ph/ct', 'ph/landmarks.json']
        """
        found = [self.ct]
        if self.phantom_truth is not None:
            found.append(self.phantom_truth / "landmarks.json")
        found.extend(p for p in (self.labelmap, self.labelmap_names) if p is not None)
        return found


def phantom_target(size: str) -> DemoTarget:
    """The case phantom of ``size``, generated or read from the user cache."""
    from ..phantom import cached_phantom
    from ..phantom.output import CT_DIR

    print(f"phantom ({size}): generating or reading it from the cache ...", flush=True)
    phantom = cached_phantom(size)
    ct = phantom / CT_DIR
    print(f"phantom: {phantom} (DICOM CT series in {ct}, truth labels and landmarks)")
    return DemoTarget(PHANTOM_DIR, "the case phantom", ct, phantom_truth=phantom)


def real_ct_target() -> DemoTarget:
    """The real abdominal CT shipped with ivcviewer, with its anatomy label map."""
    from ..sample_data import real_abdominal_ct

    sample = real_abdominal_ct()
    print(f"real CT: {sample.ct} with its anatomy label map {sample.labels}")
    print(f"  data: {sample.citation}")
    return DemoTarget(
        REAL_CT_DIR,
        "a real abdominal CT (TotalSegmentator example, CC BY 4.0)",
        sample.ct,
        labelmap=sample.labels,
        labelmap_names=sample.names,
    )


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _check_napari() -> None:
    if importlib.util.find_spec("napari") is None:
        raise OptionalDependencyError(
            "Optional dependency 'napari' could not be imported but is required for the "
            "window and the screenshots of 'ivcviewer demo' (the overlay files are written). "
            "Install it with: pip install 'ivcviewer[napari]'"
        )


def check_outputs(targets: list[DemoTarget], case: Path, out: Path) -> None:
    """Refuse, before anything is written, an ``--out`` whose subfolders lie in an input folder.

    Temporary folders of interrupted runs beside the subfolders are removed (with a warning).

    Raises
    ------
    VolumeFormatError
        When a CT's subfolder is, or lies inside, the folder of one of its inputs or of the case.
    OutputExistsError
        When a subfolder holds files that are not a demo's.
    """
    from ..io.formats import check_output_path

    for target in targets:
        check_output_path(out / target.key / "labels.nii.gz", [*target.inputs(), case])
    for target in targets:
        check_target(out / target.key, DEMO_SET, label=f"--out {out / target.key}")


def fit_and_write(target: DemoTarget, case: Path, out: Path) -> int:
    """Fit the case on ``target`` and write the overlay's files into ``out``.

    The same use cases as ``ivcviewer overlay`` (:mod:`ivcviewer.workflows`), so the files are
    the ones that command writes for the same inputs.
    """
    from .. import workflows
    from ..annotations import load_case
    from ..workflows.findings_table import render_terminal

    print(f"fitting the case on {target.title} ...", flush=True)
    case_file = load_case(case)
    ct = workflows.open_ct(target.ct)
    if target.phantom_truth is not None:
        anatomy = workflows.anatomy_from_phantom_truth(target.phantom_truth, case_file)
    elif target.labelmap is not None:
        anatomy = workflows.anatomy_from_labelmap_file(
            target.labelmap, case_file, target.labelmap_names
        )
    else:
        target.anatomy_args()  # raises: the target names no anatomy
    result = workflows.fit_overlay(ct, case_file, anatomy, ct_name=str(target.ct))
    inputs = workflows.OverlayInputs(
        ct=str(target.ct),
        case=str(case),
        anatomy=None if target.labelmap is None else str(target.labelmap),
        anatomy_names=None if target.labelmap_names is None else str(target.labelmap_names),
        phantom_truth=None if target.phantom_truth is None else str(target.phantom_truth),
        files=(*target.inputs(), case),
    )
    written = workflows.write_overlay_outputs(result, out, inputs, kind=DEMO_SET)
    sys.stdout.write(render_terminal(result, [str(p) for p in written.paths()]))
    return 0


def _napari_command(mode: str, target: DemoTarget, case: Path, verbose: bool = False) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        NAPARI_DEMO_MODULE,
        mode,
        "--ct",
        str(target.ct),
        "--case",
        str(case),
        *target.anatomy_args(),
    ]
    return [*cmd, "--verbose"] if verbose else cmd


def render(target: DemoTarget, case: Path, out: Path, verbose: bool = False) -> list[Path]:
    """Render one CT's views into ``out`` in a napari child process (Xvfb when needed)."""
    _check_napari()
    cmd = _napari_command("render", target, case, verbose) + ["--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return child_paths(proc, f"Rendering the demo's screenshots of {target.title}")


def render_into_set(target: DemoTarget, case: Path, out: Path, verbose: bool = False) -> list[Path]:
    """Render one CT's views into its complete set ``out`` and list them in its marker."""
    written = render(target, case, out, verbose)
    extend_marker(out, written)
    return written


def open_windows(targets: list[DemoTarget], case: Path, verbose: bool = False) -> None:
    """Open one napari window per CT, side by side; returns when all are closed.

    Raises
    ------
    IvcviewerError
        The error of the first window whose process failed (after every window is closed).
    """
    _check_napari()
    with contextlib.ExitStack() as stack:
        running = []
        for target in targets:
            title = f"ivcviewer demo: case overlay on {target.title}"
            cmd = _napari_command("open", target, case, verbose) + ["--title", title]
            err = stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8"))
            running.append((target, subprocess.Popen(cmd, stderr=err, text=True), err))
        failed = []
        for target, proc, err in running:
            returncode = proc.wait()
            err.seek(0)
            done = subprocess.CompletedProcess(proc.args, returncode, None, err.read())
            if returncode != 0:
                failed.append(child_error(done, f"Opening the demo of {target.title} in napari"))
    if failed:
        raise failed[0]


def run(args: argparse.Namespace) -> int:
    """Fit and write on each CT, then show or render; returns the exit status."""
    from ..annotations import default_case_path

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise IvcviewerError(f"--out {out}: is a file, not a folder. Fix: give a folder path.")
    case = Path(args.case) if args.case else default_case_path()
    if not case.is_file():
        raise IvcviewerError(f"--case {case}: no such file. Fix: give a case file (YAML).")

    targets = [phantom_target(args.size), real_ct_target()]
    check_outputs(targets, case, out)
    for target in targets:
        status = fit_and_write(target, case, out / target.key)
        if status != 0:
            return status

    verbose = bool(getattr(args, "verbose", False))
    if _has_display() and not args.no_window:
        print("opening napari, one window per CT (close them to finish) ...", flush=True)
        open_windows(targets, case, verbose)
        return 0
    print("rendering the screenshots (no window) ...", flush=True)
    written = [p for t in targets for p in render_into_set(t, case, out / t.key, verbose)]
    print("screenshots:")
    for p in written:
        print(f"  {p}")
    for target in targets:
        findings = out / target.key / "findings.md"
        print(
            f"findings on {target.title}: {findings} (and findings.json, labels.nii.gz, "
            "labels.json)"
        )
    return 0
