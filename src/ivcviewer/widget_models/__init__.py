"""The state of ivcviewer's napari widgets, without Qt or napari (tested without a viewer).

Each widget of :mod:`ivcviewer._napari.widgets` keeps its state in a model here and only lays
it out: the model holds the inputs, the results and the selection, calls
:mod:`ivcviewer.workflows` (the same calls the commands make), and tells its views that
something changed through plain callbacks (:class:`Listeners`).

- :mod:`.case_overlay`: the Case overlay widget (:class:`CaseOverlayModel`);
- :mod:`.landmark_guide`: guided landmark clicking (:class:`LandmarkGuide`);
- :mod:`.findings_tour`: the findings list (:class:`FindingEntry`);
- :mod:`.public_ct`: the Public CT dock (search, fetch with progress and cancel, open), with
  its backends in :mod:`.public_ct_backend`;
- :mod:`.layer_metadata`: the ``layer.metadata`` records widgets write and read
  (:class:`CaseLayerInfo`, :class:`VolumeLayerInfo`);
- :mod:`.listeners`: :class:`Listeners`.

May import the core and :mod:`ivcviewer.workflows`; never napari, Qt or magicgui.
"""

from __future__ import annotations

from .case_overlay import (
    AnatomyInput,
    CaseOverlayModel,
    LabelmapInput,
    PointsInput,
    points_input,
)
from .findings_tour import FindingEntry, finding_entries
from .landmark_guide import (
    GuideStep,
    LandmarkGuide,
    guide_steps,
    landmark_colour,
    landmark_display_name,
)
from .layer_metadata import CaseLayerInfo, OverlayLayerKind, VolumeLayerInfo, layer_volume
from .listeners import Listeners

__all__ = [
    "AnatomyInput",
    "CaseLayerInfo",
    "CaseOverlayModel",
    "FindingEntry",
    "GuideStep",
    "LabelmapInput",
    "LandmarkGuide",
    "Listeners",
    "OverlayLayerKind",
    "PointsInput",
    "VolumeLayerInfo",
    "finding_entries",
    "guide_steps",
    "landmark_colour",
    "landmark_display_name",
    "layer_volume",
    "points_input",
]
