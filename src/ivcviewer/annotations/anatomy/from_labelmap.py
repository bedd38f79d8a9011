"""The landmark set derived from a label map with structure names."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from ...errors import AnatomyError
from ...volume import Volume
from .. import vocabulary as voc
from . import organ_landmarks as organs
from .centreline import IvcCentreline, ivc_centreline
from .landmarks import Landmarks, Provenance
from .structures import (
    KIDNEYS,
    LANDMARK_STRUCTURES,
    CanonicalGrid,
    LabelStructures,
    slice_range,
)

T = TypeVar("T")


class _Derivation:
    """One derivation: the canonical grid, its structures, the provenance being written, and
    the centreline and renal level once derived (several landmarks read them)."""

    def __init__(
        self,
        labels: Volume,
        names: Mapping[int, str],
        required: list[str],
        smoothing_mm: float,
        ring_mm: float,
        liver_fraction: float,
    ) -> None:
        vol = labels.to_canonical()
        self.required = required
        self.s = LabelStructures(vol, names, required)
        self.grid = CanonicalGrid.of(vol)
        self.smoothing_mm = smoothing_mm
        self.ring_mm = ring_mm
        self.liver_fraction = liver_fraction
        self.prov = Provenance("labelmap", labels.metadata.source or labels.metadata.description)
        self._centreline: IvcCentreline | None = None
        self._renal_z: float | None = None

    def attempt(self, name: str, fn: Callable[[], T]) -> T | None:
        """``fn()``; when it fails for a landmark that is not required, None and a warning."""
        try:
            return fn()
        except AnatomyError as err:
            if name in self.required:
                raise
            self.prov.warnings.append(f"{name} not derived: {err}")
            return None

    def record(self, name: str, derived: organs.Derived) -> NDArray[np.float64]:
        """Write a derived point's method, warnings and truncation into the provenance."""
        self.prov.warnings.extend(derived.warnings)
        self.prov.methods[name] = derived.method
        if derived.truncated:
            self.prov.truncated.append(name)
        return derived.value

    def centreline(self) -> IvcCentreline:
        """The IVC centreline (derived on the first call)."""
        if self._centreline is None:
            ivc = self.s.need("inferior_vena_cava", "ivc_centreline")
            cl = ivc_centreline(ivc, self.grid, self.smoothing_mm)
            self.prov.warnings.extend(cl.warnings)
            self.prov.methods["ivc_centreline"] = cl.method
            self._centreline = cl
        return self._centreline

    def renal_z(self) -> float:
        """The renal-vein level (derived on the first call)."""
        if self._renal_z is None:
            kidneys = {n: self.s.get(n) for n in KIDNEYS}
            found = {n: m for n, m in kidneys.items() if m is not None}
            z, method, warnings = organs.renal_level(found, self.grid)
            self.prov.warnings.extend(warnings)
            self._renal_z = z
            self.prov.methods["renal_vein_confluence"] = method
        return self._renal_z

    def renal_vein_confluence(self) -> NDArray[np.float64]:
        """``renal_vein_confluence``: the centreline point at the renal-vein level."""
        z = self.renal_z()
        return organs.renal_vein_confluence(z, self.centreline())

    def intrahepatic(self) -> tuple[int, int, NDArray[np.float64]]:
        """``(k_low, k_high, fraction per IVC slice)`` of the liver-surrounded IVC segment."""
        ivc = self.s.need("inferior_vena_cava", "hepatic_vein_confluence")
        liver = self.s.need("liver", "hepatic_vein_confluence")
        ks = self.centreline().ks
        return organs.intrahepatic_run(ivc, liver, ks, self.grid, self.ring_mm, self.liver_fraction)

    def intrahepatic_points(self) -> dict[str, NDArray[np.float64]]:
        """``intrahepatic_ivc_lower`` and ``hepatic_vein_confluence`` (empty when not derived)."""
        required = "hepatic_vein_confluence" in self.required
        ih = self.attempt(
            "hepatic_vein_confluence" if required else "intrahepatic_ivc_lower",
            self.intrahepatic,
        )
        if ih is None:
            return {}
        k_lo, k_hi, _ = ih
        cl = self.centreline()
        rule = (
            f"IVC slices with at least {self.liver_fraction:.0%} of a {self.ring_mm:g} mm ring "
            f"being liver (longest run, slices {k_lo}-{k_hi})"
        )
        self.prov.methods["intrahepatic_ivc_lower"] = "lower end of the " + rule
        self.prov.methods["hepatic_vein_confluence"] = "upper end of the " + rule
        if k_hi == self.grid.nk - 1:
            self.prov.truncated.append("hepatic_vein_confluence")
        if k_lo == 0:
            self.prov.truncated.append("intrahepatic_ivc_lower")
        return {
            "intrahepatic_ivc_lower": cl.point_at(k_lo),
            "hepatic_vein_confluence": cl.point_at(k_hi),
        }

    def psoas(self, mass_level_z_mm: float | None) -> NDArray[np.float64]:
        """``right_psoas_at_mass`` at the mass level (default: the renal-vein level)."""
        z = mass_level_z_mm if mass_level_z_mm is not None else self.renal_z()
        psoas = self.s.need("iliopsoas_right", "right_psoas_at_mass")
        derived = organs.psoas_at(psoas, self.grid, z, mass_level_z_mm is not None)
        return self.record("right_psoas_at_mass", derived)

    def liver_lower_edge(self) -> NDArray[np.float64]:
        """``liver_lower_edge``: the lowest liver section on the patient's right of the IVC."""
        liver = self.s.need("liver", "liver_lower_edge")
        cl = None if self.s.get("inferior_vena_cava") is None else self.centreline()
        return self.record("liver_lower_edge", organs.liver_lower_edge(liver, cl, self.grid))


def _required_landmarks(required: Iterable[str] | None) -> list[str]:
    """The landmarks to derive for sure (all by default); AnatomyError naming an unknown one."""
    req = list(voc.LANDMARKS) if required is None else list(required)
    for n in req:
        if n not in voc.LANDMARKS:
            raise AnatomyError(
                f"Argument 'required' names an unknown landmark {n!r}; known: "
                f"{', '.join(voc.LANDMARKS)}."
            )
    return req


def _check_derived(points: Mapping[str, NDArray[np.float64]], required: list[str]) -> None:
    """Raise naming a required point landmark still absent (e.g. the IVC missing for it)."""
    for n in required:
        if n == "ivc_centreline":
            continue
        if n not in points:
            structures = ", ".join(LANDMARK_STRUCTURES.get(n, ()))
            raise AnatomyError(
                f"Landmark {n!r} could not be derived from the label map (it needs "
                f"{structures}). Fix: give a label map with those structures or the landmark "
                "as a point."
            )


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
    req = _required_landmarks(required)
    if not np.issubdtype(np.asarray(labels.array).dtype, np.integer):
        raise AnatomyError(
            f"Argument 'labels' must hold integer label values, got dtype {labels.array.dtype}. "
            "Fix: load the file as a label map."
        )
    d = _Derivation(labels, names, req, smoothing_mm, ring_mm, liver_fraction)
    points: dict[str, NDArray[np.float64]] = {}
    centre = d.attempt("ivc_centreline", d.centreline)
    if centre is not None:
        ivc = d.s.get("inferior_vena_cava")
        if ivc is not None and slice_range(ivc)[1] == d.grid.nk - 1:
            d.prov.truncated.append("cavo_atrial_junction")
    p = d.attempt("renal_vein_confluence", d.renal_vein_confluence)
    if p is not None:
        points["renal_vein_confluence"] = p
    points.update(d.intrahepatic_points())
    if centre is not None:
        points["cavo_atrial_junction"] = centre.points[-1].copy()
        d.prov.methods["cavo_atrial_junction"] = "upper end of the inferior_vena_cava mask"
    p = d.attempt("right_psoas_at_mass", lambda: d.psoas(mass_level_z_mm))
    if p is not None:
        points["right_psoas_at_mass"] = p
    p = d.attempt("liver_lower_edge", d.liver_lower_edge)
    if p is not None:
        points["liver_lower_edge"] = p
    _check_derived(points, req)
    d.prov.truncated = [n for n in voc.LANDMARKS if n in set(d.prov.truncated)]
    return Landmarks(
        points,
        None if centre is None else centre.points,
        None if centre is None else centre.radii,
        d.prov,
    )


def labelmap_structure_names(names: Mapping[int, str]) -> list[str]:
    """The known structure names among a label table's names (sorted)."""
    return sorted({n for n in names.values() if n in voc.STRUCTURES})
