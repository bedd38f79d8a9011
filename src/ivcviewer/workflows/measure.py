"""Measure the regions of a label map, and set them beside a case's reported figures.

:func:`measure_labelmap` is the ``measure`` command's work (files in, the documented JSON data
out, ``docs/measurement.md``); :func:`measure_volume` and :func:`compare_with_case` are the same
steps on objects already in memory (the measurement table in napari).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import geometry, measure
from ..annotations import CaseFile, Finding, load_case
from ..annotations.matching import match_findings
from ..errors import IvcviewerError, MeasurementError
from ..io import load_labels
from ..measure import AxisComparison, ExtentComparison, RegionMeasurements
from ..report import ValidationMode
from ..volume import Volume
from .ct import open_ct

#: Version of the ``--json`` layout; bumped only for changes that break readers.
JSON_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class CaseComparison:
    """A region set beside the finding it is compared with."""

    finding: Finding
    comparison: ExtentComparison


def compare_with_case(
    regions: Sequence[RegionMeasurements],
    case: CaseFile,
    tolerance_rel: float = measure.DEFAULT_TOLERANCE_REL,
    label_findings: Mapping[int, str] | None = None,
) -> dict[int, CaseComparison]:
    """The comparison of every region whose finding reports extents, keyed by label value.

    A region matches the finding ``label_findings`` gives it (value -> finding id, as a fitted
    overlay records), else the finding whose id or name is the region's name
    (case-insensitive), else, for a default name ``label_<v>``, the finding the case file gives
    value ``v`` (:func:`ivcviewer.annotations.matching.match_findings`).
    """
    matched = match_findings(regions, case, label_findings)
    out: dict[int, CaseComparison] = {}
    for r in regions:
        finding = matched.get(r.label)
        if finding is None:
            continue
        cmp = measure.compare_extents(
            r.extents_mm, finding.reported_extents_mm(), r.voxel_extent_mm, tolerance_rel
        )
        out[r.label] = CaseComparison(finding, cmp)
    return out


def measure_volume(
    labels: Volume, names: Mapping[int, str], ct: Volume | None = None
) -> list[RegionMeasurements]:
    """Every region of a label map measured (HU statistics when ``ct`` is given)."""
    return measure.measure_labels(labels, {int(v): str(n) for v, n in names.items()}, ct)


@dataclass(frozen=True)
class MeasureReport:
    """What :func:`measure_labelmap` measured, as the documented JSON data."""

    data: dict[str, Any]
    regions: tuple[RegionMeasurements, ...]
    warnings: tuple[str, ...] = ()


def measure_labelmap(
    labelmap: str | Path,
    *,
    names: str | Path | None = None,
    ct: str | Path | None = None,
    series: str | None = None,
    on_irregular: ValidationMode = ValidationMode.RAISE,
    case: str | Path | None = None,
    tolerance_rel: float = measure.DEFAULT_TOLERANCE_REL,
) -> MeasureReport:
    """Measure every region of the label map file ``labelmap`` (the ``measure`` command).

    Raises
    ------
    IvcviewerError
        ``series`` without ``ct``; any error reading the files; a CT on another grid.
    """
    if series and not ct:
        raise IvcviewerError(
            "--series needs --ct (it chooses a series of that DICOM folder); remove it or give "
            "--ct CT_PATH."
        )
    labels, table = load_labels(labelmap, names)
    ct_vol = None
    if ct:
        ct_vol = open_ct(ct, series=series, on_irregular=on_irregular, option="--ct")
        measure.check_same_grid(labels, ct_vol, names=(f"label map {labelmap}", f"CT {ct}"))
        _check_finite_hu(labels, ct_vol, f"--ct {ct}")
    regions = measure_volume(labels, table.names, ct_vol)
    notes = () if regions else (f"{labelmap} holds no label (every voxel is 0)",)
    comparisons: dict[int, CaseComparison] = {}
    if case:
        comparisons = compare_with_case(regions, load_case(case), tolerance_rel)
    data = {
        "schema_version": JSON_SCHEMA_VERSION,
        "labelmap": str(labelmap),
        "ct": None if ct_vol is None else str(ct),
        "case": None if not case else str(case),
        "grid": {
            "shape": list(labels.shape),
            "spacing_mm": [_num(v) for v in labels.spacing],
            "axis_codes": "".join(geometry.axis_codes(labels.affine)),
        },
        "regions": [region_entry(r, _entry(comparisons.get(r.label))) for r in regions],
    }
    return MeasureReport(data, tuple(regions), notes)


def _check_finite_hu(labels: Volume, ct: Volume, shown: str) -> None:
    """Refuse a CT whose values inside the labelled regions are not all finite.

    Raises
    ------
    MeasurementError
        Naming ``shown`` (the CT as the user gave it) and how many voxels are NaN or infinite.
    """
    if ct.array.dtype.kind != "f":
        return
    inside = ct.array[labels.array > 0]
    bad = int(inside.size - np.count_nonzero(np.isfinite(inside)))
    if bad:
        raise MeasurementError(
            f"{shown}: HU values must be finite, but {bad} voxel{'s' * (bad > 1)} inside the "
            "labelled regions are NaN or infinite. Fix: check the CT's scaling (DICOM "
            "RescaleSlope and RescaleIntercept, NIfTI scl_slope and scl_inter) and export it "
            "again with finite values."
        )


def warn_all(report: MeasureReport) -> None:
    """Issue the report's notes as warnings (the command line prints them on stderr)."""
    for w in report.warnings:
        warnings.warn(w, stacklevel=2)


def _entry(c: CaseComparison | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return comparison_entry(c.comparison, c.finding.id, c.finding.extents_assumed())


# JSON form -----------------------------------------------------------------------------------


def _num(x: Any, ndigits: int = 6) -> float:
    """A JSON number rounded to ``ndigits`` decimals, without negative zero."""
    return float(round(float(x), ndigits)) + 0.0


def _cm(mm: float) -> float:
    return _num(mm / 10.0)


def _axis_entry(c: AxisComparison) -> dict[str, Any]:
    return {
        "measured_axis": c.measured_axis,
        "reported_axis": c.reported_axis,
        "measured_cm": _cm(c.measured_mm),
        "reported_cm": _cm(c.reported_mm),
        "difference_cm": _cm(c.difference_mm),
        "relative_difference": _num(c.relative_difference),
        "tolerance_cm": _cm(c.tolerance_mm),
        "passed": c.passed,
    }


def comparison_entry(cmp: ExtentComparison, finding_id: str, assumed: bool) -> dict[str, Any]:
    """The ``comparison`` object of a region (lengths in cm)."""
    return {
        "finding": finding_id,
        "axes_assumed": assumed,
        "tolerance_rel": _num(cmp.tolerance_rel),
        "passed_by_axis": cmp.passed_by_axis,
        "passed_order_free": cmp.passed_order_free,
        "by_axis": [_axis_entry(c) for c in cmp.by_axis],
        "order_free": [_axis_entry(c) for c in cmp.order_free],
    }


def _hu_entry(hu: dict[str, Any]) -> dict[str, Any]:
    return {k: (int(v) if k == "n_voxels" else _num(v)) for k, v in hu.items()}


def region_entry(r: RegionMeasurements, comparison: dict[str, Any] | None) -> dict[str, Any]:
    """The JSON object of one region (lengths in cm, volume in mL, positions in LPS mm)."""
    rec = r.recist
    return {
        "label": r.label,
        "name": r.name,
        "n_voxels": r.n_voxels,
        "extents_cm": {ax: _cm(v) for ax, v in r.extents_mm.items()},
        "voxel_cm": {ax: _cm(v) for ax, v in r.voxel_extent_mm.items()},
        "obb_cm": [_cm(v) for v in r.obb.sizes_mm],
        "obb_axes_lps": [[_num(v) for v in a] for a in r.obb.axes_lps],
        "max_diameter_cm": _cm(r.max_diameter.length_mm),
        "long_axis_cm": _cm(rec.long_mm),
        "short_axis_cm": _cm(rec.short_mm),
        "recist": {
            "section_axis": rec.section_axis,
            "section_index": rec.section_index,
            "long_axis_lps": [
                [_num(v) for v in rec.long_axis.start_lps],
                [_num(v) for v in rec.long_axis.end_lps],
            ],
            "short_axis_lps": [
                [_num(v) for v in rec.short_axis.start_lps],
                [_num(v) for v in rec.short_axis.end_lps],
            ],
        },
        "volume_ml": _num(r.volume_ml),
        "centroid_lps": [_num(v) for v in r.centroid_lps],
        "hu": None if r.hu is None else _hu_entry(r.hu.to_dict()),
        "comparison": comparison,
    }
