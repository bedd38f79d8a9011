"""Stage 3 of :func:`~.pipeline.fit_case`: each drawn region clipped, every step recorded.

In order: the body (a ``body`` label, else the CT above ``body_hu`` between the body's
outermost voxels along each in-plane grid line, so gas and lung inside count as body); the
structures of the finding's ``avoids`` rules; for solids, bone (bone labels of the label map,
and CT above ``bone_hu`` in pieces of at least ``min_bone_ml``, holes filled). Each step that
removes voxels is a :class:`~.results.ClipStep` with its effect on the voxel count, the volume
and the extents.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ...volume import Volume
from .. import vocabulary as voc
from ..casefile import Finding
from ..fit import SolidFit, TubeFit
from ..rasterise import CroppedMask, GridBox
from .anatomy_access import AnatomyAccess, body_mask, ct_bone_mask
from .rasterise_fits import DrawnShape, region_extents
from .results import BONE_PREFIXES, AxisDict, BoneSource, ClipStep, FitOptions


@dataclass(frozen=True)
class Clipping:
    """A region being clipped: its voxels now, their extents, and the steps so far."""

    region: CroppedMask
    affine: NDArray[np.float64]
    extents: AxisDict | None
    steps: tuple[ClipStep, ...] = ()

    @classmethod
    def start(
        cls, region: CroppedMask, affine: NDArray[np.float64], steps: tuple[ClipStep, ...] = ()
    ) -> Clipping:
        """Clipping of ``region`` (a region of the grid of ``affine``) before any step."""
        return cls(region, affine, region_extents(region, affine), steps)

    def remove(self, reason: str, description: str, removed: NDArray[np.bool_]) -> Clipping:
        """The region without ``removed`` (a mask over its box), with the step recorded if it
        removed anything (else this clipping unchanged)."""
        cut = removed & self.region.mask
        n = int(np.count_nonzero(cut))
        if n == 0:
            return self
        region = CroppedMask(self.region.box, self.region.mask & ~cut)
        extents = region_extents(region, self.affine)
        voxel_ml = abs(float(np.linalg.det(self.affine[:3, :3]))) / 1000.0
        step = ClipStep(reason, description, n, n * voxel_ml, self.extents, extents)
        return dataclasses.replace(self, region=region, extents=extents, steps=(*self.steps, step))


@dataclass(frozen=True)
class ClippedFinding:
    """A finding's region after clipping (and, after :func:`.resolve_overlaps`, overlaps).

    Attributes
    ----------
    finding, label_value, fit
        The finding, its label value and its fit.
    region
        The voxels left.
    before_overlaps
        The region after clipping, before overlaps with other findings were resolved, cropped
        to itself (the case file's rules are checked on it).
    fitted_extents_mm
        The extents of the region as drawn, before clipping.
    clipping
        Every step, in order.
    warnings
        The fit's warnings and the clipping's own (an ``avoids`` rule it could not apply).
    """

    finding: Finding
    label_value: int
    fit: SolidFit | TubeFit
    region: CroppedMask
    before_overlaps: CroppedMask
    fitted_extents_mm: AxisDict | None
    clipping: tuple[ClipStep, ...]
    warnings: tuple[str, ...]


def is_ct_image(ct: Volume) -> bool:
    """Whether the image is a CT (its values are HU: body and bone may be read from them)."""
    return ct.metadata.modality.upper() == "CT"


def clip_warning(c: ClipStep) -> str:
    """One line saying what a clipping step removed and how it changed the extents."""
    what = (
        "the part outside is not drawn"
        if c.voxels_removed is None
        else f"{c.voxels_removed} voxels ({c.volume_removed_ml or 0.0:.1f} mL) removed"
    )
    ch = {a: v for a, v in c.extent_changes_mm().items() if abs(v) > 1e-6}
    if not c.extent_changes_mm():
        eff = "extents not measured"
    elif ch:
        eff = "extents changed: " + ", ".join(f"{a} {v / 10.0:+.2f} cm" for a, v in ch.items())
    else:
        eff = "extents unchanged"
    return f"Clipped ({c.reason}): {c.description}; {what}; {eff}."


def _clip_avoids(
    clipping: Clipping, drawn: DrawnShape, anatomy: AnatomyAccess, bone_from_ct: bool
) -> tuple[Clipping, list[str]]:
    """The region clipped out of the structures of its ``avoids`` rules, and a warning for each
    rule the anatomy source cannot apply."""
    skipped: list[str] = []
    for rule in drawn.finding.relations.rules_of("avoids"):
        if not rule.clips:  # 'avoids' with max_share: checked, not clipped
            continue
        if not anatomy.source_of(rule.structure):
            skipped.append(
                f"Rule 'avoids {rule.structure}' not applied: the anatomy source has no "
                f"{rule.structure}"
                + (" (bone from the CT is still avoided)." if bone_from_ct else ".")
            )
            continue
        grown = f" grown by {rule.margin_mm:g} mm" if rule.margin_mm else ""
        clipping = clipping.remove(
            "avoids",
            f"inside {rule.structure}{grown} (rule 'avoids')",
            anatomy.structure(rule.structure, drawn.region.box, rule.margin_mm),
        )
    return clipping, skipped


def _clip_bone(
    clipping: Clipping,
    box: GridBox,
    ct: Volume,
    anatomy: AnatomyAccess,
    options: FitOptions,
    bone_labels: list[str],
) -> Clipping:
    """A solid's region clipped out of bone (label map, CT or both, by ``options.bone``)."""
    if bone_labels and options.bone in (BoneSource.LABELS, BoneSource.LABELS_AND_CT):
        clipping = clipping.remove(
            "bone_labels",
            "inside bone of the label map ("
            + ", ".join(bone_labels[:6])
            + (" ..." if len(bone_labels) > 6 else "")
            + ")",
            anatomy.mask(bone_labels, box),
        )
    if is_ct_image(ct) and options.bone in (BoneSource.CT, BoneSource.LABELS_AND_CT):
        clipping = clipping.remove(
            "bone_ct",
            f"inside bone of the CT (above {options.bone_hu:g} HU, pieces of at least "
            f"{options.min_bone_ml:g} mL, holes filled)",
            ct_bone_mask(ct, box, options.bone_hu, options.min_bone_ml),
        )
    return clipping


def clip_finding(
    drawn: DrawnShape,
    ct: Volume,
    anatomy: AnatomyAccess,
    options: FitOptions,
    bone_labels: list[str],
) -> ClippedFinding:
    """One drawn region clipped to the body, out of its ``avoids`` structures and, for a
    solid, out of bone."""
    is_ct = is_ct_image(ct)
    is_solid = isinstance(drawn.fit, SolidFit)
    clipping = Clipping(drawn.region, anatomy.affine, drawn.fitted_extents_mm, drawn.steps)
    box = drawn.region.box
    if is_ct and not box.empty:
        if anatomy.has("body"):
            outside = ~anatomy.mask(["body"], box)
            why = "outside the body (label 'body')"
        else:
            outside = ~body_mask(ct, box, options.body_hu)
            why = f"outside the body (CT above {options.body_hu:g} HU, filled)"
        clipping = clipping.remove("body", why, outside)
    bone_from_ct = is_solid and is_ct and options.bone in (BoneSource.CT, BoneSource.LABELS_AND_CT)
    clipping, skipped = _clip_avoids(clipping, drawn, anatomy, bone_from_ct)
    if is_solid and not box.empty:
        clipping = _clip_bone(clipping, box, ct, anatomy, options, bone_labels)
    fit = drawn.fit
    if skipped:
        fit = dataclasses.replace(fit, warnings=[*fit.warnings, *skipped])
    return ClippedFinding(
        drawn.finding,
        drawn.label_value,
        fit,
        clipping.region,
        clipping.region.tight().copy(),
        drawn.fitted_extents_mm,
        clipping.steps,
        tuple(fit.warnings),
    )


def bone_label_names(anatomy: AnatomyAccess) -> list[str]:
    """The label map's structures that are bone (:data:`~.results.BONE_PREFIXES`), sorted."""
    return sorted(n for n in anatomy.by_name if n.startswith(BONE_PREFIXES) and n in voc.STRUCTURES)


def clip(
    drawn: tuple[DrawnShape, ...], ct: Volume, anatomy: AnatomyAccess, options: FitOptions
) -> tuple[ClippedFinding, ...]:
    """Every drawn region clipped (see the module docstring), in the same order.

    Parameters
    ----------
    drawn
        The regions as drawn (:func:`.rasterise_fits`).
    ct
        The CT: body and bone from its values when it is a CT (modality ``CT``).
    anatomy
        The anatomy on the CT's grid.
    options
        Thresholds and the bone source.

    Returns
    -------
    tuple of ClippedFinding
        One per drawn region; the inputs are left as they were.
    """
    bone_labels = bone_label_names(anatomy)
    return tuple(clip_finding(d, ct, anatomy, options, bone_labels) for d in drawn)
