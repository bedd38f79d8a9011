"""``ivcviewer overlay CT_PATH --case FILE (--anatomy LABELMAP | --landmarks JSON |
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

The contract is documented in ``docs/overlay.md``. Files are written atomically and never into
a folder that holds an input. Nothing is written, and the exit status is 2, when no finding can
be drawn on the CT or every landmark lies outside it.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

from ..report import ValidationMode

#: Version of the ``labels.json`` layout.
LABELS_JSON_VERSION = 1

#: Files the subcommand writes into ``--out`` (``labels_labels.json`` is the sidecar label
#: table of ``labels.nii.gz``).
OUTPUT_FILES: tuple[str, ...] = (
    "labels.nii.gz",
    "labels_labels.json",
    "labels.json",
    "findings.json",
    "findings.md",
)


def add_parser(subparsers: Any) -> None:
    """Register the ``overlay`` subcommand."""
    p = subparsers.add_parser(
        "overlay",
        help="place a case file's findings on a CT as labelled regions, measured",
        description=(
            "Fit the findings of a case file to the anatomy of CT_PATH (a DICOM folder or file, "
            "or a .nii/.nii.gz/.nrrd/.mha volume) and write labels.nii.gz (on the CT's grid) "
            "with its table labels_labels.json, labels.json, findings.json and findings.md "
            "into --out. The anatomy comes from a label map with structure names (--anatomy), "
            "a landmarks JSON file (--landmarks) or a phantom's truth folder "
            "(--phantom-truth). See docs/overlay.md."
        ),
    )
    p.add_argument("ct", metavar="CT_PATH", help="the CT: DICOM folder or file, or a volume file")
    p.add_argument("--case", metavar="FILE", required=True, help="case file (YAML)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--anatomy",
        metavar="LABELMAP",
        help="anatomy label map (TotalSegmentator class names) from which landmarks are derived",
    )
    src.add_argument("--landmarks", metavar="JSON", help="landmarks JSON file (LPS mm)")
    src.add_argument(
        "--phantom-truth",
        metavar="DIR",
        dest="phantom_truth",
        help="a phantom's truth folder (landmarks.json, and its label map if there is one)",
    )
    p.add_argument(
        "--anatomy-names",
        metavar="JSON",
        dest="anatomy_names",
        help="label table of --anatomy (value -> name); default: <stem>_labels.json beside it",
    )
    p.add_argument("--series", metavar="UID", help="for a DICOM folder with several series")
    p.add_argument(
        "--on-irregular",
        dest="on_irregular",
        choices=[m.value for m in ValidationMode],
        default=ValidationMode.RAISE.value,
        help="what to do with gaps, duplicate positions or uneven spacing in a DICOM stack: "
        "raise (refuse it; the default), warn (build it on a uniform grid and report each "
        "problem) or resample (interpolate onto a regular grid; the label map is then written "
        "on that grid)",
    )
    p.add_argument(
        "--bone",
        choices=["labels_and_ct", "labels", "ct", "none"],
        default="labels_and_ct",
        help="where the bone that a mass is clipped out of comes from (default labels_and_ct)",
    )
    p.add_argument("--out", metavar="DIR", required=True, help="output folder (created if needed)")
    p.set_defaults(func=run)


def _usage_error(message: str) -> Exception:
    from ..errors import IvcviewerError

    return IvcviewerError(message)


def open_one_series(
    path: str, series: str | None, on_irregular: ValidationMode, option: str = "CT_PATH"
) -> Any:
    """The one volume at ``path`` (any input :func:`ivcviewer.io.open_path` reads).

    Raises
    ------
    NoSeriesFoundError
        ``path`` holds several series and ``series`` chooses none: the message lists them and
        asks for one with ``--series UID``.
    """
    from ..errors import NoSeriesFoundError
    from ..io import open_path

    vols = open_path(path, series_uid=series, on_irregular=on_irregular)
    if len(vols) > 1:
        uids = ", ".join(
            f"{v.metadata.series_uid or '?'} ({v.metadata.description or 'no description'}, "
            f"{v.shape[0]} slices)"
            for v in vols
        )
        raise NoSeriesFoundError(
            f"{option} {path}: holds {len(vols)} series ({uids}); choose one with --series UID."
        )
    return vols[0]


def _check_drawn(result: Any, ct_path: str) -> None:
    """Refuse a fit that drew nothing, or whose landmarks all lie outside the CT."""
    from ..errors import AnatomyError

    lm = result.landmarks
    needed = [
        n
        for n in result.case.required_landmarks()
        if n in lm.points_lps or (n == "ivc_centreline" and lm.centreline_lps is not None)
    ]
    outside = list(result.landmarks_outside)
    all_outside = bool(needed) and set(needed) <= set(outside)
    if result.drawn and not all_outside:
        return
    lo, hi = _z_range(result.labels)
    clipped = "; ".join(
        f"{f.id} by {', '.join(dict.fromkeys(c.reason for c in f.clipping)) or 'nothing'}"
        for f in result.findings
    )
    where = (
        f"the landmarks lie outside its field of view ({', '.join(outside)}; the CT spans z "
        f"{lo:.1f} to {hi:.1f} mm LPS)"
        if outside
        else f"every finding was clipped away ({clipped})"
    )
    what = (
        "nothing of the case's findings could be drawn on it"
        if not result.drawn
        else "every landmark lies outside it"
    )
    raise AnatomyError(
        f"{ct_path}: {what}: {where}. Fix: give the anatomy of this CT (its own label map, "
        "landmarks or phantom folder)."
    )


def _z_range(vol: Any) -> tuple[float, float]:
    """Lowest and highest LPS z of a grid's corner voxel centres."""
    import numpy as np

    from .. import geometry

    n = np.asarray(vol.shape) - 1
    corners = np.array([[i, j, k] for i in (0, n[0]) for j in (0, n[1]) for k in (0, n[2])])
    z = geometry.voxel_to_lps(vol.affine, corners)[:, 2]
    return float(z.min()), float(z.max())


def run(args: argparse.Namespace) -> int:
    """Fit and write the overlay of ``args``; returns the exit status."""
    from ..annotations import Landmarks, landmarks_from_labelmap, load_case
    from ..annotations.overlay import (
        BoneSource,
        FitOptions,
        anatomy_names_for_case,
        fit_case,
    )
    from ..annotations.report import overlay_markdown
    from ..annotations.truth import phantom_truth_anatomy
    from ..errors import AnatomyError
    from ..io import LabelEntry, LabelTable, save_labels
    from ..io.formats import check_output_path, write_text_atomic
    from .info import dumps

    if args.anatomy_names and not args.anatomy:
        raise _usage_error(
            "--anatomy-names needs --anatomy (it names the values of that label map); remove "
            "it or give --anatomy LABELMAP."
        )
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise _usage_error(f"--out {out}: is a file, not a folder. Fix: give a folder path.")
    inputs: list[Path] = [Path(args.ct), Path(args.case)]
    for extra in (args.anatomy, args.anatomy_names, args.landmarks):
        if extra:
            inputs.append(Path(extra))
    if args.phantom_truth:
        inputs.append(Path(args.phantom_truth) / "landmarks.json")
    # refuse input folders before anything is read or created
    check_output_path(out / OUTPUT_FILES[0], inputs)

    case = load_case(args.case)
    ct = open_one_series(args.ct, args.series, ValidationMode(args.on_irregular))
    anatomy_labels = None
    names: dict[int, str] | None = None
    if args.anatomy:
        from ..io import load_labels

        anatomy_labels, table = load_labels(args.anatomy, args.anatomy_names)
        # a label named after the tumour inside the IVC counts as part of the IVC
        names = anatomy_names_for_case({int(v): str(n) for v, n in table.names.items()}, case)

        try:
            landmarks = landmarks_from_labelmap(
                anatomy_labels, names, required=case.required_landmarks()
            )
        except AnatomyError as err:
            raise AnatomyError(f"{args.anatomy}: {err}") from err
        landmarks.provenance.description = landmarks.provenance.description or str(args.anatomy)
    elif args.landmarks:
        landmarks = Landmarks.load_json(args.landmarks)
    else:
        landmarks, anatomy_labels, names, _ = phantom_truth_anatomy(Path(args.phantom_truth), case)

    result = fit_case(
        ct, case, landmarks, anatomy_labels, names, options=FitOptions(bone=BoneSource(args.bone))
    )
    _check_drawn(result, args.ct)

    out.mkdir(parents=True, exist_ok=True)
    table = LabelTable({r.value: LabelEntry(r.name, r.rgba) for r in result.regions})
    labels_path, sidecar = save_labels(
        result.labels, table, out / "labels.nii.gz", inputs=[str(p) for p in inputs]
    )
    labels_doc = {str(r.value): r.to_dict() for r in result.regions}
    write_text_atomic(out / "labels.json", dumps(labels_doc) + "\n")
    doc = result.to_json_dict()
    doc["inputs"] = {
        "ct": str(args.ct),
        "case": str(args.case),
        "anatomy": args.anatomy,
        "anatomy_names": args.anatomy_names,
        "landmarks": args.landmarks,
        "phantom_truth": args.phantom_truth,
    }
    doc["outputs"] = {
        "labels": str(labels_path),
        "labels_sidecar": str(sidecar),
        "label_table": str(out / "labels.json"),
        "findings_md": str(out / "findings.md"),
    }
    write_text_atomic(out / "findings.json", dumps(doc) + "\n")
    write_text_atomic(out / "findings.md", overlay_markdown(result))

    for w in result.warnings:
        warnings.warn(w, stacklevel=1)
    for f in result.findings:
        for w in f.warnings:
            warnings.warn(f"{f.id}: {w}", stacklevel=1)
    lines = []
    for f in result.findings:
        ext = f.extents_mm
        size = (
            "not drawn"
            if ext is None
            else " x ".join(f"{ext[a] / 10.0:.1f}" for a in ("lr", "ap", "cc"))
            + f" cm (lr x ap x cc), {f.volume_ml:.0f} mL"
        )
        lines.append(f"{f.id}: {size}")
    lv = result.involvement
    exp = result.expected_involvement
    assumed = ", assumed" if result.expected_involvement_assumed else ""
    expected = (
        ""
        if exp is None
        else f" (case file{assumed}: Mayo {exp.mayo_level}, segment {exp.ivc_segment})"
    )
    if lv is not None:
        bound = " or higher" if lv.lower_bound else ""
        lines.append(
            f"IVC involvement: Mayo {lv.mayo_level}{bound}, segment {lv.ivc_segment}{expected}"
        )
    elif result.involvement_finding is not None:
        lines.append(
            f"IVC involvement: not computed ({result.involvement_finding} is not drawn){expected}"
        )
    written = [
        labels_path,
        sidecar,
        out / "labels.json",
        out / "findings.json",
        out / "findings.md",
    ]
    lines.append(f"wrote {', '.join(str(p) for p in written)}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
