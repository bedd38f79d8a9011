"""The geometry that differs between the normal phantom and the case: the mass effect.

The tumour pushes the right kidney backwards and laterally against the posterior abdominal wall
and rotates it about its long axis (hilum turned forwards and laterally), reroutes the right
renal vessels round it (:func:`displaced_renal_path`), and pushes the infrarenal IVC forwards
and flattens it (:func:`anatomy_params`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..sdf import F32
from .levels import Z_RENAL
from .shapes import Extrusion


@dataclass(frozen=True)
class KidneyGeometry:
    """A kidney: centre, semi-axes (long, width towards the hilum, thickness), axes."""

    centre: tuple[float, float, float]
    semi: tuple[float, float, float]
    long_axis: tuple[float, float, float]
    hilum_dir: tuple[float, float]

    def rotation(self) -> NDArray[np.float64]:
        """Columns: long axis, width axis (towards the hilum), thickness axis."""
        long = np.asarray(self.long_axis, float)
        long /= np.linalg.norm(long)
        w = np.array([self.hilum_dir[0], self.hilum_dir[1], 0.0])
        w -= long * (w @ long)
        w /= np.linalg.norm(w)
        t = np.cross(long, w)
        return np.stack([long, w, t], axis=1)

    def hilum(self) -> NDArray[np.float64]:
        """The hilum (entry of the renal vessels) in LPS mm."""
        r = self.rotation()
        return np.asarray(self.centre) + r[:, 1] * self.semi[1]


@dataclass(frozen=True)
class AnatomyParams:
    """The geometry that the case's mass effect changes."""

    kidney_right: KidneyGeometry
    kidney_left: KidneyGeometry
    ivc_rows: tuple[tuple[float, float, float, float, float], ...]
    ivc_infrarenal_hu: float


def anatomy_params(case: bool) -> AnatomyParams:
    """Normal geometry, or the geometry displaced by the case's mass."""
    left = KidneyGeometry((74.0, 42.0, 10.0), (55.0, 30.0, 20.0), (-0.22, 0.18, 1.0), (-0.8, -0.6))
    infra: tuple[tuple[float, float, float, float, float], ...]
    if case:
        # pushed backwards and laterally into the fat between the mass and the posterior
        # abdominal wall, flattened (3.2 cm thick), and rotated about its long axis: the mass
        # presses its medial lip backwards, so the hilum faces forwards and laterally; the
        # kidney abuts the mass without entering it (its sinus stays 10 mm away)
        right = KidneyGeometry(
            (-87.0, 62.5, -8.0), (50.0, 25.0, 16.0), (0.15, 0.12, 1.0), (-0.866, -0.5)
        )
        infra = (
            (-125.0, -10.0, 10.0, 11.0, 9.0),
            (-100.0, -13.0, 0.0, 11.5, 8.0),
            (-70.0, -13.0, -14.0, 13.0, 6.5),
            (-40.0, -12.0, -21.0, 14.0, 6.0),
            (-18.0, -13.0, -22.0, 14.0, 6.5),
            (-7.0, -19.0, -16.0, 13.0, 8.0),
        )
        hu = 95.0
    else:
        right = KidneyGeometry(
            (-74.0, 44.0, -10.0), (55.0, 30.0, 20.0), (0.22, 0.18, 1.0), (0.8, -0.6)
        )
        infra = (
            (-125.0, -10.0, 10.0, 11.0, 9.0),
            (-100.0, -16.0, 4.0, 11.5, 8.5),
            (-60.0, -21.0, -3.0, 12.0, 8.5),
            (-25.0, -23.0, -8.0, 12.5, 9.0),
        )
        hu = 110.0
    supra = (
        (0.0, -24.0, -10.0, 12.5, 9.0),
        (30.0, -24.0, -10.0, 12.5, 9.5),
        (60.0, -23.0, -8.0, 12.5, 10.0),
        (100.0, -22.0, -6.0, 12.5, 10.5),
        (135.0, -22.0, -7.0, 13.0, 11.0),
        (150.0, -23.0, -11.0, 14.0, 12.0),
        (165.0, -27.0, -20.0, 14.0, 12.0),
    )
    return AnatomyParams(right, left, infra + supra, hu)


def displaced_renal_path(
    params: AnatomyParams,
    ivc: Extrusion,
    end: tuple[float, float, float] | None,
    lift: float,
) -> list[tuple[float, float, float]]:
    """Case only: control points of a right renal vessel from the rotated kidney's sinus out
    of its hilum (facing forwards and laterally), round the kidney's anterior lip to the
    mass's surface and then forwards and medially towards the IVC at the renal-vein level,
    ending at ``end`` (None: about 2 cm inside the mass on that course). ``lift`` moves the
    hilum end along the kidney's long axis (mm; the artery enters above the vein). The mass
    cuts the part inside it (:meth:`ivcviewer.phantom.findings.Findings.encase`)."""
    kg = params.kidney_right
    rot = kg.rotation()
    w, long = rot[:, 1], rot[:, 0]
    h = kg.hilum() + lift * long
    ivc_at = ivc.params(np.array([[[Z_RENAL]]], F32))
    ivc_centre = np.array([float(ivc_at[0].ravel()[0]), float(ivc_at[1].ravel()[0]), Z_RENAL])
    out1 = h + 8.0 * w
    fwd = ivc_centre - out1
    fwd[2] *= 0.3
    fwd /= np.linalg.norm(fwd)
    lip = out1 + 14.0 * fwd
    into = lip + 26.0 * fwd
    pts = [h - 7.0 * w, out1, lip, into]
    if end is not None:
        pts.append(np.asarray(end, dtype=float))
    return [(float(p[0]), float(p[1]), float(p[2])) for p in pts]
