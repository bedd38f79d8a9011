"""The findings list of a fitted overlay: one entry per finding, with where to go to see it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .. import geometry
from ..annotations.overlay import FindingResult, OverlayResult
from ..workflows.findings_table import ALL_FINDINGS


@dataclass(frozen=True)
class FindingEntry:
    """One entry of the findings list.

    Attributes
    ----------
    key
        The finding's id, or :data:`ALL_FINDINGS` for the overview.
    title
        The text of the entry.
    colour
        The finding's colour (``#rrggbb``), None for none.
    label_value
        The finding's value in the findings label map (None: not a region).
    centre_lps
        Where to move the slices to (LPS mm; a voxel of the region), None for nowhere.
    drawn
        Whether the finding is shown on this CT.
    """

    key: str
    title: str
    colour: str | None
    label_value: int | None = None
    centre_lps: tuple[float, float, float] | None = None
    drawn: bool = True


def region_centre(r: FindingResult, grid_affine: NDArray[np.float64]) -> NDArray[np.float64]:
    """The region's voxel nearest to its centroid (LPS): a slice through it shows the region."""
    ijk = np.argwhere(r.region.mask)
    lps = geometry.apply_affine(r.region.affine(grid_affine), ijk.astype(float))
    c = r.centroid_lps if r.centroid_lps is not None else lps.mean(axis=0)
    return np.asarray(lps[int(np.argmin(np.sum((lps - c) ** 2, axis=1)))], dtype=float)


def finding_entries(result: OverlayResult) -> list[FindingEntry]:
    """The findings list: all findings first, then regions, points and the findings not drawn."""
    out = [FindingEntry(ALL_FINDINGS, "All findings (overview)", None)]
    affine = result.labels.affine
    for r in result.findings:
        centre = None
        if r.n_voxels:
            c = region_centre(r, affine)
            centre = (float(c[0]), float(c[1]), float(c[2]))
        out.append(
            FindingEntry(
                r.id, r.finding.name, r.finding.colour, r.label_value, centre, r.n_voxels > 0
            )
        )
    for p in result.points:
        if p.finding_id is not None:
            out.append(FindingEntry(p.finding_id, p.name, p.colour, None, p.position_lps))
    for f in result.case.findings:
        if not f.spatial:
            out.append(FindingEntry(f.id, f"{f.name} (not drawn)", None, None, None, False))
    return out
