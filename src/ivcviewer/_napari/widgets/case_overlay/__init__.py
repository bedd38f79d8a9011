"""Dock widget "Case overlay": a case file's findings fitted to the CT shown, and a findings tour.

Pick a case file (the packaged one by default), the CT layer and an anatomy source, press
**Fit overlay**: :func:`ivcviewer.workflows.fit_overlay` (the fit the ``overlay`` command runs)
places the findings on the CT's own grid and the widget adds

* a Labels layer ``Case findings`` with one named, coloured region per finding (hovering shows
  the name), whose metadata names the case (:class:`ivcviewer.widget_models.CaseLayerInfo`), so
  the measurement table compares it with the case at once,
* a Points layer ``Case landmarks`` with the landmarks used, named on screen,
* a findings list: selecting a finding moves the slices to its centre, shows its region alone
  (``selected_label`` with ``show_selected_label``) and its description
  (:func:`ivcviewer.workflows.findings_table.render_html`), with the reported and the measured
  figures side by side and, for the tumour inside the IVC, its level (Mayo level and IVC
  segment),
* with **3D surfaces** ticked, one smooth-shaded Surface layer per finding
  (``Case surface: <name>``, :func:`ivcviewer.mesh.region_surface`), shown in 3D views in place
  of the Labels layer (which stays the view of 2D slices); the CT is then drawn beneath them
  without depth, so a projection of it never cuts into them.

Anatomy sources (:class:`AnatomySource`, the widget's choices): a phantom's truth folder
(``ivcviewer phantom``), a Labels layer or a label map file with structure names
(TotalSegmentator class names; a label named after the case's intravascular finding counts as
its vessel), a landmarks JSON file, or landmarks clicked in a Points layer. Each is resolved by
:mod:`ivcviewer.workflows.anatomy`, as the ``overlay`` command resolves its sources.

**Guided clicking** asks for the landmarks the case file needs, one at a time, by their display
names: each click in the ``Clicked landmarks`` layer is the landmark asked for, then the next one
is asked for; the IVC centreline takes several clicks along the vein (press *Next* when done).
The clicked set is saved to and loaded from a landmarks JSON file
(:meth:`ivcviewer.annotations.Landmarks.save_json` / ``load_json``).

The state lives in :class:`ivcviewer.widget_models.CaseOverlayModel` (no Qt); the modules here
only lay it out and read the napari layers:

- :mod:`.dock`: :class:`CaseOverlayWidget`, the dock that wires the panels to the model;
- :mod:`.source_pages`: the case file, CT and anatomy source inputs;
- :mod:`.findings_view`: the IVC level, the findings list and the details;
- :mod:`.guide_panel` and :mod:`.clicked_layer`: guided clicking;
- :mod:`.surfaces`: the 3D surfaces switch;
- :mod:`.layer_data`: the layers added, as layer data tuples;
- :mod:`.layer_inputs`: napari layers read into plain data.
"""

from __future__ import annotations

from ....widget_models import AnatomyInput as AnatomySource
from ....widget_models import FindingEntry, GuideStep, finding_entries, guide_steps
from ....widget_models.layer_metadata import OVERLAY_KEY
from ....workflows import (
    Anatomy,
    anatomy_from_labelmap,
    anatomy_from_labelmap_file,
    anatomy_from_phantom_truth,
)
from ....workflows.anatomy import DEFAULT_CLICKED_RADIUS_MM
from ....workflows.findings_table import ALL_FINDINGS
from ....workflows.findings_table import render_html as finding_html
from .dock import PLUGIN_NAME, WIDGET_NAME, CaseOverlayWidget, dock_case_overlay
from .layer_data import (
    CLICKED_LAYER,
    FINDINGS_LAYER,
    FINDINGS_OPACITY,
    LANDMARKS_LAYER,
    SURFACE_LAYER,
    clicked_layer_data,
    findings_layer_data,
    findings_surfaces_layer_data,
    landmarks_layer_data,
)
from .layer_inputs import ct_volume_of

__all__ = [
    "ALL_FINDINGS",
    "CLICKED_LAYER",
    "DEFAULT_CLICKED_RADIUS_MM",
    "FINDINGS_LAYER",
    "FINDINGS_OPACITY",
    "LANDMARKS_LAYER",
    "OVERLAY_KEY",
    "PLUGIN_NAME",
    "SURFACE_LAYER",
    "WIDGET_NAME",
    "Anatomy",
    "AnatomySource",
    "CaseOverlayWidget",
    "FindingEntry",
    "GuideStep",
    "anatomy_from_labelmap",
    "anatomy_from_labelmap_file",
    "anatomy_from_phantom_truth",
    "clicked_layer_data",
    "ct_volume_of",
    "dock_case_overlay",
    "finding_entries",
    "finding_html",
    "findings_layer_data",
    "findings_surfaces_layer_data",
    "guide_steps",
    "landmarks_layer_data",
]
