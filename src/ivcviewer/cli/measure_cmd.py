"""``ivcviewer measure LABELMAP [--ct CT_PATH [--series UID]] [--names JSON] [--case FILE]
[--json]``.

Measures every region of a label map (extents along the patient axes, oriented box, maximum
diameter, RECIST long and short axes, volume, centroid; HU statistics with ``--ct``) and, with
``--case``, sets each region beside the figures its finding reports. The ``--json`` form is a
documented contract (``docs/measurement.md``); the table is for people and may change.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import TYPE_CHECKING, Any

from .._json import dumps
from .._lazy import lazy_exports
from ..report import ValidationMode
from .options import add_series_options, shown_arg

if TYPE_CHECKING:
    from ..workflows.measure import JSON_SCHEMA_VERSION, MeasureReport

__getattr__, __dir__ = lazy_exports(__name__, {"..workflows.measure": ("JSON_SCHEMA_VERSION",)})

__all__ = ["JSON_SCHEMA_VERSION", "add_parser", "format_table", "run", "tolerance_arg"]


def tolerance_arg(text: str) -> float:
    """``--tolerance``: a finite number >= 0 (argparse names the option in its message).

    >>> tolerance_arg("0.05")
    0.05
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a number (a relative tolerance such as 0.02), got {shown_arg(text)}"
        ) from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(
            "must be a finite number >= 0 (a relative tolerance such as 0.02), got "
            f"{shown_arg(text)}"
        )
    return value


def add_parser(subparsers: Any) -> None:
    """Register the ``measure`` subcommand."""
    p = subparsers.add_parser(
        "measure",
        help="measure every region of a label map in cm, mL and HU",
        description=(
            "Measure each label of LABELMAP (NIfTI, NRRD or MHA): extents along the patient "
            "axes, oriented bounding box, maximum 3D diameter, RECIST long and short axes, "
            "volume and centroid; HU statistics with --ct; the comparison with a case file's "
            "reported figures with --case. Definitions: docs/measurement.md."
        ),
    )
    p.add_argument("labelmap", metavar="LABELMAP", help="label map (.nii, .nii.gz, .nrrd, .mha)")
    p.add_argument(
        "--ct",
        metavar="CT_PATH",
        help="CT on the same grid, for HU statistics: a volume file, or a DICOM folder or file",
    )
    add_series_options(
        p,
        series_help="the series of --ct to use when it is a DICOM folder with several series",
        on_irregular_help="what to do with gaps, duplicate positions or uneven spacing in a "
        "DICOM --ct: raise (the default), warn or resample (see 'ivcviewer open --help')",
    )
    p.add_argument(
        "--names",
        metavar="JSON",
        help="label table (value -> name); default: <stem>_labels.json beside LABELMAP",
    )
    p.add_argument(
        "--case",
        metavar="FILE",
        help="case file whose findings' reported figures are compared with the regions",
    )
    p.add_argument(
        "--tolerance",
        metavar="REL",
        type=tolerance_arg,
        default=None,
        help="relative tolerance of the comparison (default 0.02; the floor is one voxel)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print the documented JSON form (see docs/measurement.md) instead of a table",
    )
    p.set_defaults(func=run)


def measure_labelmap(labelmap: str, **kwargs: Any) -> MeasureReport:
    """:func:`ivcviewer.workflows.measure_labelmap` (imported when the command runs)."""
    from ..workflows.measure import measure_labelmap as measure

    return measure(labelmap, **kwargs)


def _default_tolerance() -> float:
    from ..measure import DEFAULT_TOLERANCE_REL

    return DEFAULT_TOLERANCE_REL


def run(args: argparse.Namespace) -> int:
    """Measure the label map of ``args``; returns the exit status."""
    from ..workflows.measure import warn_all

    report = measure_labelmap(
        args.labelmap,
        names=args.names,
        ct=args.ct,
        series=args.series,
        on_irregular=ValidationMode(args.on_irregular),
        case=args.case,
        tolerance_rel=_default_tolerance() if args.tolerance is None else args.tolerance,
    )
    warn_all(report)
    if args.json:
        sys.stdout.write(dumps(report.data) + "\n")
    else:
        sys.stdout.write(format_table(report.data))
    return 0


# Table form ----------------------------------------------------------------------------------


def _f(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f}"


def _align(rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def format_table(data: dict[str, Any]) -> str:
    """The human-readable form of :func:`run`'s data: aligned tables, lengths in cm."""
    g = data["grid"]
    sp = " x ".join(f"{v:.3g}" for v in g["spacing_mm"])
    out = [
        f"{data['labelmap']}: {g['shape'][0]}x{g['shape'][1]}x{g['shape'][2]} voxels, "
        f"spacing {sp} mm (slice, row, col), axes {g['axis_codes']}\n"
    ]
    regions = data["regions"]
    if not regions:
        out.append("no regions (every voxel is 0)\n")
        return "".join(out)
    head = [
        "label",
        "name",
        "LR cm",
        "AP cm",
        "CC cm",
        "OBB cm",
        "Dmax cm",
        "long cm",
        "short cm",
        "volume mL",
        "centroid LPS mm",
    ]
    rows = [head]
    for r in regions:
        e = r["extents_cm"]
        rows.append(
            [
                str(r["label"]),
                r["name"],
                _f(e["lr"]),
                _f(e["ap"]),
                _f(e["cc"]),
                " x ".join(_f(v) for v in r["obb_cm"]),
                _f(r["max_diameter_cm"]),
                _f(r["long_axis_cm"]),
                _f(r["short_axis_cm"]),
                _f(r["volume_ml"], 1),
                "(" + ", ".join(_f(v, 1) for v in r["centroid_lps"]) + ")",
            ]
        )
    out.append("\n" + _align(rows, right={0, 2, 3, 4, 6, 7, 8, 9}))

    if data["ct"] is not None:
        hrows = [
            ["label", "name", "n", "mean", "std", "min", "p5", "p25", "median", "p75", "p95", "max"]
        ]
        for r in regions:
            h = r["hu"]
            hrows.append(
                [str(r["label"]), r["name"], str(h["n_voxels"])]
                + [
                    _f(h[k], 1)
                    for k in ("mean", "std", "min", "p5", "p25", "median", "p75", "p95", "max")
                ]
            )
        out.append(f"\nHU in {data['ct']}\n" + _align(hrows, right={0, *range(2, 12)}))

    if data["case"] is not None:
        out.append(
            f"\nReported figures of {data['case']} (tolerance: the larger of one voxel "
            f"and {100 * _tolerance(regions):.0f}%)\n"
        )
        crows = [
            [
                "label",
                "name",
                "finding",
                "match",
                "axis",
                "measured cm",
                "reported cm",
                "diff cm",
                "tol cm",
                "",
            ]
        ]
        any_cmp = False
        for r in regions:
            c = r["comparison"]
            if c is None:
                continue
            any_cmp = True
            for kind, items, ok in (
                (
                    "by axis" + (" (assumed)" if c["axes_assumed"] else ""),
                    c["by_axis"],
                    c["passed_by_axis"],
                ),
                ("order-free", c["order_free"], c["passed_order_free"]),
            ):
                for n, a in enumerate(items):
                    axis = (
                        a["measured_axis"]
                        if a["measured_axis"] == a["reported_axis"]
                        else (f"{a['measured_axis']}~{a['reported_axis']}")
                    )
                    crows.append(
                        [
                            str(r["label"]) if n == 0 else "",
                            r["name"] if n == 0 else "",
                            c["finding"] if n == 0 else "",
                            kind if n == 0 else "",
                            axis,
                            _f(a["measured_cm"]),
                            _f(a["reported_cm"]),
                            f"{a['difference_cm']:+.2f}",
                            _f(a["tolerance_cm"]),
                            "pass" if a["passed"] else "FAIL",
                        ]
                    )
                crows.append(["", "", "", "", "", "", "", "", "", "=> PASS" if ok else "=> FAIL"])
        if any_cmp:
            out.append(_align(crows, right={5, 6, 7, 8}))
        else:
            out.append("no region matches a finding with reported figures\n")
    return "".join(out)


def _tolerance(regions: list[dict[str, Any]]) -> float:
    for r in regions:
        if r["comparison"] is not None:
            return float(r["comparison"]["tolerance_rel"])
    return _default_tolerance()
