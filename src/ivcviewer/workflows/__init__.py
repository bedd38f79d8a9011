"""The use cases of ivcviewer, one function each, shared by the command line and napari.

Qt-free. The ``ivcviewer`` commands and the napari widgets call these functions and only format
their results; nothing here prints, asks or draws.

- open a CT (one series): :func:`open_ct`;
- resolve the anatomy: :func:`anatomy_from_labelmap` (a label map in memory, a napari layer),
  :func:`anatomy_from_labelmap_file` (also a DICOM SEG or RTSTRUCT:
  :func:`anatomy_from_dicom_object`), :func:`anatomy_from_landmarks_file`,
  :func:`anatomy_from_points` (clicked points), :func:`anatomy_from_phantom_truth`;
- fit a case to a CT: :func:`fit_overlay`; write its files: :func:`write_overlay_outputs`;
- the findings as text (Markdown, HTML, terminal): :mod:`.findings_table`;
- the views a figure of a fitted case shows: :func:`.figures.case_figure_views`;
- measure a label map, and set it beside a case: :func:`measure_labelmap`,
  :func:`measure_volume`, :func:`compare_with_case`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .anatomy import (
        Anatomy,
        AnatomySource,
        anatomy_from_dicom_object,
        anatomy_from_labelmap,
        anatomy_from_labelmap_file,
        anatomy_from_landmarks_file,
        anatomy_from_phantom_truth,
        anatomy_from_points,
    )
    from .ct import open_ct
    from .measure import MeasureReport, compare_with_case, measure_labelmap, measure_volume
    from .overlay import OverlayInputs, OverlayOutputs, fit_overlay, write_overlay_outputs

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".anatomy": (
            "Anatomy",
            "AnatomySource",
            "anatomy_from_dicom_object",
            "anatomy_from_labelmap",
            "anatomy_from_labelmap_file",
            "anatomy_from_landmarks_file",
            "anatomy_from_phantom_truth",
            "anatomy_from_points",
        ),
        ".ct": ("open_ct",),
        ".measure": ("MeasureReport", "compare_with_case", "measure_labelmap", "measure_volume"),
        ".overlay": ("OverlayInputs", "OverlayOutputs", "fit_overlay", "write_overlay_outputs"),
    },
)

__all__ = [
    "Anatomy",
    "AnatomySource",
    "MeasureReport",
    "OverlayInputs",
    "OverlayOutputs",
    "anatomy_from_dicom_object",
    "anatomy_from_labelmap",
    "anatomy_from_labelmap_file",
    "anatomy_from_landmarks_file",
    "anatomy_from_phantom_truth",
    "anatomy_from_points",
    "compare_with_case",
    "fit_overlay",
    "measure_labelmap",
    "measure_volume",
    "open_ct",
    "write_overlay_outputs",
]
