"""Measurements of labelled regions in millimetres, millilitres and HU.

Every figure is computed in LPS millimetres through the volume's 4x4 affine, so it is exact on
anisotropic, oblique and sheared grids. Each voxel stands for its *cell*: the parallelepiped
centred on the voxel centre and spanned by the affine's three columns. Extents and oriented box
sizes are the span of the voxel centres plus one voxel step, and point-to-point lengths
(maximum diameter, RECIST axes) run between the outer edges of the cells, so that a box of
``N`` voxels along a grid axis measures ``N * spacing`` (not ``(N - 1) * spacing``). The
definitions, with their error bounds, are written out in ``docs/measurement.md``.

Each region is cropped to its bounding box before anything else is computed, and every length
is taken on the few voxels that can be extreme (the first and last voxel of each grid line, then
the vertices of their convex hull), so that measuring is fast on full-size CT.

Modules
-------
* :mod:`~ivcviewer.measure.lengths`: segments, point-to-point lengths, voxel steps;
* :mod:`~ivcviewer.measure.sections`, :mod:`~ivcviewer.measure.cropped`: a region cropped to its
  bounding box, its moments, sections and hull points (what every figure is computed from);
* :mod:`~ivcviewer.measure.extents`: extents along the patient axes, oriented bounding box;
* :mod:`~ivcviewer.measure.diameter`, :mod:`~ivcviewer.measure.recist`: maximum diameter,
  RECIST long and short axes;
* :mod:`~ivcviewer.measure.hu`: HU statistics;
* :mod:`~ivcviewer.measure.regions`: every region of a label map as a
  :class:`RegionMeasurements` record;
* :mod:`~ivcviewer.measure.comparison`: measured extents against reported ones;
* :mod:`~ivcviewer.measure.tools`: what the ruler, bidirectional and HU probe tools compute
  (the model behind the napari tools, without napari).

Examples
--------
>>> import numpy as np
>>> from ivcviewer.geometry import affine_from_dicom
>>> from ivcviewer.volume import Volume
>>> axial = affine_from_dicom([1, 0, 0, 0, 1, 0], [0, 0, 0], [0.7, 0.7], [0, 0, 2.5])
>>> labels = np.zeros((6, 10, 10), np.uint8)
>>> labels[1:5, 2:8, 3:6] = 1
>>> vol = Volume(labels, axial)
>>> (m,) = measure_labels(vol, {1: "box"})
>>> m.name, m.n_voxels, {k: round(v, 6) for k, v in m.extents_mm.items()}
('box', 72, {'lr': 2.1, 'ap': 4.2, 'cc': 10.0})
>>> round(m.volume_ml, 6)
0.0882
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .comparison import DEFAULT_TOLERANCE_REL, AxisComparison, ExtentComparison, compare_extents
    from .cropped import centroid_lps, volume_ml
    from .diameter import max_diameter
    from .extents import OrientedBox, extents_mm, oriented_bounding_box
    from .hu import HU_PERCENTILES, HUStatistics, hu_statistics
    from .lengths import (
        PATIENT_AXES,
        Segment,
        line_length_mm,
        patient_axis_voxel_mm,
        voxel_projection_mm,
        voxel_step_mm,
    )
    from .recist import RecistAxes, recist_axes
    from .regions import (
        COMPACT_LABELS_ABOVE,
        GRID_ATOL,
        RegionMeasurements,
        check_same_grid,
        measure_labels,
        measure_region,
    )

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".comparison": (
            "DEFAULT_TOLERANCE_REL",
            "AxisComparison",
            "ExtentComparison",
            "compare_extents",
        ),
        ".cropped": ("centroid_lps", "volume_ml"),
        ".diameter": ("max_diameter",),
        ".extents": ("OrientedBox", "extents_mm", "oriented_bounding_box"),
        ".hu": ("HU_PERCENTILES", "HUStatistics", "hu_statistics"),
        ".lengths": (
            "PATIENT_AXES",
            "Segment",
            "line_length_mm",
            "patient_axis_voxel_mm",
            "voxel_projection_mm",
            "voxel_step_mm",
        ),
        ".recist": ("RecistAxes", "recist_axes"),
        ".regions": (
            "COMPACT_LABELS_ABOVE",
            "GRID_ATOL",
            "RegionMeasurements",
            "check_same_grid",
            "measure_labels",
            "measure_region",
        ),
    },
)

__all__ = [
    "COMPACT_LABELS_ABOVE",
    "DEFAULT_TOLERANCE_REL",
    "GRID_ATOL",
    "HU_PERCENTILES",
    "PATIENT_AXES",
    "AxisComparison",
    "ExtentComparison",
    "HUStatistics",
    "OrientedBox",
    "RecistAxes",
    "RegionMeasurements",
    "Segment",
    "centroid_lps",
    "check_same_grid",
    "compare_extents",
    "extents_mm",
    "hu_statistics",
    "line_length_mm",
    "max_diameter",
    "measure_labels",
    "measure_region",
    "oriented_bounding_box",
    "patient_axis_voxel_mm",
    "recist_axes",
    "volume_ml",
    "voxel_projection_mm",
    "voxel_step_mm",
]
