"""The landmark set (:class:`Landmarks`, LPS mm) with its :class:`Provenance`, and its JSON file."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..._atomic import write_text
from ..._text import parse_json, quote, read_text
from ...errors import AnatomyError, ResourceLimitError
from ...limits import Limits
from .. import vocabulary as voc
from .reference_names import is_point_reference

#: ``format`` value of a landmarks JSON file, and the version this module writes and reads.
LANDMARKS_FORMAT = "ivcviewer.landmarks"
LANDMARKS_FORMAT_VERSION = 1


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
            if name not in voc.POINT_LANDMARKS and not is_point_reference(name, True):
                raise AnatomyError(
                    f"Landmark {quote(name)} is neither a point landmark "
                    f"({', '.join(voc.POINT_LANDMARKS)}) nor a point reference such as "
                    "'kidney_right.centroid' or 'level_L2' (docs/case-file.md)."
                )
            a = np.asarray(p, dtype=float)
            if a.shape != (3,) or not np.all(np.isfinite(a)):
                raise AnatomyError(
                    f"Landmark {name!r} must be 3 finite LPS mm values, "
                    f"got {quote(np.asarray(p).tolist())}."
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
        """Landmarks present, in vocabulary order (``ivc_centreline`` when it is there), then
        points saved under reference names, in their order."""
        named = [n for n in voc.LANDMARKS if self.has(n)]
        return named + [n for n in self.points_lps if n not in voc.LANDMARKS]

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
        """The error naming absent landmarks and the source that lacks them."""
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
                for n in self.names()
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
    def load_json(cls, path: str | os.PathLike[str], limits: Limits | None = None) -> Landmarks:
        """Read a landmarks JSON file.

        The file holds ``format: "ivcviewer.landmarks"``, ``format_version: 1``,
        ``coordinate_system: "LPS"``, ``units: "mm"``, ``points`` (name -> ``[x, y, z]``),
        optionally ``ivc_centreline`` (``points``: ``[[x, y, z], ...]`` feet to head,
        ``radius_mm``: one radius per point) and ``provenance``. Errors name the file, the field
        and the fix.

        Raises
        ------
        AnatomyError
            The file is missing, not a regular file, not JSON (or holds a key twice), or a
            field breaks its rule.
        ResourceLimitError
            The file is larger than ``limits.max_text_bytes``, nests deeper than
            ``limits.max_nesting`` or its centreline has more than
            ``limits.max_centreline_points`` points.
        """
        p = Path(path)
        lim = limits if limits is not None else Limits()
        text = read_text(
            p, "landmarks file", AnatomyError, "give the path of a landmarks JSON file.", lim
        )
        doc = parse_json(text, p, "landmarks file", AnatomyError, lim)
        return _landmarks_from_doc(doc, p, lim)


def _fail(path: Path, where: str, problem: str, fix: str) -> AnatomyError:
    """The error for a field of a landmarks file: the file, the field, the problem, the fix."""
    return AnatomyError(f"{path}: field '{where}': {problem}. Fix: {fix}")


#: The fields of a landmarks file.
_FIELDS = ("format", "format_version", "coordinate_system", "units", "points", "ivc_centreline")


def _landmarks_from_doc(doc: Any, path: Path, limits: Limits | None = None) -> Landmarks:
    """The landmark set of a parsed landmarks file, every field checked (see ``load_json``)."""
    lim = limits if limits is not None else Limits()
    if not isinstance(doc, dict):
        raise _fail(
            path,
            "(top level)",
            f"must be a JSON object, got {quote(doc, lim)}",
            "write a JSON object",
        )
    for k in doc:
        if k not in (*_FIELDS, "provenance"):
            raise _fail(path, _cut_name(k, lim), "is not a field of a landmarks file", "remove it")
    _check_header(doc, path, lim)
    pts = _points_from_doc(doc.get("points", {}), path, lim)
    c, r = _centreline_from_doc(doc.get("ivc_centreline"), path, lim)
    return Landmarks(pts, c, r, _provenance_from_doc(doc.get("provenance"), path, lim))


def _cut_name(name: str, limits: Limits) -> str:
    """A key of the file, cut short for a message."""
    most = limits.max_quoted_chars
    return name if len(name) <= most else f"{name[: most - 3]}..."


def _check_header(doc: dict[str, Any], path: Path, lim: Limits) -> None:
    """Check ``format``, ``format_version``, ``coordinate_system`` and ``units``."""
    if doc.get("format") != LANDMARKS_FORMAT:
        raise _fail(
            path,
            "format",
            f"must be {LANDMARKS_FORMAT!r}, got {quote(doc.get('format'), lim)}",
            "write a file with Landmarks.save_json or set the format field",
        )
    version = doc.get("format_version")
    if version != LANDMARKS_FORMAT_VERSION:
        raise _fail(
            path,
            "format_version",
            f"must be {LANDMARKS_FORMAT_VERSION}, got {quote(version, lim)}",
            "convert the file to the current version or upgrade ivcviewer",
        )
    if doc.get("coordinate_system", "LPS") != "LPS":
        raise _fail(
            path,
            "coordinate_system",
            f"must be 'LPS', got {quote(doc.get('coordinate_system'), lim)}",
            "convert RAS points to LPS (negate x and y)",
        )
    if doc.get("units", "mm") != "mm":
        raise _fail(path, "units", f"must be 'mm', got {quote(doc.get('units'), lim)}", "write mm")


def _points_from_doc(points: Any, path: Path, lim: Limits) -> dict[str, NDArray[np.float64]]:
    """The point landmarks of the ``points`` field."""
    if not isinstance(points, dict):
        raise _fail(
            path,
            "points",
            f"must be an object name -> [x, y, z], got {quote(points, lim)}",
            "write it so",
        )
    pts: dict[str, NDArray[np.float64]] = {}
    for name, v in points.items():
        if name not in voc.POINT_LANDMARKS and not is_point_reference(name, True):
            hint = voc.closest(_cut_name(name, lim), voc.POINT_LANDMARKS)
            raise _fail(
                path,
                f"points.{_cut_name(name, lim)}",
                "is neither a known point landmark (known: "
                f"{', '.join(voc.POINT_LANDMARKS)}) nor a point reference such as "
                "'kidney_right.centroid' or 'level_L2'",
                f"use {hint!r}" if hint else "use one of them (docs/case-file.md)",
            )
        a = _as_xyz(v)
        if a is None:
            raise _fail(
                path,
                f"points.{name}",
                f"must be 3 finite numbers, got {quote(v, lim)}",
                "write [x, y, z]",
            )
        pts[name] = a
    return pts


def _centreline_from_doc(
    cl: Any, path: Path, lim: Limits
) -> tuple[NDArray[np.float64] | None, NDArray[np.float64] | None]:
    """The points and radii of the ``ivc_centreline`` field (None, None when absent)."""
    if cl is None:
        return None, None
    if not isinstance(cl, dict) or set(cl) != {"points", "radius_mm"}:
        raise _fail(
            path,
            "ivc_centreline",
            "must be an object with 'points' and 'radius_mm'",
            "give both lists, one radius per point",
        )
    for key in ("points", "radius_mm"):
        if not isinstance(cl[key], list):
            raise _fail(
                path,
                f"ivc_centreline.{key}",
                f"must be a list, got {quote(cl[key], lim)}",
                "write a JSON list",
            )
        if len(cl[key]) > lim.max_centreline_points:
            raise ResourceLimitError(
                f"{path}: field 'ivc_centreline.{key}' holds {len(cl[key]):,} items, more than "
                f"the {lim.max_centreline_points:,} points a centreline may have. Fix: resample "
                "the centreline (a point per millimetre is plenty)."
            )
    rows = [row for row in cl["points"] if not (isinstance(row, list) and len(row) == 3)]
    if rows:
        raise _fail(
            path,
            "ivc_centreline.points",
            f"must be a list of [x, y, z], got the item {quote(rows[0], lim)}",
            "write one [x, y, z] per point",
        )
    flat = [v for row in cl["points"] for v in row] + list(cl["radius_mm"])
    bad = [v for v in flat if not _is_number(v)]
    if bad:
        raise _fail(
            path,
            "ivc_centreline",
            f"holds values that are not numbers, such as {quote(bad[0], lim)}",
            "write numbers",
        )
    try:
        c = np.asarray(cl["points"], dtype=float).reshape(-1, 3)
        r = np.asarray(cl["radius_mm"], dtype=float)
    except OverflowError as err:  # an integer beyond the float range
        raise _fail(
            path, "ivc_centreline", "holds a number beyond the float range", "write numbers"
        ) from err
    try:
        _check_centreline(c, r, "ivc_centreline")
    except AnatomyError as err:
        raise _fail(path, "ivc_centreline", str(err).rstrip("."), "correct the lists") from err
    return c, r


def _provenance_from_doc(prov: Any, path: Path, lim: Limits) -> Provenance:
    """The :class:`Provenance` of the ``provenance`` field."""
    prov_doc = prov or {}
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
    for key in ("source", "description"):
        if isinstance(prov_doc.get(key), (dict, list)):
            raise _fail(path, f"provenance.{key}", "must be text", "write text or remove it")
    for i, t in enumerate(prov_doc.get("truncated", [])):
        if not isinstance(t, str) or t not in voc.LANDMARKS:
            raise _fail(
                path, f"provenance.truncated[{i}]", f"unknown landmark {quote(t, lim)}", "remove it"
            )
    return Provenance(
        source=str(prov_doc.get("source", "file")),
        description=str(prov_doc.get("description", str(path))),
        methods={str(k): str(v) for k, v in dict(prov_doc.get("methods", {})).items()},
        truncated=list(prov_doc.get("truncated", [])),
        warnings=[str(v) for v in prov_doc.get("warnings", [])],
    )


def _is_number(v: Any) -> bool:
    """Whether ``v`` is a JSON number (not a boolean, not text)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _as_xyz(v: Any) -> NDArray[np.float64] | None:
    """``v`` as 3 finite floats, or None (a list of 3 JSON numbers only)."""
    if not isinstance(v, (list, tuple)) or len(v) != 3 or not all(_is_number(x) for x in v):
        return None
    try:
        a = np.asarray(v, dtype=float)
    except OverflowError:  # an integer beyond the float range
        return None
    if not np.all(np.isfinite(a)):
        return None
    return a


def _check_centreline(c: NDArray[np.float64], r: NDArray[np.float64], what: str) -> None:
    """Raise AnatomyError unless ``c`` (N, 3) runs feet to head with N positive radii ``r``."""
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
