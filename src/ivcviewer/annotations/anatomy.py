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

Examples
--------
>>> lm = Landmarks.from_points({"renal_vein_confluence": [10.0, 20.0, 30.0]})
>>> lm.z("renal_vein_confluence")
30.0
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage as ndi

from .._atomic import write_text
from ..errors import AnatomyError
from ..volume import Volume
from . import vocabulary as voc

#: ``format`` value of a landmarks JSON file, and the version this module writes and reads.
LANDMARKS_FORMAT = "ivcviewer.landmarks"
LANDMARKS_FORMAT_VERSION = 1

#: Structures each landmark needs in a label map (all of them, except the kidneys: one suffices).
LANDMARK_STRUCTURES: dict[str, tuple[str, ...]] = {
    "ivc_centreline": ("inferior_vena_cava",),
    "renal_vein_confluence": ("inferior_vena_cava", "kidney_left", "kidney_right"),
    "intrahepatic_ivc_lower": ("inferior_vena_cava", "liver"),
    "hepatic_vein_confluence": ("inferior_vena_cava", "liver"),
    "cavo_atrial_junction": ("inferior_vena_cava",),
    "right_psoas_at_mass": ("iliopsoas_right", "inferior_vena_cava", "kidney_left", "kidney_right"),
    "liver_lower_edge": ("liver",),
}

_KIDNEYS = ("kidney_left", "kidney_right")


@dataclass
class Provenance:
    """Where a landmark set came from and how each landmark was obtained.

    Attributes
    ----------
    source
        ``"labelmap"``, ``"points"`` (clicked by a user), ``"phantom"`` or another short word.
    description
        What the source was (a file, a series, a phantom's parameters).
    methods
        Landmark name -> the rule or action that gave it.
    truncated
        Landmarks at the edge of the field of view: the true landmark lies at or beyond them.
    warnings
        Anything a user should know (a kidney missing, slices interpolated, ...).
    """

    source: str
    description: str = ""
    methods: dict[str, str] = field(default_factory=dict)
    truncated: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "source": self.source,
            "description": self.description,
            "methods": dict(self.methods),
            "truncated": list(self.truncated),
            "warnings": list(self.warnings),
        }


@dataclass
class Landmarks:
    """A landmark set in LPS mm.

    Attributes
    ----------
    points_lps
        Point landmark name -> ``(3,)`` LPS mm.
    centreline_lps
        The IVC centreline, ``(N, 3)`` LPS mm, feet to head (z strictly increasing), or None.
    centreline_radius_mm
        Local IVC radius at each centreline point, ``(N,)`` mm, or None.
    provenance
        Where the set came from.
    """

    points_lps: dict[str, NDArray[np.float64]]
    centreline_lps: NDArray[np.float64] | None = None
    centreline_radius_mm: NDArray[np.float64] | None = None
    provenance: Provenance = field(default_factory=lambda: Provenance("unknown"))

    def __post_init__(self) -> None:
        pts: dict[str, NDArray[np.float64]] = {}
        for name, p in self.points_lps.items():
            if name not in voc.POINT_LANDMARKS:
                raise AnatomyError(
                    f"Landmark {name!r} is not a point landmark; known: "
                    f"{', '.join(voc.POINT_LANDMARKS)}."
                )
            a = np.asarray(p, dtype=float)
            if a.shape != (3,) or not np.all(np.isfinite(a)):
                raise AnatomyError(
                    f"Landmark {name!r} must be 3 finite LPS mm values, "
                    f"got {np.asarray(p).tolist()}."
                )
            pts[name] = a
        self.points_lps = pts
        if (self.centreline_lps is None) != (self.centreline_radius_mm is None):
            raise AnatomyError(
                "The IVC centreline needs both its points and its radii (or neither)."
            )
        if self.centreline_lps is not None and self.centreline_radius_mm is not None:
            c = np.asarray(self.centreline_lps, dtype=float)
            r = np.asarray(self.centreline_radius_mm, dtype=float)
            _check_centreline(c, r, "the IVC centreline")
            self.centreline_lps, self.centreline_radius_mm = c, r

    @classmethod
    def from_points(
        cls,
        points: Mapping[str, ArrayLike],
        centreline_lps: ArrayLike | None = None,
        centreline_radius_mm: ArrayLike | None = None,
        provenance: Provenance | None = None,
    ) -> Landmarks:
        """Build a landmark set from plain sequences (clicked points, a phantom's truth).

        >>> lm = Landmarks.from_points(
        ...     {"renal_vein_confluence": [0, 0, 30]}, [[0, 0, 0], [0, 0, 100]], [10, 11]
        ... )
        >>> lm.centreline_at_z(50.0)[1]
        10.5
        """
        return cls(
            {k: np.asarray(v, dtype=float) for k, v in points.items()},
            None if centreline_lps is None else np.asarray(centreline_lps, dtype=float),
            None if centreline_radius_mm is None else np.asarray(centreline_radius_mm, dtype=float),
            provenance if provenance is not None else Provenance("points"),
        )

    # -- access ----------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Landmarks present, in vocabulary order (``ivc_centreline`` when it is there)."""
        return [n for n in voc.LANDMARKS if self.has(n)]

    def has(self, name: str) -> bool:
        """Whether the landmark (point or ``ivc_centreline``) is present."""
        if name == "ivc_centreline":
            return self.centreline_lps is not None
        return name in self.points_lps

    def point(self, name: str) -> NDArray[np.float64]:
        """The LPS mm of a point landmark; :class:`AnatomyError` if it is absent."""
        if name not in self.points_lps:
            self.require([name])
        return self.points_lps[name].copy()

    def z(self, name: str) -> float:
        """The z (LPS mm, + superior) of a point landmark."""
        return float(self.point(name)[2])

    def is_truncated(self, name: str) -> bool:
        """Whether the landmark lies at the edge of the field of view (a bound, not a position)."""
        return name in self.provenance.truncated

    def require(self, names: Iterable[str]) -> None:
        """Raise :class:`AnatomyError` naming every landmark of ``names`` that is absent."""
        missing = [n for n in names if not self.has(n)]
        if missing:
            raise self._missing(missing)

    def _missing(self, missing: list[str]) -> AnatomyError:
        desc = self.provenance.description
        return AnatomyError(
            f"The landmarks from {self.provenance.source!r}{' (' + desc + ')' if desc else ''}"
            f" lack {', '.join(missing)}. Fix: give an anatomy source that has them (a label "
            "map with the structures they need, or click them)."
        )

    def centreline(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(points (N, 3), radii (N,))`` of the IVC centreline; AnatomyError if absent."""
        if self.centreline_lps is None or self.centreline_radius_mm is None:
            raise self._missing(["ivc_centreline"])
        return self.centreline_lps.copy(), self.centreline_radius_mm.copy()

    def centreline_at_z(self, z: float) -> tuple[NDArray[np.float64], float]:
        """The centreline point and radius at height ``z`` (linear interpolation).

        Raises :class:`AnatomyError` when ``z`` lies outside the centreline's span.
        """
        c, r = self.centreline()
        if not c[0, 2] - 1e-6 <= z <= c[-1, 2] + 1e-6:
            raise AnatomyError(
                f"z = {z:.1f} mm lies outside the IVC centreline ({c[0, 2]:.1f} to "
                f"{c[-1, 2]:.1f} mm). Fix: use an anatomy source whose IVC covers that level."
            )
        p = np.array([np.interp(z, c[:, 2], c[:, k]) for k in range(3)])
        return p, float(np.interp(z, c[:, 2], r))

    def intrahepatic_segment_z(self) -> tuple[float, float]:
        """``(lower, upper)`` z of the intrahepatic IVC (liver-surrounded segment)."""
        return self.z("intrahepatic_ivc_lower"), self.z("hepatic_vein_confluence")

    # -- JSON --------------------------------------------------------------------------------

    def to_json_dict(self) -> dict[str, Any]:
        """The JSON form (see :meth:`load_json`)."""
        out: dict[str, Any] = {
            "format": LANDMARKS_FORMAT,
            "format_version": LANDMARKS_FORMAT_VERSION,
            "coordinate_system": "LPS",
            "units": "mm",
            "points": {
                n: [round(float(v), 4) for v in self.points_lps[n]]
                for n in voc.POINT_LANDMARKS
                if n in self.points_lps
            },
        }
        if self.centreline_lps is not None and self.centreline_radius_mm is not None:
            out["ivc_centreline"] = {
                "points": [[round(float(v), 4) for v in p] for p in self.centreline_lps],
                "radius_mm": [round(float(v), 4) for v in self.centreline_radius_mm],
            }
        out["provenance"] = self.provenance.to_dict()
        return out

    def save_json(self, path: str | os.PathLike[str]) -> Path:
        """Write the landmarks as JSON, atomically (temporary file, then rename)."""
        p = Path(path)
        text = json.dumps(self.to_json_dict(), indent=1) + "\n"
        return write_text(p, text)

    @classmethod
    def load_json(cls, path: str | os.PathLike[str]) -> Landmarks:
        """Read a landmarks JSON file.

        The file holds ``format: "ivcviewer.landmarks"``, ``format_version: 1``,
        ``coordinate_system: "LPS"``, ``units: "mm"``, ``points`` (name -> ``[x, y, z]``),
        optionally ``ivc_centreline`` (``points``: ``[[x, y, z], ...]`` feet to head,
        ``radius_mm``: one radius per point) and ``provenance``. Errors name the file, the field
        and the fix.
        """
        p = Path(path)
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError as err:
            raise AnatomyError(
                f"{p}: landmarks file not found. Fix: give the path of a landmarks JSON file."
            ) from err
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise AnatomyError(f"{p}: is not a readable JSON file ({err}).") from err
        return _landmarks_from_doc(doc, p)


def _fail(path: Path, where: str, problem: str, fix: str) -> AnatomyError:
    return AnatomyError(f"{path}: field '{where}': {problem}. Fix: {fix}")


def _landmarks_from_doc(doc: Any, path: Path) -> Landmarks:
    if not isinstance(doc, dict):
        raise _fail(path, "(top level)", "must be a JSON object", "write a JSON object")
    allowed = {
        "format",
        "format_version",
        "coordinate_system",
        "units",
        "points",
        "ivc_centreline",
        "provenance",
    }
    for k in doc:
        if k not in allowed:
            raise _fail(path, k, "is not a field of a landmarks file", "remove it")
    if doc.get("format") != LANDMARKS_FORMAT:
        raise _fail(
            path,
            "format",
            f"must be {LANDMARKS_FORMAT!r}, got {doc.get('format')!r}",
            "write a file with Landmarks.save_json or set the format field",
        )
    if doc.get("format_version") != LANDMARKS_FORMAT_VERSION:
        raise _fail(
            path,
            "format_version",
            f"must be {LANDMARKS_FORMAT_VERSION}, got {doc.get('format_version')!r}",
            "convert the file to the current version or upgrade ivcviewer",
        )
    if doc.get("coordinate_system", "LPS") != "LPS":
        raise _fail(
            path,
            "coordinate_system",
            f"must be 'LPS', got {doc.get('coordinate_system')!r}",
            "convert RAS points to LPS (negate x and y)",
        )
    if doc.get("units", "mm") != "mm":
        raise _fail(path, "units", f"must be 'mm', got {doc.get('units')!r}", "write mm")
    points = doc.get("points", {})
    if not isinstance(points, dict):
        raise _fail(path, "points", "must be an object name -> [x, y, z]", "write it so")
    pts: dict[str, NDArray[np.float64]] = {}
    for name, v in points.items():
        if name not in voc.POINT_LANDMARKS:
            hint = voc.closest(str(name), voc.POINT_LANDMARKS)
            raise _fail(
                path,
                f"points.{name}",
                f"is not a known point landmark (known: {', '.join(voc.POINT_LANDMARKS)})",
                f"use {hint!r}" if hint else "use one of them",
            )
        a = _as_xyz(v)
        if a is None:
            raise _fail(
                path, f"points.{name}", f"must be 3 finite numbers, got {v!r}", "write [x, y, z]"
            )
        pts[name] = a
    cl = doc.get("ivc_centreline")
    c = r = None
    if cl is not None:
        if not isinstance(cl, dict) or set(cl) != {"points", "radius_mm"}:
            raise _fail(
                path,
                "ivc_centreline",
                "must be an object with 'points' and 'radius_mm'",
                "give both lists, one radius per point",
            )
        try:
            c = np.asarray(cl["points"], dtype=float)
            r = np.asarray(cl["radius_mm"], dtype=float)
        except (TypeError, ValueError) as err:
            raise _fail(
                path, "ivc_centreline", f"holds non-numbers ({err})", "write numbers"
            ) from err
        try:
            _check_centreline(c, r, "ivc_centreline")
        except AnatomyError as err:
            raise _fail(path, "ivc_centreline", str(err).rstrip("."), "correct the lists") from err
    prov_doc = doc.get("provenance") or {}
    if not isinstance(prov_doc, dict):
        raise _fail(path, "provenance", "must be an object", "write an object or remove it")
    for key in ("methods", "truncated", "warnings"):
        want = dict if key == "methods" else list
        if not isinstance(prov_doc.get(key, want()), want):
            raise _fail(
                path,
                f"provenance.{key}",
                f"must be a JSON {'object' if want is dict else 'list'}",
                "correct it or remove it",
            )
    prov = Provenance(
        source=str(prov_doc.get("source", "file")),
        description=str(prov_doc.get("description", str(path))),
        methods={str(k): str(v) for k, v in dict(prov_doc.get("methods", {})).items()},
        truncated=[str(v) for v in prov_doc.get("truncated", [])],
        warnings=[str(v) for v in prov_doc.get("warnings", [])],
    )
    for i, t in enumerate(prov.truncated):
        if t not in voc.LANDMARKS:
            raise _fail(path, f"provenance.truncated[{i}]", f"unknown landmark {t!r}", "remove it")
    return Landmarks(pts, c, r, prov)


def _as_xyz(v: Any) -> NDArray[np.float64] | None:
    try:
        a = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        return None
    if a.shape != (3,) or not np.all(np.isfinite(a)):
        return None
    return a


def _check_centreline(c: NDArray[np.float64], r: NDArray[np.float64], what: str) -> None:
    if c.ndim != 2 or c.shape[1] != 3 or c.shape[0] < 2:
        raise AnatomyError(f"{what} must be at least 2 points of 3 values, got shape {c.shape}.")
    if r.shape != (c.shape[0],):
        raise AnatomyError(
            f"{what} needs one radius per point ({c.shape[0]} points), got shape {r.shape}."
        )
    if not (np.all(np.isfinite(c)) and np.all(np.isfinite(r))):
        raise AnatomyError(f"{what} holds values that are not finite.")
    if np.any(r <= 0):
        raise AnatomyError(f"{what} radii must be positive, got minimum {float(r.min())}.")
    if np.any(np.diff(c[:, 2]) <= 0):
        raise AnatomyError(
            f"{what} points must run from feet to head (z strictly increasing); "
            "list them from the lowest to the highest."
        )


# --------------------------------------------------------------------------- from a label map


#: Connected pieces of a structure smaller than this fraction of its largest piece are dropped.
MIN_PIECE_FRACTION = 0.1


def _main_components(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The mask without small islands (pieces under 10 % of the largest piece).

    Large pieces are all kept, so that a vessel interrupted on a slice stays whole.
    """
    lab, n = ndi.label(mask)
    if n <= 1:
        return mask
    sizes = np.bincount(lab.ravel())
    sizes[0] = 0
    keep = np.flatnonzero(sizes >= MIN_PIECE_FRACTION * sizes.max())
    return np.asarray(np.isin(lab, keep))


class _Structures:
    """Masks of named structures on a canonical grid, built lazily, with missing-name errors."""

    def __init__(self, labels: Volume, names: Mapping[int, str], required: list[str]) -> None:
        self.vol = labels
        self.required = required
        self.by_name: dict[str, list[int]] = {}
        for value, name in names.items():
            self.by_name.setdefault(str(name), []).append(int(value))
        self._cache: dict[str, NDArray[np.bool_] | None] = {}

    def get(self, name: str) -> NDArray[np.bool_] | None:
        if name not in self._cache:
            values = self.by_name.get(name)
            mask = None
            if values:
                m = np.isin(self.vol.array, values)
                if m.any():
                    mask = _main_components(m)
            self._cache[name] = mask
        return self._cache[name]

    def need(self, name: str, deriving: str) -> NDArray[np.bool_]:
        """The structure's mask; AnatomyError naming it and the landmarks that need it."""
        m = self.get(name)
        if m is None:
            present = "absent from the label names" if name not in self.by_name else "empty"
            landmarks = [deriving] + [
                n
                for n, structs in LANDMARK_STRUCTURES.items()
                if name in structs and n in self.required and n != deriving
            ]
            raise AnatomyError(
                f"The label map has no {name!r} ({present}), which landmark(s) "
                f"{', '.join(landmarks)} need. Fix: give a label map with {name!r} "
                "(TotalSegmentator class names), a names table mapping its label value to "
                f"{name!r}, or give those landmarks as points."
            )
        return m


def _slice_range(mask: NDArray[np.bool_]) -> tuple[int, int]:
    ks = np.flatnonzero(mask.any(axis=(1, 2)))
    return int(ks[0]), int(ks[-1])


def _slice_centroid(mask2d: NDArray[np.bool_]) -> tuple[float, float]:
    rc = np.argwhere(mask2d)
    m = rc.mean(axis=0)
    return float(m[0]), float(m[1])


class _Derivation:
    """The label-map derivation, holding the canonical grid and intermediate results."""

    def __init__(
        self,
        labels: Volume,
        names: Mapping[int, str],
        required: list[str],
        smoothing_mm: float,
        ring_mm: float,
        liver_fraction: float,
    ) -> None:
        self.vol = labels.to_canonical()
        self.s = _Structures(self.vol, names, required)
        self.aff = self.vol.affine
        self.nk = self.vol.shape[0]
        self.dz = abs(float(self.aff[2, 0]))
        self.pixel_area = self.vol.voxel_volume_mm3 / self.dz
        self.row_mm = float(np.linalg.norm(self.aff[:3, 1]))
        self.col_mm = float(np.linalg.norm(self.aff[:3, 2]))
        self.smoothing_mm = smoothing_mm
        self.ring_mm = ring_mm
        self.liver_fraction = liver_fraction
        self.prov = Provenance("labelmap", labels.metadata.source or labels.metadata.description)
        self._centreline: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]
        self._have_centreline = False
        self._renal_z: float | None = None

    def lps(self, k: float, r: float, c: float) -> NDArray[np.float64]:
        return np.asarray(self.aff[:3, :3] @ [k, r, c] + self.aff[:3, 3], dtype=float)

    # -- IVC centreline --------------------------------------------------------------------

    def centreline(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """``(points (N,3), radii (N,), slice index (N,))``, feet to head."""
        if self._have_centreline:
            return self._centreline
        ivc = self.s.need("inferior_vena_cava", "ivc_centreline")
        k0, k1 = _slice_range(ivc)
        if k1 == k0:
            raise AnatomyError(
                "inferior_vena_cava spans a single slice; a centreline needs at least two. "
                "Fix: give a label map covering the IVC over several slices."
            )
        ks = np.arange(k0, k1 + 1)
        area = ivc[k0 : k1 + 1].sum(axis=(1, 2)).astype(float)
        present = area > 0
        rows = np.full(ks.size, np.nan)
        cols = np.full(ks.size, np.nan)
        for i in np.flatnonzero(present):
            rows[i], cols[i] = _slice_centroid(ivc[ks[i]])
        if not present.all():
            gap = int((~present).sum())
            self.prov.warnings.append(
                f"inferior_vena_cava is absent on {gap} slice(s) inside its range; its "
                "centreline was interpolated there."
            )
            for arr in (rows, cols, area):
                arr[~present] = np.interp(ks[~present], ks[present], arr[present])
        sigma = self.smoothing_mm / self.dz
        if sigma > 0 and ks.size > 1:
            rows = ndi.gaussian_filter1d(rows, sigma, mode="nearest")
            cols = ndi.gaussian_filter1d(cols, sigma, mode="nearest")
        pts = np.stack([self.lps(float(k), r, c) for k, r, c in zip(ks, rows, cols, strict=True)])
        tangent = np.gradient(pts, axis=0)
        cos = np.abs(tangent[:, 2]) / np.linalg.norm(tangent, axis=1)
        radius = np.sqrt(area * self.pixel_area * cos / math.pi)
        if sigma > 0:
            radius = ndi.gaussian_filter1d(radius, sigma, mode="nearest")
        self._centreline = (pts, radius, ks.astype(float))
        self._have_centreline = True
        self.prov.methods["ivc_centreline"] = (
            f"per-slice centroid and equivalent radius of inferior_vena_cava (slices {k0}-{k1}), "
            f"Gaussian-smoothed over {self.smoothing_mm:g} mm, radius corrected for the slope"
        )
        if k0 == 0:
            self.prov.warnings.append(
                "inferior_vena_cava reaches the bottom of the field of view: the centreline "
                "starts there, not at the iliac confluence."
            )
        return self._centreline

    def point_on_centreline(self, k: float) -> NDArray[np.float64]:
        pts, _, ks = self.centreline()
        return np.array([np.interp(k, ks, pts[:, i]) for i in range(3)])

    def k_of_z(self, z: float) -> float:
        """Fractional canonical slice index at height z (on the IVC centreline)."""
        pts, _, ks = self.centreline()
        return float(np.interp(z, pts[:, 2], ks))

    # -- renal-vein confluence -------------------------------------------------------------

    def hilum_z(self, name: str, kidney: NDArray[np.bool_]) -> tuple[float, str]:
        k0, k1 = _slice_range(kidney)
        h = k1 - k0
        lo, hi = int(math.floor(k0 + 0.2 * h)), int(math.ceil(k1 - 0.2 * h))
        # +x is the patient's left: the medial side of the right kidney is +x, of the left one -x
        medial_sign = 1.0 if name == "kidney_right" else -1.0
        from skimage.morphology import convex_hull_image

        weights, zs = [], []
        for k in range(lo, hi + 1):
            sec = kidney[k]
            if sec.sum() < 3:
                continue
            rr, cc = np.nonzero(sec)
            r0, r1, c0, c1 = rr.min(), rr.max() + 1, cc.min(), cc.max() + 1
            crop = sec[r0:r1, c0:c1]
            # an opening drops the one-pixel slivers any digitised convex outline leaves
            notch = ndi.binary_opening(convex_hull_image(crop) & ~crop)
            if not notch.any():
                continue
            nr, nc = np.nonzero(notch)
            cr, cc_ = _slice_centroid(crop)
            x_notch = self.aff[0, 1] * (nr - cr) + self.aff[0, 2] * (nc - cc_)
            medial = int((medial_sign * x_notch > 0).sum())
            if medial:
                weights.append(float(medial))
                zs.append(float(self.lps(k, cr + r0, cc_ + c0)[2]))
        total = float(sum(weights))
        if total >= 0.01 * float(kidney.sum()):
            z = float(np.average(zs, weights=weights))
            return z, "medial notch (hilum) of the convex hull, area-weighted"
        kc = np.argwhere(kidney).mean(axis=0)
        return float(self.lps(*kc)[2]), "mid-height (no medial notch found)"

    def renal_z(self) -> float:
        if self._renal_z is not None:
            return self._renal_z
        kidneys = {n: self.s.get(n) for n in _KIDNEYS}
        found = {n: m for n, m in kidneys.items() if m is not None}
        if not found:
            raise AnatomyError(
                "The label map has neither 'kidney_left' nor 'kidney_right', which landmark(s) "
                "renal_vein_confluence, right_psoas_at_mass need. Fix: give a label map with "
                "the kidneys (TotalSegmentator class names), a names table mapping their label "
                "values, or give those landmarks as points."
            )
        levels = {}
        how = []
        for n, m in found.items():
            levels[n], rule = self.hilum_z(n, m)
            how.append(f"{n} hilum z {levels[n]:.1f} mm ({rule})")
        if len(found) == 1:
            lost = next(n for n in _KIDNEYS if n not in found)
            self.prov.warnings.append(
                f"{lost} is absent: the renal-vein confluence uses the other kidney's hilum only."
            )
        self._renal_z = float(np.mean(list(levels.values())))
        self.prov.methods["renal_vein_confluence"] = (
            "IVC centreline at the mean hilum level of the kidneys: " + "; ".join(how)
        )
        return self._renal_z

    def renal_vein_confluence(self) -> NDArray[np.float64]:
        z = self.renal_z()
        pts, _, _ = self.centreline()
        if not pts[0, 2] <= z <= pts[-1, 2]:
            raise AnatomyError(
                f"The renal-vein level (z = {z:.1f} mm, from the kidneys' hila) lies outside "
                f"the inferior_vena_cava mask ({pts[0, 2]:.1f} to {pts[-1, 2]:.1f} mm), which "
                "landmark renal_vein_confluence needs. Fix: give a label map whose IVC covers "
                "the renal veins, or give the landmark as a point."
            )
        return self.point_on_centreline(self.k_of_z(z))

    # -- intrahepatic IVC --------------------------------------------------------------------

    def intrahepatic(self) -> tuple[int, int, NDArray[np.float64]]:
        """``(k_low, k_high, fraction per IVC slice)`` of the liver-surrounded IVC segment."""
        ivc = self.s.need("inferior_vena_cava", "hepatic_vein_confluence")
        liver = self.s.need("liver", "hepatic_vein_confluence")
        _, _, ks = self.centreline()
        pad_r = int(math.ceil(self.ring_mm / self.row_mm)) + 1
        pad_c = int(math.ceil(self.ring_mm / self.col_mm)) + 1
        frac = np.zeros(ks.size)
        for i, kf in enumerate(ks):
            k = int(kf)
            sec = ivc[k]
            if not sec.any():
                continue
            rr, cc = np.nonzero(sec)
            r0, r1 = max(rr.min() - pad_r, 0), min(rr.max() + pad_r + 1, sec.shape[0])
            c0, c1 = max(cc.min() - pad_c, 0), min(cc.max() + pad_c + 1, sec.shape[1])
            crop = sec[r0:r1, c0:c1]
            dist = ndi.distance_transform_edt(~crop, sampling=(self.row_mm, self.col_mm))
            ring = (dist > 0) & (dist <= self.ring_mm)
            if ring.any():
                frac[i] = float((liver[k, r0:r1, c0:c1] & ring).sum()) / float(ring.sum())
        inside = frac >= self.liver_fraction
        if inside.size > 2:
            inside = inside | ndi.binary_closing(inside, np.ones(3, bool))
        lab, n = ndi.label(inside)
        if n == 0:
            raise AnatomyError(
                "No slice of inferior_vena_cava is surrounded by liver (at least "
                f"{self.liver_fraction:.0%} of a {self.ring_mm:g} mm ring), which landmarks "
                "intrahepatic_ivc_lower, hepatic_vein_confluence need. Fix: check that the "
                "label map's liver and IVC cover the upper abdomen, or give those landmarks "
                "as points."
            )
        sizes = np.bincount(lab)[1:]
        best = int(np.argmax(sizes)) + 1  # the first longest run (deterministic)
        idx = np.flatnonzero(lab == best)
        return int(ks[idx[0]]), int(ks[idx[-1]]), frac

    # -- the rest -----------------------------------------------------------------------------

    def psoas_at(self, z: float, mass_z_given: bool) -> NDArray[np.float64]:
        psoas = self.s.need("iliopsoas_right", "right_psoas_at_mass")
        zs = np.array([self.lps(k, 0, 0)[2] for k in range(self.nk)])
        has = psoas.any(axis=(1, 2))
        cand = np.flatnonzero(has)
        k = int(cand[np.argmin(np.abs(zs[cand] - z))])
        dist = abs(float(zs[k] - z))
        if dist > 10.0:
            self.prov.warnings.append(
                f"iliopsoas_right does not reach the mass level (z = {z:.1f} mm); its nearest "
                f"section, {dist:.0f} mm away, was used for right_psoas_at_mass."
            )
        r, c = _slice_centroid(psoas[k])
        level = "the given mass level" if mass_z_given else "the renal-vein level"
        self.prov.methods["right_psoas_at_mass"] = (
            f"centroid of the iliopsoas_right section at {level} (slice {k})"
        )
        return self.lps(k, r, c)

    def liver_lower_edge(self) -> NDArray[np.float64]:
        liver = self.s.need("liver", "liver_lower_edge")
        ivc = self.s.get("inferior_vena_cava")
        sel = liver
        rule = "centroid of the lowest liver section"
        if ivc is not None:
            pts, _, _ = self.centreline()
            x_ivc = float(pts[:, 0].mean())
            kk, rr, cc = np.nonzero(liver)
            x = self.aff[0, 0] * kk + self.aff[0, 1] * rr + self.aff[0, 2] * cc + self.aff[0, 3]
            right = x < x_ivc
            if right.any():
                sel = np.zeros_like(liver)
                sel[kk[right], rr[right], cc[right]] = True
                rule += " on the patient's right of the IVC"
        k0, _ = _slice_range(sel)
        r, c = _slice_centroid(sel[k0])
        self.prov.methods["liver_lower_edge"] = f"{rule} (slice {k0})"
        if k0 == 0:
            self.prov.truncated.append("liver_lower_edge")
        return self.lps(k0, r, c)


def landmarks_from_labelmap(
    labels: Volume,
    names: Mapping[int, str],
    required: Iterable[str] | None = None,
    *,
    mass_level_z_mm: float | None = None,
    smoothing_mm: float = 6.0,
    ring_mm: float = 5.0,
    liver_fraction: float = 0.5,
) -> Landmarks:
    """Derive the landmark set from a label map with structure names.

    Parameters
    ----------
    labels
        Label map (integer values) on any grid; its affine gives LPS mm.
    names
        Label value -> structure name (TotalSegmentator class names). Several values may share
        a name (their union is used); unknown names are ignored.
    required
        Landmarks that must be derived; a missing structure for one of them raises. The others
        are derived when their structures are present (a warning in the provenance otherwise).
        None (the default) requires all of them.
    mass_level_z_mm
        The level (z, LPS mm) of ``right_psoas_at_mass``; default the renal-vein confluence.
    smoothing_mm
        Gaussian sigma (mm, along the vessel) for the centreline and its radius.
    ring_mm
        Width of the ring around the IVC section tested for liver.
    liver_fraction
        Fraction of that ring that must be liver for a slice to count as intrahepatic.

    Returns
    -------
    Landmarks
        Points, IVC centreline and radius, and the provenance (rules, warnings, truncation).

    Raises
    ------
    AnatomyError
        A structure a required landmark needs is absent, naming the structure and the landmark.
    """
    req = list(voc.LANDMARKS) if required is None else list(required)
    for n in req:
        if n not in voc.LANDMARKS:
            raise AnatomyError(
                f"Argument 'required' names an unknown landmark {n!r}; known: "
                f"{', '.join(voc.LANDMARKS)}."
            )
    if not np.issubdtype(np.asarray(labels.array).dtype, np.integer):
        raise AnatomyError(
            f"Argument 'labels' must hold integer label values, got dtype {labels.array.dtype}. "
            "Fix: load the file as a label map."
        )
    d = _Derivation(labels, names, req, smoothing_mm, ring_mm, liver_fraction)
    points: dict[str, NDArray[np.float64]] = {}
    centre: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None

    def attempt(name: str, fn: Any) -> Any:
        try:
            return fn()
        except AnatomyError as err:
            if name in req:
                raise
            d.prov.warnings.append(f"{name} not derived: {err}")
            return None

    res = attempt("ivc_centreline", d.centreline)
    if res is not None:
        centre = (res[0], res[1])
        ivc = d.s.get("inferior_vena_cava")
        if ivc is not None and _slice_range(ivc)[1] == d.nk - 1:
            d.prov.truncated.append("cavo_atrial_junction")
    p = attempt("renal_vein_confluence", d.renal_vein_confluence)
    if p is not None:
        points["renal_vein_confluence"] = p
    ih = attempt(
        "hepatic_vein_confluence" if "hepatic_vein_confluence" in req else "intrahepatic_ivc_lower",
        d.intrahepatic,
    )
    if ih is not None:
        k_lo, k_hi, _ = ih
        points["intrahepatic_ivc_lower"] = d.point_on_centreline(k_lo)
        points["hepatic_vein_confluence"] = d.point_on_centreline(k_hi)
        rule = (
            f"IVC slices with at least {liver_fraction:.0%} of a {ring_mm:g} mm ring being liver "
            f"(longest run, slices {k_lo}-{k_hi})"
        )
        d.prov.methods["intrahepatic_ivc_lower"] = "lower end of the " + rule
        d.prov.methods["hepatic_vein_confluence"] = "upper end of the " + rule
        if k_hi == d.nk - 1:
            d.prov.truncated.append("hepatic_vein_confluence")
        if k_lo == 0:
            d.prov.truncated.append("intrahepatic_ivc_lower")
    if centre is not None:
        points["cavo_atrial_junction"] = centre[0][-1].copy()
        d.prov.methods["cavo_atrial_junction"] = "upper end of the inferior_vena_cava mask"

    def psoas() -> NDArray[np.float64]:
        z = mass_level_z_mm if mass_level_z_mm is not None else d.renal_z()
        return d.psoas_at(z, mass_level_z_mm is not None)

    p = attempt("right_psoas_at_mass", psoas)
    if p is not None:
        points["right_psoas_at_mass"] = p
    p = attempt("liver_lower_edge", d.liver_lower_edge)
    if p is not None:
        points["liver_lower_edge"] = p
    # landmarks required but still absent (e.g. the IVC missing for a point that needs it)
    for n in req:
        if n == "ivc_centreline":
            continue
        if n not in points:
            structures = ", ".join(LANDMARK_STRUCTURES.get(n, ()))
            raise AnatomyError(
                f"Landmark {n!r} could not be derived from the label map (it needs "
                f"{structures}). Fix: give a label map with those structures or the landmark "
                "as a point."
            )
    d.prov.truncated = [n for n in voc.LANDMARKS if n in set(d.prov.truncated)]
    return Landmarks(
        points,
        None if centre is None else centre[0],
        None if centre is None else centre[1],
        d.prov,
    )


def labelmap_structure_names(names: Mapping[int, str]) -> list[str]:
    """The known structure names among a label table's names (sorted)."""
    return sorted({n for n in names.values() if n in voc.STRUCTURES})
