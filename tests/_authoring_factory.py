"""Regions drawn on the small normal phantom, for the case-authoring tests.

Each region is a solid drawn in LPS mm relative to a structure of the phantom's truth labels,
so the tests state where they draw (in the liver, in the left kidney, beside it) and not at
which voxels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ivcviewer import geometry
from ivcviewer.annotations import load_case
from ivcviewer.annotations.overlay import OverlayResult
from ivcviewer.phantom import Phantom, build_phantom
from ivcviewer.volume import Volume
from ivcviewer.workflows import fit_overlay
from ivcviewer.workflows.anatomy import anatomy_from_labelmap

Mask = NDArray[np.bool_]


@dataclass
class Drawing:
    """The normal small phantom with the LPS mm of its voxel centres."""

    phantom: Phantom
    lps: NDArray[np.float64]

    @property
    def names(self) -> dict[int, str]:
        return self.phantom.label_names()

    def points(self, structure: str) -> NDArray[np.float64]:
        """LPS mm of a structure's voxels."""
        return self.lps[self.phantom.mask(structure)]

    def ellipsoid(self, centre: NDArray[np.float64], semi: tuple[float, float, float]) -> Mask:
        return np.asarray((((self.lps - centre) / np.asarray(semi)) ** 2).sum(-1) <= 1.0)

    def box(self, centre: NDArray[np.float64], half: tuple[float, float, float]) -> Mask:
        return np.asarray((np.abs(self.lps - centre) <= np.asarray(half)).all(-1))

    def volume(self, mask: Mask) -> Volume:
        """A drawn mask as a region on the CT's grid."""
        return Volume(mask, self.phantom.ct.affine)


def drawing() -> Drawing:
    """The small phantom without the case's findings, ready to draw on."""
    ph = build_phantom("small", normal=True)
    shape = ph.ct.shape
    ijk = np.indices(shape).reshape(3, -1).T
    lps = geometry.voxel_to_lps(ph.ct.affine, ijk).reshape(*shape, 3)
    return Drawing(ph, lps)


def _liver_lesion(d: Drawing) -> Mask:
    c = d.points("liver").mean(axis=0)
    return d.ellipsoid(c + np.array([-20.0, 0.0, 10.0]), (25.0, 20.0, 22.0))


def _left_kidney_box(d: Drawing) -> Mask:
    return d.box(d.points("kidney_left").mean(axis=0), (14.0, 12.0, 16.0))


def _off_centre_blob(d: Drawing) -> Mask:
    c = d.points("kidney_left").mean(axis=0)
    core = d.ellipsoid(c + np.array([10.0, -8.0, -35.0]), (16.0, 14.0, 14.0))
    bump = d.ellipsoid(c + np.array([16.0, -8.0, -40.0]), (9.0, 9.0, 9.0))
    return core | bump


def _beside_left_kidney(d: Drawing) -> Mask:
    k = d.points("kidney_left")
    c = k.mean(axis=0)
    return d.ellipsoid(np.array([k[:, 0].max() + 14.0, c[1], c[2]]), (15.0, 15.0, 15.0))


#: Regions drawn for the round trip: id -> (how it is drawn, the structure holding most of
#: it; None: drawn outside every structure).
REGIONS: dict[str, tuple[Callable[[Drawing], Mask], str | None]] = {
    "liver_lesion": (_liver_lesion, "liver"),
    "left_kidney_box": (_left_kidney_box, "kidney_left"),
    "lower_pole_blob": (_off_centre_blob, "kidney_left"),
    "beside_left_kidney": (_beside_left_kidney, None),
}


def fit_on_drawing(d: Drawing, case_path: object) -> OverlayResult:
    """The case file fitted back onto the phantom, its anatomy from the truth label map."""
    case = load_case(str(case_path))
    anatomy = anatomy_from_labelmap(d.phantom.labels, d.names, case, "phantom truth labels")
    return fit_overlay(d.phantom.ct, case, anatomy, ct_name="phantom CT")


def dice(a: Mask, b: Mask) -> float:
    return 2.0 * float((a & b).sum()) / float(a.sum() + b.sum())
