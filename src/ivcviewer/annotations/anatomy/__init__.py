"""Anatomy sources: the landmark set, in LPS mm, that places a case's findings on a CT.

Every anatomy source gives the same :class:`Landmarks`: named points (see
:data:`~ivcviewer.annotations.vocabulary.LANDMARKS`) and the IVC centreline as an ``(N, 3)`` LPS
polyline, feet to head, with the local IVC radius at each point. Sources:

* a label map with structure names (TotalSegmentator class names):
  :func:`landmarks_from_labelmap`;
* landmarks clicked by a user or written by another program: :meth:`Landmarks.load_json`;
* the phantom's truth (built by the phantom module as a :class:`Landmarks`).

Rules used by :func:`landmarks_from_labelmap` (deterministic; each structure is first cleared of
small islands, 3D connected pieces under 10 % of its largest piece, and "slice" means an axial
slice of the volume brought to canonical ``(S, P, L)`` axes):

``ivc_centreline``
    Per slice of ``inferior_vena_cava``: the centroid, and the equivalent radius
    ``sqrt(area / pi)``. Slices missing inside the IVC's range are interpolated. Centroids are
    smoothed along the vessel with a Gaussian (``smoothing_mm``, default 6 mm). The axial area
    is corrected for the vessel's slope (``area * cos(angle to the z axis)``, the
    cross-section perpendicular to the centreline) before the radius is taken, and the radius
    is smoothed the same way.
``renal_vein_confluence``
    The renal veins leave each kidney at its hilum, the medial notch of the kidney where the
    renal sinus opens; they run almost horizontally to the IVC. Per kidney (``kidney_left``,
    ``kidney_right``), the hilum level is the z of the medial notch: on each slice in the middle
    60 % of the kidney's height, the part of the 2D convex hull of the kidney section that the
    kidney does not fill (after a 3x3 opening, which removes the one-pixel slivers of a
    digitised outline) and that lies medial to the section's centroid; the level is the mean z
    of those slices weighted by that notch area. A kidney without a notch (less than 1 % of its
    voxels) falls back to its mid-height. The confluence is the IVC centreline point at the mean
    of the two hilum levels (one kidney alone is used, with a warning, when the other is
    absent).
``intrahepatic_ivc_lower``, ``hepatic_vein_confluence``
    The intrahepatic IVC runs in the liver's posterior groove, wrapped by liver on its anterior,
    right and left sides. A slice belongs to it when at least half (``liver_fraction``) of a
    ``ring_mm`` (5 mm) ring around the IVC section is ``liver``. The intrahepatic segment is the
    longest run of such slices (one-slice gaps closed). Its lower end is
    ``intrahepatic_ivc_lower``; its upper end, where the hepatic veins join just below the
    diaphragm, is ``hepatic_vein_confluence``. Both are IVC centreline points.
``cavo_atrial_junction``
    The upper end of the IVC mask (the last centreline point).
``right_psoas_at_mass``
    Centroid of the ``iliopsoas_right`` section at the mass level (by default the renal-vein
    confluence level, the level the case file centres the mass on); the nearest slice holding
    psoas is used when the muscle does not reach that level (with a warning beyond 10 mm).
``liver_lower_edge``
    Centroid of the lowest ``liver`` section on the patient's right of the IVC (the whole liver
    when there is no IVC).

A landmark whose structure touches the top or bottom of the field of view is listed in
``provenance.truncated``: the true landmark lies at or beyond the stored position.

Modules: :mod:`.landmarks` (:class:`Landmarks`, :class:`Provenance` and the JSON file),
:mod:`.structures` (structure masks of a label map on its canonical grid),
:mod:`.centreline` (the IVC centreline), :mod:`.organ_landmarks` (the points read from the
kidneys, liver and psoas) and :mod:`.from_labelmap` (:func:`landmarks_from_labelmap`).

Examples
--------
>>> lm = Landmarks.from_points({"renal_vein_confluence": [10.0, 20.0, 30.0]})
>>> lm.z("renal_vein_confluence")
30.0
"""

from __future__ import annotations

from .from_labelmap import labelmap_structure_names, landmarks_from_labelmap
from .landmarks import LANDMARKS_FORMAT, LANDMARKS_FORMAT_VERSION, Landmarks, Provenance
from .structures import LANDMARK_STRUCTURES, MIN_PIECE_FRACTION

__all__ = [
    "LANDMARKS_FORMAT",
    "LANDMARKS_FORMAT_VERSION",
    "LANDMARK_STRUCTURES",
    "MIN_PIECE_FRACTION",
    "Landmarks",
    "Provenance",
    "labelmap_structure_names",
    "landmarks_from_labelmap",
]
