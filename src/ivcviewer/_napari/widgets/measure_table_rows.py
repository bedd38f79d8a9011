"""The measurement table's columns, colours and rows (Qt-free).

:func:`compared_rows` sets each measured region beside its finding with
:func:`ivcviewer.workflows.compare_with_case`, the comparison the ``measure`` command makes;
:func:`sr_cells` gives the cells of a region read back from a measurement report (DICOM SR,
:func:`ivcviewer.interop.sr_read.read_sr`): its measured figures, and the reported ones it
records in parentheses, in the same form as a measured region's. The widget
(:mod:`.measure_table`) lays the rows out in the columns named here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ... import measure, workflows
from ...annotations import CaseFile
from ...interop.sr_read import SRRegionRow
from ..measure_report import RegionRow

#: Table columns (lengths in mm).
COLUMNS: tuple[str, ...] = (
    "Kind",
    "Name",
    "Finding",
    "LR mm (reported)",
    "AP mm (reported)",
    "CC mm (reported)",
    "By axis",
    "Any order",
    "Long x short / length mm",
    "Max 3D mm",
    "Volume mL",
    "HU mean \N{PLUS-MINUS SIGN} SD",
)
COL = {name: i for i, name in enumerate(COLUMNS)}
AXIS_COLUMNS = {
    "lr": COL["LR mm (reported)"],
    "ap": COL["AP mm (reported)"],
    "cc": COL["CC mm (reported)"],
}

#: Cell colours of a passing and a failing comparison (background, text).
PASS_COLOR = "#2e7d32"
FAIL_COLOR = "#c62828"
TEXT_ON_COLOR = "#ffffff"

#: Shown in the finding picker for "do not compare this region".
NO_FINDING = "\N{EM DASH}"

#: The Kind column of a region read from a measurement report (DICOM SR).
SR_KIND = "SR region"


def compared_rows(
    regions: Sequence[measure.RegionMeasurements],
    case: CaseFile | None,
    tolerance_rel: float,
    label_findings: Mapping[int, str] | None = None,
    unmatched: Sequence[int] = (),
) -> list[RegionRow]:
    """The table's rows: each region with its finding and comparison when a case is set.

    The comparison is :func:`ivcviewer.workflows.compare_with_case` (the ``measure`` command's);
    regions in ``unmatched`` (the user chose "no finding") are not compared.
    """
    if case is None:
        return [RegionRow(r) for r in regions]
    skip = set(unmatched)
    compared = workflows.compare_with_case(
        [r for r in regions if r.label not in skip], case, tolerance_rel, label_findings
    )
    rows = []
    for r in regions:
        c = compared.get(r.label)
        rows.append(RegionRow(r) if c is None else RegionRow(r, c.finding, c.comparison))
    return rows


def mm_text(v: float) -> str:
    """A length in mm as the table shows it (one decimal)."""
    return f"{v:.1f}"


def sr_cells(row: SRRegionRow, source: str = "") -> dict[str, tuple[str, str]]:
    """Column -> (text, tooltip) of a region read from a measurement report.

    The extents show the measured figure, then the reported one in parentheses when the report
    records one (as a compared region shows them); ``source`` (the file) goes in the tooltips.

    >>> from ivcviewer.interop.sr_read import SRRegionRow
    >>> r = SRRegionRow(1, "mass", "", "", "Neoplasm", "Retroperitoneum", 12.5,
    ...                 {"lr": 30.0, "ap": 20.0, "cc": 10.0}, 31.0, 19.0, 33.2,
    ...                 hu_mean=40.0, hu_std=5.0, reported_mm={"lr": 31.0}, finding_id="f1")
    >>> cells = sr_cells(r)
    >>> cells["LR mm (reported)"][0], cells["AP mm (reported)"][0], cells["Finding"][0]
    ('30.0 (31.0)', '20.0', 'f1')
    """
    where = f" (from {source})" if source else ""
    assumed = " (axis assumed by the case file)" if row.axes_assumed else ""
    cells: dict[str, tuple[str, str]] = {
        "Kind": (SR_KIND, f"read from a measurement report{where}"),
        "Name": (f"{row.label}: {row.name}", f"tracking UID {row.tracking_uid}"),
        "Finding": (
            row.finding_id or row.finding,
            f"{row.finding} at {row.finding_site}" if row.finding_site else row.finding,
        ),
    }
    for ax, c in AXIS_COLUMNS.items():
        measured = row.extents_mm[ax]
        reported = row.reported_mm.get(ax)
        if reported is None:
            cells[COLUMNS[c]] = (mm_text(measured), f"measured {measured:.2f} mm")
        else:
            cells[COLUMNS[c]] = (
                f"{mm_text(measured)} ({mm_text(reported)})",
                f"measured {measured:.2f} mm, reported {reported:.2f} mm{assumed}",
            )
    cells["Long x short / length mm"] = (
        f"{mm_text(row.long_axis_mm)} x {mm_text(row.short_axis_mm)}",
        "RECIST long and short axes",
    )
    cells["Max 3D mm"] = (mm_text(row.max_diameter_mm), "maximum 3D diameter")
    cells["Volume mL"] = (f"{row.volume_ml:.2f}", f"segment {row.label} of {row.segmentation_uid}")
    if row.hu_mean is not None and row.hu_std is not None:
        cells["HU mean \N{PLUS-MINUS SIGN} SD"] = (
            f"{row.hu_mean:.1f} \N{PLUS-MINUS SIGN} {row.hu_std:.1f}",
            "mean and SD of the CT in the region",
        )
    return cells
