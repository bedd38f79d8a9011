"""Named views and CT window presets, without napari (the plan a viewer then applies).

Views follow the radiological convention on napari's world axes ``(z, y, x)`` (LPS reversed,
mm; see :func:`ivcviewer.geometry.lps_to_napari`):

- ``axial``: seen from the feet, anterior up and the patient's left on the right of the screen;
- ``coronal``: seen from the front, head up and the patient's left on the right;
- ``sagittal``: seen from the patient's left, head up and anterior on the left;
- ``3d``: an anterior view of the volume, head up.

Images are displayed on their canonical grid (array axes towards ``(S, P, L)``,
:meth:`ivcviewer.volume.Volume.to_canonical`), so each 2D view slices one array axis. On an
oblique or gantry-tilted grid that axis is not exactly a patient axis: the plane follows the
data axes (:func:`view_axes` says so and by how much).

Window presets are ``(width, level)`` in HU; :func:`drag_window` maps a mouse drag to a new
window as radiology viewers do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .. import geometry

#: The named views, in the order of their keys and buttons.
VIEW_NAMES: tuple[str, ...] = ("axial", "coronal", "sagittal", "3d")

#: Names of napari's world axes ``(z, y, x)`` as patient directions (positive sense).
_WORLD_AXIS_NAMES: tuple[str, str, str] = ("S", "P", "L")

#: Beyond this angle (degrees) between a data axis and its patient axis a grid is oblique.
OBLIQUE_TOLERANCE_DEG = 0.5


@dataclass(frozen=True)
class ViewSpec:
    """How napari shows one named view.

    Attributes
    ----------
    name
        One of :data:`VIEW_NAMES`.
    ndisplay
        2 or 3.
    order
        ``viewer.dims.order`` (world axes; the last two are displayed vertical, horizontal).
    orientation2d
        The 2D camera's ``(vertical, horizontal)`` orientation (napari's names).
    view_direction, up_direction
        The 3D camera's viewing and up directions in world ``(z, y, x)`` (3D only).
    orientation3d
        The 3D camera's orientation (depth, vertical, horizontal): depth ``away`` renders
        the left-handed ``(z, y, x)`` world as a rotation of the patient, not a mirror image.
    """

    name: str
    ndisplay: int
    order: tuple[int, int, int]
    orientation2d: tuple[str, str] = ("down", "right")
    view_direction: tuple[float, float, float] | None = None
    up_direction: tuple[float, float, float] | None = None
    orientation3d: tuple[str, str, str] = ("away", "down", "right")


#: The view of each name. Axial: rows posterior going down, so anterior is up; columns left
#: going right. Coronal/sagittal: superior (world z) up; sagittal's posterior goes right.
VIEW_SPECS: dict[str, ViewSpec] = {
    "axial": ViewSpec("axial", 2, (0, 1, 2), ("down", "right")),
    "coronal": ViewSpec("coronal", 2, (1, 0, 2), ("up", "right")),
    "sagittal": ViewSpec("sagittal", 2, (2, 0, 1), ("up", "right")),
    # anterior view: look along +y (posterior), head (+z, napari axis 0) up
    "3d": ViewSpec(
        "3d", 3, (0, 1, 2), view_direction=(0.0, 1.0, 0.0), up_direction=(1.0, 0.0, 0.0)
    ),
}


def view_spec(name: str) -> ViewSpec:
    """The :class:`ViewSpec` of a view name.

    Raises
    ------
    ValueError
        For a name not in :data:`VIEW_NAMES`.
    """
    if name not in VIEW_SPECS:
        raise ValueError(
            f"Argument 'view' must be one of {VIEW_NAMES}, got {name!r}; choose one of those."
        )
    return VIEW_SPECS[name]


@dataclass(frozen=True)
class ViewAxes:
    """Which data axis of a displayed grid a 2D view slices and shows.

    Attributes
    ----------
    view
        The view name.
    sliced
        The data axis the slider moves through.
    vertical, horizontal
        The data axes shown down and across the screen.
    oblique_deg
        The largest angle (degrees) between a data axis of the grid and its patient axis.
    """

    view: str
    sliced: int
    vertical: int
    horizontal: int
    oblique_deg: float

    @property
    def follows_data_axes(self) -> bool:
        """Whether the plane is tilted from the patient axes (an oblique or tilted grid)."""
        return self.oblique_deg > OBLIQUE_TOLERANCE_DEG

    def note(self) -> str:
        """A one-line note for the view: empty on an orthogonal grid."""
        if not self.follows_data_axes:
            return ""
        return (
            f"{self.view}: the plane follows the data axes (grid tilted "
            f"{self.oblique_deg:.1f} deg from the patient axes)"
        )


def axis_angles_deg(affine: ArrayLike) -> tuple[float, float, float]:
    """The angle (degrees) of each data axis ``(slice, row, col)`` from its nearest LPS axis.

    >>> axis_angles_deg(np.diag([2.0, 1.0, 1.0, 1.0]))
    (0.0, 0.0, 0.0)
    """
    a = np.asarray(geometry.as_affine(affine), dtype=float)[:3, :3]
    cols = a / np.linalg.norm(a, axis=0, keepdims=True)
    cos = np.clip(np.abs(cols).max(axis=0), -1.0, 1.0)
    deg = np.degrees(np.arccos(cos))
    return (float(deg[0]), float(deg[1]), float(deg[2]))


def view_axes(affine: ArrayLike, view: str) -> ViewAxes:
    """The data axes a 2D view shows for a grid with ``affine`` (data index -> LPS).

    Each data axis is matched to the patient axis it points most towards; the view slices
    the data axis of its own through-plane direction (axial: S, coronal: P, sagittal: L).

    >>> va = view_axes(np.diag([0.7, 0.7, 2.5, 1.0]), "coronal")  # (L, P, S) grid
    >>> va.sliced, va.vertical, va.horizontal
    (1, 2, 0)
    """
    spec = view_spec(view)
    if spec.ndisplay != 2:
        raise ValueError(f"Argument 'view' must be a 2D view, got {view!r}.")
    ornt = geometry.voxel_axis_orientation(affine)
    data_axis_of_world = {2 - int(lps): k for k, (lps, _) in enumerate(ornt)}
    sliced, vertical, horizontal = (data_axis_of_world[w] for w in spec.order)
    return ViewAxes(view, sliced, vertical, horizontal, max(axis_angles_deg(affine)))


# ---------------------------------------------------------------------------------------------
# window / level
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowPreset:
    """A named CT window: ``width`` and ``level`` (centre) in HU."""

    name: str
    width: float
    level: float

    @property
    def limits(self) -> tuple[float, float]:
        """Contrast limits ``(level - width / 2, level + width / 2)``."""
        return window_limits(self.width, self.level)


#: Name of the preset that restores the series' own window.
SERIES_PRESET = "series"

#: The CT presets (keys 1-5; the series' own window is key 6).
WINDOW_PRESETS: dict[str, WindowPreset] = {
    p.name: p
    for p in (
        WindowPreset("soft tissue", 400.0, 40.0),
        WindowPreset("liver", 150.0, 90.0),
        WindowPreset("lung", 1500.0, -600.0),
        WindowPreset("bone", 2500.0, 480.0),
        WindowPreset("brain", 80.0, 40.0),
    )
}

#: All preset names in key order (1-6), the series' own last.
PRESET_NAMES: tuple[str, ...] = (*WINDOW_PRESETS, SERIES_PRESET)

#: HU shown black to white in 3D views of CT (maximum intensity projection): bone and
#: contrast-filled vessels stand out; in a 2D window such as 400/40 the projection is all white.
MIP_LIMITS_3D: tuple[float, float] = (150.0, 1500.0)

#: The narrowest window a drag can reach (HU).
MIN_WIDTH = 1.0


def window_limits(width: float, level: float) -> tuple[float, float]:
    """Contrast limits of a window.

    >>> window_limits(400, 40)
    (-160.0, 240.0)
    """
    return (float(level) - float(width) / 2.0, float(level) + float(width) / 2.0)


def limits_window(limits: ArrayLike) -> tuple[float, float]:
    """``(width, level)`` of contrast limits ``(low, high)``.

    >>> limits_window((-160, 240))
    (400.0, 40.0)
    """
    lo, hi = (float(v) for v in np.asarray(limits, dtype=float).ravel()[:2])
    return (hi - lo, (hi + lo) / 2.0)


def resolve_window(
    preset: str | tuple[float, float], series_window: tuple[float, float] | None = None
) -> tuple[float, float]:
    """``(width, level)`` of a preset name, of ``(width, level)``, or of the series' own.

    Parameters
    ----------
    preset
        A name of :data:`PRESET_NAMES` or a ``(width, level)`` pair in HU.
    series_window
        The series' own ``(width, level)``, needed for :data:`SERIES_PRESET`.

    Raises
    ------
    ValueError
        For an unknown name, a non-positive width or a missing series window.

    >>> resolve_window("lung"), resolve_window((350, 50))
    ((1500.0, -600.0), (350.0, 50.0))
    """
    if isinstance(preset, str):
        if preset == SERIES_PRESET:
            if series_window is None:
                raise ValueError("The series has no window of its own; choose a named preset.")
            width, level = series_window
        elif preset in WINDOW_PRESETS:
            p = WINDOW_PRESETS[preset]
            width, level = p.width, p.level
        else:
            raise ValueError(
                f"Argument 'preset' must be one of {PRESET_NAMES} or (width, level), "
                f"got {preset!r}."
            )
    else:
        width, level = (float(v) for v in preset)
    if not width > 0:
        raise ValueError(f"A window's width must be positive (HU), got {width}.")
    return (float(width), float(level))


def drag_window(
    start: tuple[float, float], dx: float, dy: float, hu_per_pixel: float | None = None
) -> tuple[float, float]:
    """The window after a mouse drag of ``(dx, dy)`` screen pixels from ``start``.

    As in radiology viewers: dragging right widens the window (less contrast), left narrows
    it; dragging down raises the level (the image darkens), up lowers it. The step scales with
    the starting width (``width / 256`` HU per pixel, at least 1) unless ``hu_per_pixel`` is
    given; the width never drops below :data:`MIN_WIDTH`.

    >>> drag_window((400.0, 40.0), 10, 0, hu_per_pixel=2)
    (420.0, 40.0)
    >>> drag_window((400.0, 40.0), 0, -5, hu_per_pixel=2)
    (400.0, 30.0)
    """
    width, level = float(start[0]), float(start[1])
    step = max(width / 256.0, 1.0) if hu_per_pixel is None else float(hu_per_pixel)
    return (max(width + dx * step, MIN_WIDTH), level + dy * step)


def window_text(width: float, level: float) -> str:
    """The window as shown while it changes.

    >>> window_text(400, 40)
    'W 400 / L 40 HU'
    """
    return f"W {width:.0f} / L {level:.0f} HU"
