"""The layers the Case overlay widget adds, as layer data tuples (built by :mod:`..layers`).

Each layer carries a :class:`~ivcviewer.widget_models.CaseLayerInfo` in its metadata (the case
file, the case id, label value -> finding id, which layer it is), so the other widgets know the
case a layer shows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ....annotations import CaseFile, Landmarks
from ....annotations import vocabulary as voc
from ....annotations.overlay import OverlayResult
from ....volume import Volume
from ....widget_models import (
    CaseLayerInfo,
    GuideStep,
    OverlayLayerKind,
    landmark_colour,
    landmark_display_name,
)
from ...layers import (
    LayerDataTuple,
    label_surfaces_layer_data,
    labels_layer_data,
    landmark_points_layer_data,
)

#: Names of the layers the widget adds.
FINDINGS_LAYER = "Case findings"
LANDMARKS_LAYER = "Case landmarks"
CLICKED_LAYER = "Clicked landmarks"

#: Name of the surface layer of a finding (formatted with its ``name``).
SURFACE_LAYER = "Case surface: {name}"

#: Opacity of the findings layer.
FINDINGS_OPACITY = 0.5


def _info(result: OverlayResult, kind: OverlayLayerKind) -> dict[str, Any]:
    return CaseLayerInfo.of_result(result, kind).to_metadata()


def findings_layer_data(result: OverlayResult) -> LayerDataTuple:
    """The ``Case findings`` Labels layer tuple: named, coloured regions on the CT's grid."""
    table = {r.value: {"name": r.name, "color": r.rgba} for r in result.regions}
    data, kwargs, kind = labels_layer_data(
        result.labels, table, name=FINDINGS_LAYER, opacity=FINDINGS_OPACITY
    )
    kwargs["metadata"].update(_info(result, OverlayLayerKind.FINDINGS))
    return data, kwargs, kind


def findings_surfaces_layer_data(result: OverlayResult) -> list[LayerDataTuple]:
    """One smooth Surface layer tuple per drawn finding, in its colour (for 3D views)."""
    table = {r.value: {"name": r.name, "color": r.rgba} for r in result.regions}
    tuples = label_surfaces_layer_data(
        result.labels,
        table,
        name_format=SURFACE_LAYER,
        metadata=_info(result, OverlayLayerKind.SURFACE),
    )
    ids = {r.value: r.finding_id for r in result.regions}
    for _, kwargs, _ in tuples:
        kwargs["metadata"]["finding_id"] = ids[kwargs["metadata"]["label_value"]]
    return tuples


def landmarks_layer_data(result: OverlayResult, ct: Volume) -> LayerDataTuple:
    """The ``Case landmarks`` Points layer tuple: the landmarks used, named, on the CT's grid."""
    pts = [p for p in result.points if p.finding_id is None]
    return landmark_points_layer_data(
        [p.position_lps for p in pts],
        {
            "name": [p.name for p in pts],
            "landmark": [p.landmark for p in pts],
            "truncated": [p.truncated for p in pts],
        },
        reference=ct,
        colors=[p.colour for p in pts],
        name=LANDMARKS_LAYER,
        text_color="yellow",
        metadata=_info(result, OverlayLayerKind.LANDMARKS),
    )


def _landmark_columns(
    landmarks: Landmarks | None,
) -> tuple[list[str], list[Any], list[float]]:
    """Landmark ids, LPS points and radii (NaN for point landmarks), centreline last."""
    ids: list[str] = []
    pts: list[Any] = []
    radii: list[float] = []
    if landmarks is None:
        return ids, pts, radii
    for n in voc.POINT_LANDMARKS:
        if n in landmarks.points_lps:
            ids.append(n)
            pts.append(landmarks.points_lps[n])
            radii.append(math.nan)
    if landmarks.centreline_lps is not None and landmarks.centreline_radius_mm is not None:
        for p, r in zip(landmarks.centreline_lps, landmarks.centreline_radius_mm, strict=True):
            ids.append("ivc_centreline")
            pts.append(p)
            radii.append(float(r))
    return ids, pts, radii


def clicked_layer_data(
    landmarks: Landmarks | None,
    case: CaseFile,
    ct: Volume | None,
    first: GuideStep | None,
    radius_mm: float,
) -> LayerDataTuple:
    """The ``Clicked landmarks`` Points layer tuple (empty, or holding a landmark set)."""
    ids, pts, radii = _landmark_columns(landmarks)
    defaults = {
        "landmark": first.id if first else "",
        "name": first.name if first else "",
        "radius_mm": radius_mm if first and first.several else math.nan,
    }
    info = CaseLayerInfo(OverlayLayerKind.CLICKED, str(case.path), case.case.id)
    return landmark_points_layer_data(
        np.asarray(pts, dtype=float).reshape(-1, 3),
        {
            "landmark": np.asarray(ids, dtype=object),
            "name": np.asarray([landmark_display_name(case, n) for n in ids], dtype=object),
            "radius_mm": np.asarray(radii, dtype=float),
        },
        reference=ct,
        colors=[landmark_colour(case, n) for n in ids],
        name=CLICKED_LAYER,
        size_mm=6.0,
        text_color="cyan",
        feature_defaults=defaults,
        metadata=info.to_metadata(),
    )
