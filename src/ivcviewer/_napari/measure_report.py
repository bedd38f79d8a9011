"""What the measurement table shows and exports: region rows, manual measurements, CSV, JSON.

Qt-free and napari-free: it works on core objects (:class:`ivcviewer.measure.RegionMeasurements`,
:class:`ivcviewer.annotations.CaseFile`) and on
:class:`~ivcviewer.measure.tools.ManualMeasurement` records (re-exported here, with the tool
kinds :data:`RULER` and :data:`BIDIRECTIONAL`) that :mod:`ivcviewer._napari.measure_tools`
reads from the ruler and bidirectional layers. The widget
(:mod:`ivcviewer._napari.widgets.measure_table`) only lays these rows out.

Units: lengths in mm, volumes in mL, positions in LPS mm (the project's conventions); the
exported JSON uses the core's ``to_dict`` forms.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import measure
from ..annotations import CaseFile, Finding
from ..interop.sr_read import SRRegionRow
from ..io.formats import write_text_atomic
from ..measure import ExtentComparison, RegionMeasurements
from ..measure.tools import BIDIRECTIONAL, RULER, ManualMeasurement, axes_angle_deg

#: Version of the exported JSON layout.
EXPORT_SCHEMA_VERSION = 1

#: Columns of the CSV export, in order (one row per region or manual measurement).
CSV_COLUMNS: tuple[str, ...] = (
    "kind",
    "name",
    "label",
    "layer",
    "finding",
    "lr_mm",
    "ap_mm",
    "cc_mm",
    "reported_lr_mm",
    "reported_ap_mm",
    "reported_cc_mm",
    "difference_lr_mm",
    "difference_ap_mm",
    "difference_cc_mm",
    "passed_by_axis",
    "passed_order_free",
    "length_mm",
    "long_axis_mm",
    "short_axis_mm",
    "angle_deg",
    "max_diameter_mm",
    "obb_mm",
    "volume_ml",
    "hu_mean",
    "hu_std",
    "start_lps",
    "end_lps",
)


@dataclass(frozen=True)
class RegionRow:
    """One region of a label map with its finding and comparison (when a case file is set)."""

    region: RegionMeasurements
    finding: Finding | None = None
    comparison: ExtentComparison | None = None

    @property
    def reported_mm(self) -> dict[str, float]:
        """The finding's reported extents (empty without a finding)."""
        if self.finding is None or not self.finding.measurements:
            return {}
        return self.finding.reported_extents_mm()

    def axis_comparison(self, axis: str) -> measure.AxisComparison | None:
        """The axis-by-axis comparison of one patient axis, if that axis is reported."""
        if self.comparison is None:
            return None
        for c in self.comparison.by_axis:
            if c.measured_axis == axis:
                return c
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON form: the core's region dict plus ``finding``, ``reported_mm``, ``comparison``."""
        out = self.region.to_dict()
        out["finding"] = None if self.finding is None else self.finding.id
        out["axes_assumed"] = None if self.finding is None else self.finding.extents_assumed()
        out["reported_mm"] = self.reported_mm or None
        out["comparison"] = None if self.comparison is None else self.comparison.to_dict()
        return out


# ---------------------------------------------------------------------------------------------
# Findings and comparisons
# ---------------------------------------------------------------------------------------------


def findings_with_figures(case: CaseFile) -> list[Finding]:
    """Region findings of a case file that report extents, in file order."""
    return [f for f in case.region_findings if f.measurements]


@dataclass
class MeasurementReport:
    """Everything the table shows, ready to export.

    Attributes
    ----------
    regions
        Region rows (may be empty: no label layer chosen).
    manual
        Ruler and bidirectional measurements.
    labels_layer, ct_layer
        Names of the layers measured (empty when none).
    case_path
        The case file compared with, or empty.
    tolerance_rel
        The comparison's relative tolerance.
    notes
        What the user should know (for example "CT on another grid: no HU").
    sr_rows, sr_path
        Regions read from a measurement report (DICOM SR) and its file (empty when none).
    """

    regions: list[RegionRow] = field(default_factory=list)
    manual: list[ManualMeasurement] = field(default_factory=list)
    labels_layer: str = ""
    ct_layer: str = ""
    case_path: str = ""
    tolerance_rel: float = measure.DEFAULT_TOLERANCE_REL
    notes: list[str] = field(default_factory=list)
    sr_rows: list[SRRegionRow] = field(default_factory=list)
    sr_path: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON form (schema :data:`EXPORT_SCHEMA_VERSION`; mm, mL, LPS mm)."""
        return {
            "schema_version": EXPORT_SCHEMA_VERSION,
            "units": {"length": "mm", "volume": "mL", "position": "LPS mm", "hu": "HU"},
            "labels_layer": self.labels_layer or None,
            "ct_layer": self.ct_layer or None,
            "case": self.case_path or None,
            "tolerance_rel": self.tolerance_rel,
            "notes": list(self.notes),
            "regions": [r.to_dict() for r in self.regions],
            "rulers": [m.to_dict() for m in self.manual if m.kind == RULER],
            "bidirectionals": [m.to_dict() for m in self.manual if m.kind == BIDIRECTIONAL],
            "sr_report": None
            if not self.sr_path
            else {"path": self.sr_path, "regions": [dataclasses.asdict(r) for r in self.sr_rows]},
        }

    def csv_rows(self) -> list[dict[str, str]]:
        """One dict per region and manual measurement, keyed by :data:`CSV_COLUMNS`."""
        rows = [_region_csv(r, self.labels_layer) for r in self.regions]
        rows += [_manual_csv(m) for m in self.manual]
        rows += [_sr_csv(r, self.sr_path) for r in self.sr_rows]
        return rows

    def to_csv(self) -> str:
        """The CSV text (header :data:`CSV_COLUMNS`, ``\\n`` line ends)."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.csv_rows())
        return buf.getvalue()

    def export_csv(self, path: str) -> None:
        """Write :meth:`to_csv` to ``path`` atomically (temporary file, then rename)."""
        write_text_atomic(path, self.to_csv())

    def export_json(self, path: str) -> None:
        """Write :meth:`to_dict` as indented JSON to ``path`` atomically."""
        write_text_atomic(path, json.dumps(_jsonable(self.to_dict()), indent=2) + "\n")


def _jsonable(obj: Any) -> Any:
    """Plain JSON values: numpy scalars and arrays become floats and lists; NaN becomes null."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    return obj


def _num(x: float | None, digits: int = 4) -> str:
    if x is None or not math.isfinite(float(x)):
        return ""
    return f"{float(x):.{digits}f}"


def _lps(p: Any) -> str:
    return " ".join(f"{float(v):.4f}" for v in np.asarray(p, dtype=float))


def _region_csv(row: RegionRow, layer: str) -> dict[str, str]:
    r = row.region
    out = dict.fromkeys(CSV_COLUMNS, "")
    out.update(
        kind="region",
        name=r.name,
        label=str(r.label),
        layer=layer,
        finding="" if row.finding is None else row.finding.id,
        long_axis_mm=_num(r.recist.long_mm),
        short_axis_mm=_num(r.recist.short_mm),
        max_diameter_mm=_num(r.max_diameter.length_mm),
        obb_mm=" ".join(_num(v) for v in r.obb.sizes_mm),
        volume_ml=_num(r.volume_ml),
    )
    for ax in measure.PATIENT_AXES:
        out[f"{ax}_mm"] = _num(r.extents_mm[ax])
        c = row.axis_comparison(ax)
        if c is not None:
            out[f"reported_{ax}_mm"] = _num(c.reported_mm)
            out[f"difference_{ax}_mm"] = _num(c.difference_mm)
    if row.comparison is not None:
        out["passed_by_axis"] = str(row.comparison.passed_by_axis).lower()
        out["passed_order_free"] = str(row.comparison.passed_order_free).lower()
    if r.hu is not None:
        out["hu_mean"] = _num(r.hu.mean, 2)
        out["hu_std"] = _num(r.hu.std, 2)
    return out


def _sr_csv(row: SRRegionRow, path: str) -> dict[str, str]:
    out = dict.fromkeys(CSV_COLUMNS, "")
    out.update(
        kind="sr_region",
        name=row.name,
        label=str(row.label),
        layer=path,
        finding=row.finding_id or row.finding,
        long_axis_mm=_num(row.long_axis_mm),
        short_axis_mm=_num(row.short_axis_mm),
        max_diameter_mm=_num(row.max_diameter_mm),
        volume_ml=_num(row.volume_ml),
        hu_mean=_num(row.hu_mean, 2),
        hu_std=_num(row.hu_std, 2),
    )
    for ax in measure.PATIENT_AXES:
        out[f"{ax}_mm"] = _num(row.extents_mm[ax])
        out[f"reported_{ax}_mm"] = _num(row.reported_mm.get(ax))
    return out


def _manual_csv(m: ManualMeasurement) -> dict[str, str]:
    out = dict.fromkeys(CSV_COLUMNS, "")
    out.update(kind=m.kind, name=m.name, layer=m.layer)
    if m.kind == BIDIRECTIONAL:
        out.update(
            long_axis_mm=_num(m.length_mm),
            short_axis_mm=_num(m.short_mm),
            angle_deg=_num(m.angle_deg, 2),
        )
    else:
        out["length_mm"] = _num(m.length_mm)
        for ax, v in m.delta_mm().items():
            out[f"{ax}_mm"] = _num(v)
    out["start_lps"] = _lps(m.start_lps)
    out["end_lps"] = _lps(m.end_lps)
    return out


__all__ = [
    "BIDIRECTIONAL",
    "CSV_COLUMNS",
    "EXPORT_SCHEMA_VERSION",
    "RULER",
    "ManualMeasurement",
    "MeasurementReport",
    "RegionRow",
    "axes_angle_deg",
    "findings_with_figures",
]
