"""Fitting a case file's findings to a landmark set: analytic shapes in LPS mm.

A fit turns a finding's reported figures and relations into a shape placed by the anatomy of
one CT (its :class:`~ivcviewer.annotations.anatomy.Landmarks`). Nothing here looks at voxels:
the shapes are rasterised afterwards on the CT's own grid (:mod:`ivcviewer.annotations.rasterise`),
and clipped to the body and out of bone by :mod:`ivcviewer.annotations.overlay`.

Solid findings (kinds ``mass``, ``lesion``, ``lymph_node``)
    An ellipsoid with the reported extents as its axes along the patient axes the case file
    assigns (``Finding.reported_extents_mm()``), with a slightly lobulated surface
    (:class:`SolidModel`; the lobulation vanishes at the six ends of the axes, so it leaves the
    extents unchanged). Placement (:func:`fit_solid`):

    * cranio-caudally, the centre lies at the ``centre_level`` landmark (else at the origin
      landmark's level);
    * in the axial plane, when the finding must reach into (or touch, or overlap) a vessel that
      has a centreline, the solid's outline at that level runs through two points: the
      vessel's centreline point ``V`` and the origin landmark ``P`` (for
      ``iliopsoas_right``: ``right_psoas_at_mass``). Half of the vessel's section and half of
      the origin's section then lie inside: the solid reaches into the vessel and overlaps
      the structure it arises from. Two ellipses of the given semi-axes pass through two
      points; the one on the origin structure's side (a ``*_right`` structure: the patient's
      right, lateral to the line ``V``-``P``) is used, so a mass of the right retroperitoneum
      lies lateral to the IVC and the psoas, away from the aorta and the vertebral bodies.
      When ``V`` and ``P`` lie too far apart for any such ellipse, the outline runs through
      ``V`` with the centre on the line towards ``P``, and a warning says so;
    * without a vessel, the centre is the origin landmark moved to the centre level.

Findings inside a vessel (kinds ``intravascular_tumour``, ``thrombus``)
    A tube along the vessel's centreline (:class:`TubeModel`) from ``from_landmark`` (plus
    ``from_offset_mm``) to ``to_landmark`` (plus ``to_offset_mm``), levels taken along z, with
    flat ends across the vessel, and a radius that is the local vessel radius times the
    occlusion's radius fraction (:data:`OCCLUSION_RADIUS_FRACTION`).

Modules: :mod:`.kinds` (which kinds are fitted how, and the fixed numbers), :mod:`.shapes`
(:class:`SolidModel`, :class:`TubeModel`), :mod:`.placement` (the placement rules of solids),
:mod:`.solids` (:func:`fit_solid`) and :mod:`.tubes` (:func:`fit_lumen`).
"""

from __future__ import annotations

from .kinds import (
    CENTRELINE_VESSELS,
    DEFAULT_LOBULATION,
    LUMEN_KINDS,
    OCCLUSION_RADIUS_FRACTION,
    ORIGIN_LANDMARKS,
    SOLID_KINDS,
)
from .placement import (
    SolidPlacement,
    _outline_through,
    mass_centre_from_relations,
    placement_of,
    solid_extents_mm,
)
from .shapes import SolidModel, TubeModel, model_leaves_grid
from .solids import SolidFit, fit_solid
from .tubes import TubeFit, fit_lumen

__all__ = [
    "CENTRELINE_VESSELS",
    "DEFAULT_LOBULATION",
    "LUMEN_KINDS",
    "OCCLUSION_RADIUS_FRACTION",
    "ORIGIN_LANDMARKS",
    "SOLID_KINDS",
    "SolidFit",
    "SolidModel",
    "SolidPlacement",
    "TubeFit",
    "TubeModel",
    "_outline_through",
    "fit_lumen",
    "fit_solid",
    "mass_centre_from_relations",
    "model_leaves_grid",
    "placement_of",
    "solid_extents_mm",
]
