"""Stage 7 of :func:`~.pipeline.fit_case`: the IVC involvement level of the drawn tumour.

Read (:func:`ivcviewer.annotations.levels.ivc_involvement`) from the z span of the drawn
finding inside the IVC that reaches highest, with notes when the drawn part is shorter than
the fitted tumour or its upper end lies beyond the field of view (a lower bound).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ... import measure as msr
from ...errors import AnatomyError
from ...geometry import Grid
from ..anatomy import Landmarks
from ..fit import TubeFit
from ..levels import SEGMENT_TOLERANCE_MM, InvolvementLevel, ivc_involvement
from .landmark_points import outside_grid
from .results import FindingResult


def ivc_level(
    findings: tuple[FindingResult, ...],
    landmarks: Landmarks,
    grid: Grid,
) -> tuple[InvolvementLevel | None, str | None, str]:
    """The IVC level of the drawn finding inside the IVC that reaches highest.

    Returns the level (None when nothing of such a finding is drawn), the finding's id (None
    without such a finding) and, when the level is not computed, why.
    """
    tubes = [
        r
        for r in findings
        if isinstance(r.fit, TubeFit) and r.finding.relations.vessel == "inferior_vena_cava"
    ]
    if not tubes:
        return None, None, ""
    drawn = [r for r in tubes if r.z_span_lps is not None and r.n_voxels > 0]
    if not drawn:
        reasons = sorted({c.reason for r in tubes for c in r.clipping})
        why = f" (clipping: {', '.join(reasons)})" if reasons else ""
        return (
            None,
            tubes[0].id,
            f"IVC involvement not computed: nothing of {', '.join(r.id for r in tubes)} is "
            f"drawn on this CT{why}; the level is read from the drawn region only.",
        )
    top = max(drawn, key=lambda r: r.z_span_lps[1] if r.z_span_lps else -math.inf)
    tf = top.fit
    if not isinstance(tf, TubeFit) or top.z_span_lps is None:  # pragma: no cover
        raise AnatomyError("internal: the IVC finding has no tube")
    z0, z1 = top.z_span_lps
    step = float(msr.patient_axis_voxel_mm(grid.affine)["cc"])
    # the drawn voxel centres may end up to half a slice beyond the tumour's true ends
    lv = ivc_involvement(z0, z1, landmarks, tolerance_mm=SEGMENT_TOLERANCE_MM + step / 2)
    notes = list(lv.notes)
    lower_bound = lv.lower_bound
    if tf.z_to_mm - z1 > step + 1e-6 or z0 - tf.z_from_mm > step + 1e-6:
        reasons = sorted({c.reason for c in top.clipping})
        notes.append(
            f"The fitted tumour runs from z = {tf.z_from_mm:.1f} to {tf.z_to_mm:.1f} mm; on this "
            f"CT it is drawn from {z0:.1f} to {z1:.1f} mm"
            + (f" (clipping: {', '.join(reasons)})" if reasons else "")
            + ", and the level is read from the drawn part."
        )
    ends = tf.model.points_lps
    upper = ends[int(np.argmax(ends[:, 2]))]
    if bool(outside_grid(upper, grid.shape, grid.affine)[0]) and z1 < tf.z_to_mm - 1e-6:
        lower_bound = True
        notes.append(
            "The tumour's upper end lies beyond the CT's field of view: the level is a lower bound."
        )
    if tf.upper_end_is_bound and not lower_bound:
        notes.append(
            "The tumour's upper end was placed from a truncated landmark; with the "
            "landmark's true position it would lie higher."
        )
    return dataclasses.replace(lv, lower_bound=lower_bound, notes=notes), top.id, ""
