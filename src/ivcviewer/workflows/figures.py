"""Which views a figure of a fitted case shows: the plan that napari then renders.

Qt-free: the demo, ``scripts/render_figures.py`` and the Case overlay's views take their planes
from here; :mod:`ivcviewer._napari.launch` and :mod:`ivcviewer._napari.demo` draw them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..annotations import Landmarks


@dataclass(frozen=True)
class FigureView:
    """One named view of a figure set.

    Attributes
    ----------
    name
        The figure's name (part of its file name), e.g. ``axial_renal_veins``.
    view
        The named view of :func:`ivcviewer._napari.launch.set_view`: ``axial``, ``coronal``,
        ``sagittal`` or ``3d``.
    point_lps
        The point the view goes through (LPS mm).
    """

    name: str
    view: str
    point_lps: tuple[float, float, float]


def case_figure_views(landmarks: Landmarks) -> tuple[FigureView, ...]:
    """The standard views of a case fitted on a CT, from the CT's landmarks.

    ``axial_renal_veins`` goes through the renal-vein confluence; ``coronal_ivc`` through the
    confluence moved to the mean antero-posterior position of the IVC centreline between the
    renal veins and the hepatic-vein confluence (so the plane runs along the vein); ``3d`` is
    centred on the confluence.

    >>> lm = Landmarks.from_points({"renal_vein_confluence": [-20, -10, 0]},
    ...                            [[-20, 0, -50], [-20, 4, 50]], [10, 10])
    >>> [(v.name, v.point_lps[1]) for v in case_figure_views(lm)]
    [('axial_renal_veins', -10.0), ('coronal_ivc', 4.0), ('3d', -10.0)]
    """
    renal = landmarks.point("renal_vein_confluence")
    coronal = _along_ivc(landmarks, renal)
    return (
        FigureView("axial_renal_veins", "axial", _tuple(renal)),
        FigureView("coronal_ivc", "coronal", _tuple(coronal)),
        FigureView("3d", "3d", _tuple(renal)),
    )


def _along_ivc(landmarks: Landmarks, renal: NDArray[np.float64]) -> NDArray[np.float64]:
    point = np.array(renal, dtype=float)
    c = landmarks.centreline_lps
    if c is None:
        return point
    top = (
        landmarks.z("hepatic_vein_confluence")
        if landmarks.has("hepatic_vein_confluence")
        else c[-1, 2]
    )
    sel = (c[:, 2] >= renal[2]) & (c[:, 2] <= top)
    if sel.any():
        point[1] = float(c[sel, 1].mean())
    return point


def _tuple(p: NDArray[np.float64]) -> tuple[float, float, float]:
    return (float(p[0]), float(p[1]), float(p[2]))
