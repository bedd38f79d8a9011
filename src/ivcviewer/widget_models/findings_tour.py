"""The findings list of a fitted overlay (one entry per finding, with where to go to see it)
and the guided tour through it (:class:`FindingsTour`: one :class:`TourStep` per finding)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .. import geometry
from ..annotations.overlay import FindingResult, OverlayResult
from ..workflows.findings_table import ALL_FINDINGS, finding_row, involvement_row
from .listeners import Listeners
from .views import WINDOW_PRESETS


@dataclass(frozen=True)
class FindingEntry:
    """One entry of the findings list.

    Attributes
    ----------
    key
        The finding's id, or :data:`ALL_FINDINGS` for the overview.
    title
        The text of the entry.
    colour
        The finding's colour (``#rrggbb``), None for none.
    label_value
        The finding's value in the findings label map (None: not a region).
    centre_lps
        Where to move the slices to (LPS mm; a voxel of the region), None for nowhere.
    drawn
        Whether the finding is shown on this CT.
    """

    key: str
    title: str
    colour: str | None
    label_value: int | None = None
    centre_lps: tuple[float, float, float] | None = None
    drawn: bool = True


def region_centre(r: FindingResult, grid_affine: NDArray[np.float64]) -> NDArray[np.float64]:
    """The region's voxel nearest to its centroid (LPS): a slice through it shows the region."""
    ijk = np.argwhere(r.region.mask)
    lps = geometry.apply_affine(r.region.affine(grid_affine), ijk.astype(float))
    c = r.centroid_lps if r.centroid_lps is not None else lps.mean(axis=0)
    return np.asarray(lps[int(np.argmin(np.sum((lps - c) ** 2, axis=1)))], dtype=float)


def finding_entries(result: OverlayResult) -> list[FindingEntry]:
    """The findings list: all findings first, then regions, points and the findings not drawn."""
    out = [FindingEntry(ALL_FINDINGS, "All findings (overview)", None)]
    affine = result.labels.affine
    for r in result.findings:
        centre = None
        if r.n_voxels:
            c = region_centre(r, affine)
            centre = (float(c[0]), float(c[1]), float(c[2]))
        out.append(
            FindingEntry(
                r.id, r.finding.name, r.finding.colour, r.label_value, centre, r.n_voxels > 0
            )
        )
    for p in result.points:
        if p.finding_id is not None:
            out.append(FindingEntry(p.finding_id, p.name, p.colour, None, p.position_lps))
    for f in result.case.findings:
        if not f.spatial:
            out.append(FindingEntry(f.id, f"{f.name} (not drawn)", None, None, None, False))
    return out


# ---------------------------------------------------------------------------------- the tour

#: The window of every tour step: the CT soft-tissue preset (width, level in HU).
SOFT_TISSUE_WINDOW: tuple[float, float] = (
    WINDOW_PRESETS["soft tissue"].width,
    WINDOW_PRESETS["soft tissue"].level,
)

#: The field shown around a finding: its largest extent times this (mm).
FIELD_MARGIN = 1.6

#: The smallest field shown around a finding (mm; points and small regions).
MIN_FIELD_MM = 80.0


@dataclass(frozen=True)
class TourStep:
    """One step of the guided tour: which finding, where to look and what to say.

    Attributes
    ----------
    entry
        The finding's entry of the findings list.
    view
        ``axial``, ``coronal`` or ``sagittal`` (a long vessel finding is shown coronal).
    window
        ``(width, level)`` in HU.
    field_mm
        How many mm of the patient the canvas shows across (the zoom).
    text
        A short text for the audience with the reported and measured figures.
    """

    entry: FindingEntry
    view: str
    window: tuple[float, float]
    field_mm: float
    text: str

    @property
    def key(self) -> str:
        """The finding's id."""
        return self.entry.key


def _region_text(result: OverlayResult, r: FindingResult) -> str:
    """Name, reported and measured figures of a region finding (and the IVC level it sets)."""
    row = finding_row(result, r)
    rep = [a for a in row.axes if a.reported_mm is not None]
    parts = [f"{row.name}."]
    if rep:
        parts.append(
            "Reported: "
            + " x ".join(f"{a.reported_mm / 10.0:.1f}" for a in rep if a.reported_mm is not None)
            + f" cm ({' x '.join(a.axis for a in rep)})."
        )
    else:
        parts.append("The report gives no size.")
    parts.append(f"Measured on this CT: {row.size_text}.")
    if row.carries_level:
        parts.append(involvement_row(result).headline)
    return " ".join(parts)


def tour_steps(result: OverlayResult) -> list[TourStep]:
    """The tour of a fit: one step per finding shown on this CT, in the case file's order."""
    regions = {r.id: r for r in result.findings}
    points = {p.finding_id: p for p in result.points if p.finding_id is not None}
    entries = {e.key: e for e in finding_entries(result) if e.drawn and e.centre_lps is not None}
    steps: list[TourStep] = []
    for f in result.case.findings:
        entry = entries.get(f.id)
        if entry is None:
            continue
        if f.id in regions:
            r = regions[f.id]
            ext = r.extents_mm or {}
            longest = max(ext.values(), default=0.0)
            view = "coronal" if ext and ext.get("cc", 0.0) >= 2.5 * ext.get("lr", 1.0) else "axial"
            text = _region_text(result, r)
        else:
            p = points[f.id]
            longest = 0.0
            view = "axial"
            text = f"{f.name}: z = {p.position_lps[2]:.1f} mm (LPS)."
            if f.description:
                text += f" {f.description}"
        field_mm = max(MIN_FIELD_MM, FIELD_MARGIN * longest)
        steps.append(TourStep(entry, view, SOFT_TISSUE_WINDOW, field_mm, text))
    return steps


class FindingsTour:
    """Steps through :func:`tour_steps` with next and previous.

    Listener :attr:`changed` is called with the current :class:`TourStep`.

    Examples
    --------
    >>> tour = FindingsTour()
    >>> tour.current is None, tour.position_text()
    (True, 'No tour: fit an overlay first.')
    """

    def __init__(self) -> None:
        self.steps: tuple[TourStep, ...] = ()
        self.index = 0
        self.changed = Listeners()

    def set_result(self, result: OverlayResult | None) -> None:
        """Use the steps of ``result`` (none for None); the tour stays at its first step."""
        self.steps = () if result is None else tuple(tour_steps(result))
        self.index = 0

    @property
    def current(self) -> TourStep | None:
        """The step shown (None without steps)."""
        return self.steps[self.index] if self.steps else None

    def goto(self, index: int) -> TourStep | None:
        """Show step ``index`` (clamped to the steps)."""
        if not self.steps:
            return None
        self.index = max(0, min(int(index), len(self.steps) - 1))
        step = self.steps[self.index]
        self.changed.emit(step)
        return step

    def next(self) -> TourStep | None:
        """The next step (stays on the last)."""
        return self.goto(self.index + 1)

    def previous(self) -> TourStep | None:
        """The previous step (stays on the first)."""
        return self.goto(self.index - 1)

    def position_text(self) -> str:
        """``Step 2 of 3: <finding>``."""
        step = self.current
        if step is None:
            return "No tour: fit an overlay first."
        return f"Step {self.index + 1} of {len(self.steps)}: {step.entry.title}"
