"""Stage 7 of :func:`~.pipeline.fit_case`: each final region's occupancy by structure.

The share of a region's voxels in each structure of the anatomy label map and in unlabelled
tissue (label 0, or a value the label map's table does not name), largest first (the
:data:`OCCUPANCY_TOP` largest structures, the rest summed as ``other structures``). With
landmarks only (no label map) the occupancy is unknown (None).

A finding that is not inside a vessel lumen and lies over a structure its relations do not name
(its origin, its vessel, the structures of its placement and rules) by more than the case
file's ``checks.organ_share_warning`` (default :data:`ORGAN_SHARE_WARNING`) of its voxels gets
a warning: a real lesion of that size displaces the organs around it, it does not overlap
them, so its measured HU there are those of the organ. Fat, skin and the body outline
(:data:`NOT_ORGANS`) are not organs.

Examples
--------
>>> from ivcviewer.annotations.rasterise import CroppedMask, GridBox
>>> box = GridBox((0, 0, 0), (1, 1, 4))
>>> region = CroppedMask(box, np.ones((1, 1, 4), bool))
>>> shares(region, np.array([[[0, 3, 3, 5]]]), {3: "liver", 5: "kidney_right"}.get)
[StructureShare(structure='liver', share=0.5, voxels=2), \
StructureShare(structure='kidney_right', share=0.25, voxels=1), \
StructureShare(structure='unlabelled', share=0.25, voxels=1)]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from ..fit import LUMEN_KINDS
from ..rasterise import CroppedMask
from ..vocabulary import DEFAULT_ORGAN_SHARE_WARNING
from .anatomy_access import AnatomyAccess
from .results import FindingResult, StructureShare

#: A structure the finding's relations do not name holding more than this share of a region
#: (not inside a vessel lumen) is warned about, unless the case file sets another share.
ORGAN_SHARE_WARNING = DEFAULT_ORGAN_SHARE_WARNING

#: How many structures the occupancy lists by name (the rest are summed).
OCCUPANCY_TOP = 8

#: Tissue that a lesion grows into rather than displaces (fat, skin, the body outline): never
#: warned about as a normal organ.
NOT_ORGANS: frozenset[str] = frozenset(
    {"body", "skin", "subcutaneous_fat", "torso_fat", "fat", "intermuscular_fat"}
)

UNLABELLED = "unlabelled"
OTHER = "other structures"


def shares(
    region: CroppedMask, values: NDArray[np.integer], name_of: Callable[[int], str | None]
) -> list[StructureShare]:
    """The region's voxels by label value (``values`` on the region's box), largest first.

    Label 0 and values without a name (``name_of`` gives None) count as unlabelled.
    """
    n = region.n_voxels
    if n == 0:
        return []
    vals, counts = np.unique(values[region.mask], return_counts=True)
    by_name: dict[str, int] = {}
    for v, c in zip(vals.tolist(), counts.tolist(), strict=True):
        name = name_of(int(v)) if v != 0 else None
        key = UNLABELLED if name is None else name
        by_name[key] = by_name.get(key, 0) + int(c)
    ranked = sorted(by_name.items(), key=lambda kv: (-kv[1], kv[0]))
    named = [kv for kv in ranked if kv[0] != UNLABELLED]
    keep = named[:OCCUPANCY_TOP]
    rest = sum(c for _, c in named[OCCUPANCY_TOP:])
    if rest:
        keep.append((OTHER, rest))
    if UNLABELLED in by_name:
        keep.append((UNLABELLED, by_name[UNLABELLED]))
    keep.sort(key=lambda kv: (-kv[1], kv[0]))
    return [StructureShare(s, c / n, c) for s, c in keep]


def _organ_warning(r: FindingResult, anatomy: AnatomyAccess, limit: float) -> list[str]:
    """The warning on structures the region covers beyond ``limit``."""
    if r.finding.kind in LUMEN_KINDS or not r.occupancy:
        return []
    named = {n for s in r.finding.relations.structures() for n in anatomy.names_for(s)}
    over = [
        o
        for o in r.occupancy
        if o.structure not in (UNLABELLED, OTHER, *NOT_ORGANS)
        and o.structure not in named
        and o.share > limit
    ]
    if not over:
        return []
    listed = ", ".join(f"{o.structure} {o.share:.0%}" for o in over)
    return [
        f"The region is drawn over normal organs ({listed} of its voxels; more than "
        f"{limit:.0%} each): a real lesion of this size would displace them, not "
        "overlap them, and values measured there are the organs' own."
    ]


def occupancy(
    findings: tuple[FindingResult, ...],
    anatomy: AnatomyAccess,
    organ_share_warning: float = ORGAN_SHARE_WARNING,
) -> tuple[FindingResult, ...]:
    """Every finding with its final region's occupancy (None without a label map) and the
    warning on normal organs it covers beyond ``organ_share_warning`` (the case file's
    ``checks.organ_share_warning``)."""
    if anatomy.labels is None:
        return findings
    out = []
    for r in findings:
        occ = tuple(shares(r.region, anatomy.values(r.region.box), anatomy.name_of))
        with_occ = dataclasses.replace(r, occupancy=occ)
        warn = _organ_warning(with_occ, anatomy, organ_share_warning)
        out.append(dataclasses.replace(with_occ, warnings=[*r.warnings, *warn]))
    return tuple(out)
