"""``ivcviewer overlay CT_PATH --case FILE (--anatomy LABELMAP|SEG|RTSTRUCT | --landmarks JSON |
--phantom-truth DIR) --out DIR``.

Fits a case file's findings to the anatomy of one CT and writes, into ``DIR``:

``labels.nii.gz``
    the findings as a label map on the CT's own grid and world space (with the sidecar
    ``labels_labels.json`` that :func:`ivcviewer.io.load_labels` finds by itself);
``labels.json``
    label value -> finding id, name, kind, colour (also readable as a label table);
``findings.json``
    per finding: measured extents (cm, left-right / antero-posterior / cranio-caudal), volume
    (mL), the reported figures, per-axis differences, clipping, rule checks and warnings; the
    IVC involvement level; the landmarks used (LPS mm);
``findings.md``
    the same for people.

``seg.dcm``, ``sr.dcm`` (with ``--seg``, ``--sr``; a CT from DICOM only)
    the label map as a DICOM SEG on the CT's series, and the measurement report (SR TID 1500)
    on its segments (``--sr`` writes the SEG too: the report references it);
``ivcviewer-complete.json``
    the marker of a complete set: the command, version, time, and each file's size and SHA-256.

The contract is documented in ``docs/overlay.md``. The files are written as one set: into a
temporary folder beside DIR, then swapped in, so DIR holds the earlier complete overlay or the
new one, never a mix; never into a folder that holds an input; into a folder that holds other
files only with ``--force``. Nothing is written, and the exit status is 2, when no finding can
be drawn on the CT or every landmark lies outside it.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._lazy import lazy_exports
from ..report import ValidationMode
from .options import add_case_fit_inputs, add_series_options

if TYPE_CHECKING:
    from ..workflows.overlay import OUTPUT_FILES

__getattr__, __dir__ = lazy_exports(__name__, {"..workflows.overlay": ("OUTPUT_FILES",)})

#: Version of the ``labels.json`` layout.
LABELS_JSON_VERSION = 1

__all__ = ["LABELS_JSON_VERSION", "OUTPUT_FILES", "add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    """Register the ``overlay`` subcommand."""
    p = subparsers.add_parser(
        "overlay",
        help="place a case file's findings on a CT as labelled regions, measured",
        description=(
            "Fit the findings of a case file to the anatomy of CT_PATH (a DICOM folder or file, "
            "or a .nii/.nii.gz/.nrrd/.mha volume) and write labels.nii.gz (on the CT's grid) "
            "with its table labels_labels.json, labels.json, findings.json and findings.md "
            "into --out (with --seg / --sr also seg.dcm / sr.dcm, for a CT read from DICOM). "
            "The anatomy comes from a label map with structure names or a DICOM SEG or "
            "RTSTRUCT made on the CT (--anatomy), a landmarks JSON file (--landmarks) or a "
            "phantom's truth folder (--phantom-truth). See docs/overlay.md."
        ),
    )
    add_case_fit_inputs(
        p,
        anatomy_help="anatomy label map (TotalSegmentator class names), or a DICOM SEG or "
        "RTSTRUCT made on CT_PATH, from which landmarks are derived",
        phantom_truth_help="a phantom's truth folder (landmarks.json, and its label map if "
        "there is one)",
    )
    add_series_options(
        p,
        series_help="for a DICOM folder with several series",
        on_irregular_help="what to do with gaps, duplicate positions or uneven spacing in a "
        "DICOM stack: raise (refuse it; the default), warn (build it on a uniform grid and "
        "report each problem) or resample (interpolate onto a regular grid; the label map is "
        "then written on that grid)",
    )
    p.add_argument(
        "--bone",
        choices=["labels_and_ct", "labels", "ct", "none"],
        default="labels_and_ct",
        help="where the bone that a mass is clipped out of comes from (default labels_and_ct)",
    )
    p.add_argument(
        "--seg",
        action="store_true",
        help="also write seg.dcm, the label map as a DICOM SEG on the CT's series (a CT read "
        "from DICOM only)",
    )
    p.add_argument(
        "--sr",
        action="store_true",
        help="also write sr.dcm, the findings' measurement report (DICOM SR TID 1500) on the "
        "segments of seg.dcm (written too)",
    )
    p.add_argument("--out", metavar="DIR", required=True, help="output folder (created if needed)")
    p.add_argument(
        "--force",
        action="store_true",
        help="write into --out even if it holds files that are not an overlay's (they are kept)",
    )
    p.set_defaults(func=run)


def _inputs(args: argparse.Namespace) -> Any:
    """The inputs of ``args`` (every file read, so that no output goes into their folders)."""
    from ..workflows.overlay import OverlayInputs, overlay_input_files

    sources = {
        "anatomy": args.anatomy,
        "anatomy_names": args.anatomy_names,
        "landmarks": args.landmarks,
        "phantom_truth": args.phantom_truth,
    }
    files = overlay_input_files(str(args.ct), str(args.case), **sources)
    return OverlayInputs(ct=str(args.ct), case=str(args.case), **sources, files=tuple(files))


def _anatomy(args: argparse.Namespace, case: Any, ct: Any) -> Any:
    """The anatomy source ``args`` names, resolved by the shared workflow (a DICOM SEG or
    RTSTRUCT given as ``--anatomy`` is placed on ``ct``)."""
    from .. import workflows

    if args.anatomy:
        return workflows.anatomy_from_labelmap_file(args.anatomy, case, args.anatomy_names, ct=ct)
    if args.landmarks:
        return workflows.anatomy_from_landmarks_file(args.landmarks)
    return workflows.anatomy_from_phantom_truth(args.phantom_truth, case)


def run(args: argparse.Namespace) -> int:
    """Fit and write the overlay of ``args``; returns the exit status."""
    from ..annotations import load_case
    from ..annotations.overlay import BoneSource
    from ..errors import IvcviewerError
    from ..workflows import fit_overlay, open_ct, write_overlay_outputs
    from ..workflows.findings_table import render_terminal
    from ..workflows.overlay import (
        DicomOutputs,
        check_dicom_outputs,
        check_overlay_output,
        result_warnings,
    )

    if args.anatomy_names and not args.anatomy:
        raise IvcviewerError(
            "--anatomy-names needs --anatomy (it names the values of that label map); remove "
            "it or give --anatomy LABELMAP."
        )
    inputs = _inputs(args)
    # refuse an output folder that is a file or holds an input before anything is read
    check_overlay_output(Path(args.out), inputs.files, force=args.force)
    case = load_case(args.case)
    ct = open_ct(args.ct, series=args.series, on_irregular=ValidationMode(args.on_irregular))
    dicom = DicomOutputs(ct, seg=args.seg or args.sr, sr=args.sr)
    if dicom.any:  # before the fit: a CT from a volume file cannot give them
        options = " ".join(o for o, on in (("--seg", args.seg), ("--sr", args.sr)) if on)
        check_dicom_outputs(ct, f"CT_PATH {args.ct}", options)
    anatomy = _anatomy(args, case, ct)
    result = fit_overlay(ct, case, anatomy, bone=BoneSource(args.bone), ct_name=str(args.ct))
    written = write_overlay_outputs(result, args.out, inputs, force=args.force, dicom=dicom)
    for w in result_warnings(result):
        warnings.warn(w, stacklevel=1)
    sys.stdout.write(render_terminal(result, [str(p) for p in written.paths()]))
    return 0
