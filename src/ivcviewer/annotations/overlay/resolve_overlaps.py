"""Stage 4 of :func:`~.pipeline.fit_case`: each voxel claimed by one finding only.

A voxel claimed by a finding inside a vessel lumen and by a solid belongs to the lumen finding
(the lumen holds the tumour thrombus, the mass lies outside it); between two solids, or two
lumen findings, the one listed first in the case file keeps it. What a finding loses is
recorded as an ``overlap`` clipping step. :func:`paint_labels` then writes the label map.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import NDArray

from ..fit import LUMEN_KINDS
from .clip import ClippedFinding, Clipping


def _overlap_order(findings: tuple[ClippedFinding, ...]) -> list[int]:
    """Indices of the findings in the order they keep voxels: lumen findings first."""
    lumen = [i for i, r in enumerate(findings) if r.finding.kind in LUMEN_KINDS]
    return lumen + [i for i, r in enumerate(findings) if r.finding.kind not in LUMEN_KINDS]


def resolve_overlaps(
    findings: tuple[ClippedFinding, ...], affine: NDArray[np.float64]
) -> tuple[ClippedFinding, ...]:
    """The findings with their overlaps resolved (see the module docstring).

    Parameters
    ----------
    findings
        The clipped findings, in case-file order.
    affine
        The CT's affine.

    Returns
    -------
    tuple of ClippedFinding
        New findings in the same order, each region without the voxels a finding before it
        keeps, and an ``overlap`` step for each finding it gave voxels to.
    """
    resolved: dict[int, ClippedFinding] = {}
    kept: list[ClippedFinding] = []
    for i in _overlap_order(findings):
        r = findings[i]
        clipping = Clipping.start(r.region, affine)
        for earlier in kept:
            if earlier.region.box.intersect(r.region.box).empty:
                continue
            why = (
                "inside the vessel lumen"
                if earlier.finding.kind in LUMEN_KINDS and r.finding.kind not in LUMEN_KINDS
                else "listed earlier in the case file"
            )
            clipping = clipping.remove(
                "overlap",
                f"overlaps {earlier.finding.id}, which keeps these voxels ({why})",
                earlier.region.on(r.region.box),
            )
        done = dataclasses.replace(
            r, region=clipping.region, clipping=(*r.clipping, *clipping.steps)
        )
        kept.append(done)
        resolved[i] = done
    return tuple(resolved[i] for i in range(len(findings)))


def paint_labels(
    findings: tuple[ClippedFinding, ...], shape: tuple[int, int, int]
) -> NDArray[np.uint8]:
    """The label map (``uint8``, 0 background) of the findings' regions on a grid of ``shape``."""
    labels = np.zeros(shape, dtype=np.uint8)
    for r in findings:
        if r.region.n_voxels:
            labels[r.region.box.slices][r.region.mask] = r.label_value
    return labels
