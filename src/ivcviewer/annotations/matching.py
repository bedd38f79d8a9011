"""Which case-file finding a measured region is compared with."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Protocol

from .casefile import CaseFile, Finding

#: The name a label gets when its table has none (``label_<value>``).
DEFAULT_LABEL_NAME = re.compile(r"^label_(\d+)$")


class NamedRegion(Protocol):
    """A region with a label value and a name (for example ``measure.RegionMeasurements``)."""

    @property
    def label(self) -> int: ...  # noqa: D102

    @property
    def name(self) -> str: ...  # noqa: D102


def match_findings(
    regions: Sequence[NamedRegion],
    case: CaseFile,
    label_findings: Mapping[int, str] | None = None,
) -> dict[int, Finding]:
    """The finding each region is compared with, keyed by label value.

    ``label_findings`` (value -> finding id, for example from an overlay layer, or chosen by the
    user) comes first; then a region matches the finding whose id or name is the region's name
    (case-insensitive); a region with a default name ``label_<v>`` matches the finding the case
    file gives label value ``v``. Findings that report no figures are not matched.
    """
    by_name: dict[str, Finding] = {}
    for f in case.region_findings:
        by_name.setdefault(f.id.lower(), f)
        by_name.setdefault(f.name.lower(), f)
    by_value = {v: case.finding(fid) for fid, v in case.label_values().items()}
    explicit = dict(label_findings or {})
    out: dict[int, Finding] = {}
    for r in regions:
        finding: Finding | None = None
        if r.label in explicit:
            finding = by_name.get(str(explicit[r.label]).lower())
        if finding is None:
            finding = by_name.get(r.name.lower())
        if finding is None and DEFAULT_LABEL_NAME.match(r.name):
            finding = by_value.get(r.label)
        if finding is not None and finding.measurements:
            out[r.label] = finding
    return out
