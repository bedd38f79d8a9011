"""Stage 2 of :func:`~.pipeline.fit_case`: each fitted shape drawn on the CT's grid.

A shape is rasterised at the voxel centres of the CT's grid, inside its bounding box only
(:mod:`ivcviewer.annotations.rasterise`). A finding inside a vessel that the anatomy label map
names is drawn with the vessel's own section (:func:`.anatomy_access.lumen_from_labels`),
otherwise as the tube's circular section. What the drawing leaves out is recorded as the first
clipping steps: a vessel section that is empty in the label map, and the part of the shape
beyond the field of view.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ... import measure as msr
from ..casefile import Finding
from ..fit import SolidFit, TubeFit, model_leaves_grid
from ..rasterise import CroppedMask
from .anatomy_access import AnatomyAccess, lumen_from_labels
from .fit_shapes import FittedShape
from .results import AxisDict, ClipStep


@dataclass(frozen=True)
class DrawnShape:
    """A fitted shape drawn on the CT's grid, before clipping.

    Attributes
    ----------
    finding, label_value
        The finding and its label value.
    fit
        The fit, with how its section was drawn (``parameters["section"]``) for a tube.
    region
        The voxels drawn.
    fitted_extents_mm
        The drawn region's extents (None when nothing is drawn).
    steps
        What the drawing left out (``vessel_section``, ``field_of_view``).
    """

    finding: Finding
    label_value: int
    fit: SolidFit | TubeFit
    region: CroppedMask
    fitted_extents_mm: AxisDict | None
    steps: tuple[ClipStep, ...]


def region_extents(region: CroppedMask, affine: NDArray[np.float64]) -> AxisDict | None:
    """Extents (mm, per patient axis) of a region of a grid; None when it is empty."""
    if region.n_voxels == 0:
        return None
    return msr.extents_mm(region.mask, region.affine(affine))


def empty_section_step(
    fit: TubeFit,
    vessel: str,
    anatomy: AnatomyAccess,
    shape: tuple[int, int, int],
    affine: NDArray[np.float64],
) -> ClipStep:
    """The clipping step that says a lumen finding's vessel section is empty in the label map."""
    circle = fit.model.rasterise(shape, affine)
    n = circle.n_voxels
    voxel_ml = abs(float(np.linalg.det(affine[:3, :3]))) / 1000.0
    labels = ", ".join(f"{v} ({vessel})" for v in anatomy.by_name.get(vessel, [])) or vessel
    return ClipStep(
        "vessel_section",
        f"the label map's {vessel} (label {labels}) holds no voxel between the tumour's ends "
        "near the centreline, so its section is empty there. A finding labelled apart from "
        "the vessel counts as part of it only under the finding's id or name",
        n if n else None,
        n * voxel_ml if n else None,
        region_extents(circle, affine),
        None,
    )


def _field_of_view_step(fit: SolidFit | TubeFit, fitted: AxisDict | None) -> ClipStep:
    """The step that says the shape reaches beyond the field of view (its own extents before)."""
    model_ext: AxisDict | None = None
    if isinstance(fit, SolidFit):
        a, b, c = fit.model.semi_axes_mm
        model_ext = {"lr": 2 * a, "ap": 2 * b, "cc": 2 * c}
    return ClipStep(
        "field_of_view",
        "the fitted shape reaches beyond the CT's field of view",
        None,
        None,
        model_ext,
        fitted,
    )


def rasterise_fit(fitted: FittedShape, anatomy: AnatomyAccess) -> DrawnShape:
    """One fitted shape drawn on the grid of ``anatomy`` (the CT's)."""
    shape, affine = anatomy.shape, anatomy.affine
    fit = fitted.fit
    vessel = fitted.finding.relations.vessel
    steps: list[ClipStep] = []
    if isinstance(fit, TubeFit) and vessel is not None and anatomy.has(vessel):
        raw = lumen_from_labels(fit, anatomy, vessel)
        fit = dataclasses.replace(
            fit,
            method=fit.method
            + (
                f"; section: the {vessel}'s own section in the label map, shrunk towards the "
                f"centreline by {fit.radius_fraction:g}"
            ),
            parameters={**fit.parameters, "section": "label map"},
        )
        if raw.n_voxels == 0:
            steps.append(empty_section_step(fit, vessel, anatomy, shape, affine))
    else:
        raw = fit.model.rasterise(shape, affine)
        if isinstance(fit, TubeFit):
            fit = dataclasses.replace(
                fit, parameters={**fit.parameters, "section": "circle of the centreline radius"}
            )
    extents = region_extents(raw, affine)
    if model_leaves_grid(fit.model, shape, affine):
        steps.append(_field_of_view_step(fit, extents))
    return DrawnShape(fitted.finding, fitted.label_value, fit, raw, extents, tuple(steps))


def rasterise_fits(
    shapes: tuple[FittedShape, ...], anatomy: AnatomyAccess
) -> tuple[DrawnShape, ...]:
    """Every fitted shape drawn on the grid of ``anatomy`` (the CT's), in the same order."""
    return tuple(rasterise_fit(s, anatomy) for s in shapes)
