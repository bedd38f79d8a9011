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
from ...errors import AnatomyError
from .. import vocabulary as voc

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
    """The error for a field of a landmarks file: the file, the field, the problem, the fix."""
    return AnatomyError(f"{path}: field '{where}': {problem}. Fix: {fix}")


def _landmarks_from_doc(doc: Any, path: Path) -> Landmarks:
    """The landmark set of a parsed landmarks file, every field checked (see ``load_json``)."""
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
    """``v`` as 3 finite floats, or None."""
    try:
        a = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        return None
    if a.shape != (3,) or not np.all(np.isfinite(a)):
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
