"""A case's findings fitted to one CT: labelled regions on the CT's grid, measured and checked.

:func:`fit_case` is the one entry point: a CT, a case file, the CT's landmarks (from any anatomy
source) and, optionally, an anatomy label map with structure names. It returns an
:class:`OverlayResult`: a label map on the CT's own grid (any affine), the label table (value,
finding id, name, colour), each finding's measured extents and volume beside the reported
figures, what clipping changed, which of the case file's rules hold, the IVC involvement level,
and the landmark points with their names. Its readable report is
:func:`ivcviewer.workflows.findings_table.render_markdown`.

Stages, per finding drawn as a region (see ``docs/overlay.md``), one module each, run in order
by :mod:`.pipeline`; each takes values and returns new ones:

1. :mod:`.fit_shapes`: fit an analytic shape on the landmarks
   (:mod:`ivcviewer.annotations.fit`): a solid for a mass, a tube along the vessel for an
   intravascular tumour;
2. :mod:`.rasterise_fits`: rasterise it at the voxel centres of the CT's grid, inside the
   shape's bounding box only (:mod:`ivcviewer.annotations.rasterise`), noting the part beyond
   the field of view;
3. :mod:`.clip`: clip it, recording each step's effect on the voxel count, the volume and the
   extents: the body (a ``body`` label, else the CT above ``body_hu`` between the body's
   outermost voxels along each in-plane grid line, so gas and lung inside count as body); the
   structures of the finding's ``avoids`` rules; for solids, bone (bone labels of the label
   map, and CT above ``bone_hu`` in pieces of at least ``min_bone_ml``, holes filled);
4. :mod:`.resolve_overlaps`: a voxel claimed by a finding inside a vessel lumen and by a solid
   belongs to the lumen finding (the lumen holds the tumour thrombus, the mass lies outside
   it); between two solids, or two lumen findings, the one listed first in the case file
   keeps it;
5. :mod:`.measure_regions`: measure the final regions (with :mod:`ivcviewer.measure`);
6. :mod:`.check_rules`: check the case file's rules on each region as fitted and clipped,
   before step 4 (where a mass enters the IVC, the label map shows the intravascular tumour,
   yet the mass does reach into the vessel);
7. :mod:`.occupancy`: each final region's share in each structure of the anatomy label map
   and in unlabelled tissue, with a warning when a solid covers normal organs;
8. :mod:`.ivc_level`: the IVC involvement level of the drawn tumour.

Beside them: :mod:`.anatomy_access` (the anatomy label map, body, bone and vessel lumen on the
CT's grid), :mod:`.landmark_points` (landmarks outside the field of view, the points to show)
and, below everything, :mod:`.results` (the options and the result types).
"""

from __future__ import annotations

from .anatomy_access import (
    AnatomyAccess,
    anatomy_names_for_case,
    body_mask,
    cranio_caudal_axis,
    ct_bone_mask,
    lumen_from_labels,
)
from .landmark_points import landmarks_outside
from .measure_regions import dice
from .pipeline import fit_case
from .results import (
    BONE_PREFIXES,
    FINDINGS_FORMAT,
    FINDINGS_FORMAT_VERSION,
    AxisDict,
    BoneSource,
    ClipStep,
    FindingResult,
    FitOptions,
    LandmarkPoint,
    OverlayResult,
    RegionLabel,
    RuleCheck,
    StructureShare,
)

__all__ = [
    "BONE_PREFIXES",
    "FINDINGS_FORMAT",
    "FINDINGS_FORMAT_VERSION",
    "AnatomyAccess",
    "AxisDict",
    "BoneSource",
    "ClipStep",
    "FindingResult",
    "FitOptions",
    "LandmarkPoint",
    "OverlayResult",
    "RegionLabel",
    "RuleCheck",
    "StructureShare",
    "anatomy_names_for_case",
    "body_mask",
    "cranio_caudal_axis",
    "ct_bone_mask",
    "dice",
    "fit_case",
    "landmarks_outside",
    "lumen_from_labels",
]
