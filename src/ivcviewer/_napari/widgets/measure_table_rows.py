"""The measurement table's columns, colours and rows (Qt-free).

:func:`compared_rows` sets each measured region beside its finding with
:func:`ivcviewer.workflows.compare_with_case`, the comparison the ``measure`` command makes;
the widget (:mod:`.measure_table`) lays the rows out in the columns named here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ... import measure, workflows
from ...annotations import CaseFile
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
