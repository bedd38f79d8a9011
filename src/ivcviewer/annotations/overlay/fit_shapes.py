"""Stage 1 of :func:`~.pipeline.fit_case`: an analytic shape on the landmarks for each finding.

A solid for a mass (:func:`~ivcviewer.annotations.fit.fit_solid`), a tube along the vessel for
a finding inside it (:func:`~ivcviewer.annotations.fit.fit_lumen`); nothing here looks at voxels.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import CaseFileError
from ..anatomy import Landmarks
from ..anatomy.references import References
from ..casefile import CaseFile, Finding
from ..fit import LUMEN_KINDS, SOLID_KINDS, SolidFit, TubeFit, fit_lumen, fit_solid
from .results import FitOptions


@dataclass(frozen=True)
class FittedShape:
    """A finding drawn as a region, with its label value and the shape fitted for it."""

    finding: Finding
    label_value: int
    fit: SolidFit | TubeFit


def fit_one(
    finding: Finding,
    landmarks: Landmarks,
    options: FitOptions,
    case: CaseFile,
    references: References | None = None,
) -> SolidFit | TubeFit:
    """The shape of one finding: a solid or a tube by its kind.

    Raises
    ------
    CaseFileError
        The finding's kind is neither a solid's nor a lumen finding's.
    """
    if finding.kind in SOLID_KINDS:
        return fit_solid(finding, landmarks, lobulation=options.lobulation, references=references)
    if finding.kind in LUMEN_KINDS:
        return fit_lumen(
            finding, landmarks, radius_fraction=options.radius_fraction, references=references
        )
    raise CaseFileError(
        f"{case.path}: finding {finding.id!r} is of kind {finding.kind!r}, which ivcviewer "
        f"cannot place on a CT yet (regions: {', '.join(SOLID_KINDS + LUMEN_KINDS)}; points: "
        "landmark). Fix: use one of those kinds, or make it 'spatial: false'."
    )


def fit_shapes(
    case: CaseFile,
    landmarks: Landmarks,
    options: FitOptions,
    references: References | None = None,
) -> tuple[FittedShape, ...]:
    """The shapes of the case's findings drawn as regions, in case-file order.

    Parameters
    ----------
    case
        The validated case file.
    landmarks
        The CT's landmarks.
    options
        The fit's settings (lobulation, radius fractions).
    references
        The anatomy's structure references (default: the landmarks alone).

    Returns
    -------
    tuple of FittedShape
        One per finding of ``case.region_findings``.
    """
    values = case.label_values()
    return tuple(
        FittedShape(f, values[f.id], fit_one(f, landmarks, options, case, references))
        for f in case.region_findings
    )
