"""``ivcviewer info PATH [--json]``: the series a path holds, from headers only.

The ``--json`` form is a documented contract (``docs/cli.md``): a top-level object with
``path``, ``series`` (one object per series) and ``skipped`` (files not used, with the
reason). DICOM input is scanned header-only (no pixel data is read); a volume file gives one
series entry with ``series_uid`` ``""``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._json import dumps
from ..errors import NoSeriesFoundError
from ..io.formats import ACCEPTED, path_kind
from ..io.series_choice import series_selector, stack_number
from ..report import GeometryReport
from .options import PATH_HELP

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from ..io.header import VolumeHeader

#: Version of the ``--json`` layout; bumped only for changes that break readers.
JSON_SCHEMA_VERSION = 1


def add_parser(subparsers: Any) -> None:
    """Register the ``info`` subcommand."""
    p = subparsers.add_parser(
        "info",
        help="list the series a DICOM folder, DICOM file or volume file holds",
        description=(
            "List the image series at PATH (a DICOM folder, DICOMDIR, DICOM file, or a "
            ".nii/.nii.gz/.nrrd/.nhdr/.mha/.mhd file) with their geometry and the loader's "
            "report. Reads headers only."
        ),
    )
    p.add_argument("path", metavar="PATH", help=PATH_HELP)
    p.add_argument(
        "--json",
        action="store_true",
        help="print the documented JSON form (see docs/cli.md) instead of a table",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the series found at ``args.path``; returns the exit status."""
    data = describe_path(args.path)
    if args.json:
        sys.stdout.write(dumps(data) + "\n")
    else:
        sys.stdout.write(format_table(data))
    return 0


# JSON form -------------------------------------------------------------------------------


def _num(x: Any) -> float:
    """A JSON number: rounded to 1e-6 (mm or direction cosine), no negative zero."""
    return float(round(float(x), 6)) + 0.0


def _affine_list(affine: ArrayLike) -> list[list[float]]:
    import numpy as np

    return [[_num(v) for v in row] for row in np.asarray(affine, dtype=float)]


def _report_list(report: Any) -> list[dict[str, str]]:
    if report is None:
        return []
    if isinstance(report, GeometryReport):
        return report.to_list()
    return [item.to_dict() for item in report]


def _window(window: Any) -> list[float]:
    from ..volume import ABDOMEN_WINDOW

    w = window if window is not None else ABDOMEN_WINDOW
    return [_num(w[0]), _num(w[1])]


def series_entry(
    *,
    series_uid: str,
    modality: str,
    description: str,
    n_images: int,
    shape: Any,
    affine: Any,
    report: Any,
    window: Any,
    source_format: str,
    spacing_mm: Any = None,
    stack_label: str = "",
    transfer_syntax: str | None = None,
) -> dict[str, Any]:
    """One ``series`` object of the ``--json`` form (see ``docs/cli.md``)."""
    from .. import geometry

    spacing = spacing_mm
    if spacing is None and affine is not None:
        spacing = geometry.spacing_from_affine(affine)
    return {
        "series_uid": str(series_uid or ""),
        "modality": str(modality or ""),
        "description": str(description or ""),
        "n_images": int(n_images),
        "shape": [int(n) for n in shape] if shape is not None else None,
        "spacing_mm": [_num(v) for v in spacing] if spacing is not None else None,
        "affine_lps": _affine_list(affine) if affine is not None else None,
        "report": _report_list(report),
        "window": _window(window),
        "format": source_format,
        "stack_label": str(stack_label or ""),
        "transfer_syntax": transfer_syntax,
    }


def read_volume_header(path: Path) -> VolumeHeader:
    """:func:`ivcviewer.io.read_volume_header` (imported when a volume file is described)."""
    from ..io.volumes import read_volume_header as read

    return read(path)


def _describe_volume_file(path: Path) -> dict[str, Any]:
    from ..io.volumes import find_label_sidecar

    header = read_volume_header(path)
    modality = "SEG" if find_label_sidecar(path) is not None else "CT"
    entry = series_entry(
        series_uid="",
        modality=modality,
        description=header.description or path.name,
        n_images=header.shape[0],
        shape=header.shape,
        affine=header.affine,
        report=header.report,
        window=None,
        source_format=header.format,
    )
    return {"path": str(path), "series": [entry], "skipped": []}


def _transfer_syntax(info: Any) -> str | None:
    try:
        return str(info.pixel_format.transfer_syntax)
    except (AttributeError, IndexError):
        return None


def _describe_dicom(path: Path) -> dict[str, Any]:
    # Imported here: volume files never need the DICOM package.
    from ..dicom import scan

    result = scan(path)
    series = [
        series_entry(
            series_uid=s.series_uid,
            modality=s.modality,
            description=s.description,
            n_images=s.n_images,
            shape=s.shape,
            affine=s.affine,
            report=s.report,
            window=s.window,
            source_format="dicom",
            spacing_mm=s.spacing_mm,
            stack_label=getattr(s, "stack_label", ""),
            transfer_syntax=_transfer_syntax(s),
        )
        for s in result.series
    ]
    skipped = [
        {"path": str(f.path), "code": str(f.code), "reason": str(f.reason)} for f in result.skipped
    ]
    if not series:
        codes = sorted({f["code"] for f in skipped})
        raise NoSeriesFoundError(
            f"{path}: no image series found ({len(skipped)} files skipped"
            + (f": {', '.join(codes)}" if codes else "")
            + f"). Accepted: {ACCEPTED}."
        )
    return {"path": str(path), "series": series, "skipped": skipped}


def describe_path(path: str | Path) -> dict[str, Any]:
    """The ``--json`` object for ``path`` (header only).

    Raises
    ------
    FileNotFoundError
        When nothing exists at ``path``.
    NoSeriesFoundError
        When ``path`` is not an accepted input or holds no series.
    VolumeFormatError
        When a volume file cannot be read.
    """
    p = Path(path)
    if path_kind(p) == "volume":
        data = _describe_volume_file(p)
    else:
        data = _describe_dicom(p)
    return {"schema_version": JSON_SCHEMA_VERSION, **data}


# Table form ------------------------------------------------------------------------------


def _fmt_vec(values: Any, sep: str = " x ") -> str:
    if values is None:
        return "?"
    return sep.join(f"{float(v):.4g}" if not float(v).is_integer() else f"{int(v)}" for v in values)


def format_table(data: dict[str, Any]) -> str:
    """The human-readable form of :func:`describe_path`'s result."""
    from .. import geometry

    lines = [f"{data['path']}: {len(data['series'])} series"]
    header = (
        "#",
        "modality",
        "images",
        "shape (s,r,c)",
        "spacing mm (s,r,c)",
        "axes",
        "description",
    )
    rows = []
    for n, s in enumerate(data["series"], start=1):
        axes = "".join(geometry.axis_codes(s["affine_lps"])) if s["affine_lps"] else "?"
        rows.append(
            (
                str(n),
                s["modality"] or "?",
                str(s["n_images"]),
                _fmt_vec(s["shape"], "x"),
                _fmt_vec(s["spacing_mm"]),
                axes,
                s["description"],
            )
        )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    for n, s in enumerate(data["series"], start=1):
        if s["series_uid"]:
            lines.append(f"series {n}: uid {s['series_uid']}")
        if s["series_uid"] and stack_number(s["stack_label"]) is not None:
            choose = series_selector(s["series_uid"], s["stack_label"])
            lines.append(f"series {n}: {s['stack_label']}; choose it with --series {choose}")
        if s["affine_lps"]:
            origin = [row[3] for row in s["affine_lps"][:3]]
            lines.append(f"series {n}: first voxel at LPS ({_fmt_vec(origin, ', ')}) mm")
        for item in s["report"]:
            lines.append(f"series {n}: {item['severity']} {item['code']}: {item['message']}")
    skipped = data["skipped"]
    if skipped:
        lines.append(f"skipped: {len(skipped)} files")
        for f in skipped[:20]:
            lines.append(f"  {f['path']}: {f['code']}: {f['reason']}")
        if len(skipped) > 20:
            lines.append(f"  ... {len(skipped) - 20} more (see --json)")
    return "\n".join(lines) + "\n"
