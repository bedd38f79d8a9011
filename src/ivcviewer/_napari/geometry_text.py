"""What the geometry report widget and the load notification say about a CT, as plain values.

:func:`geometry_summary` is the dict the Image layer carries in ``metadata["geometry"]`` (and the
geometry report widget shows); :func:`report_summary_text` is the notification shown on load;
:func:`window_to_limits` turns a window into contrast limits.
"""

from __future__ import annotations

from typing import Any

from .. import geometry
from ..volume import Volume

#: Report codes that describe gaps or uneven slice spacing.
GAP_CODES: tuple[str, ...] = ("missing_slices", "duplicate_positions", "irregular_spacing")


def _orientation_name(slice_axis_code: str) -> str:
    """``axial``, ``coronal`` or ``sagittal`` from the LPS letter of the slice axis."""
    return {"S": "axial", "I": "axial", "P": "coronal", "A": "coronal"}.get(
        slice_axis_code, "sagittal"
    )


def geometry_summary(volume: Volume) -> dict[str, Any]:
    """What the geometry report widget and the load notification show, as plain values.

    Parameters
    ----------
    volume
        The volume as loaded (acquisition order, before :meth:`Volume.to_canonical`).

    Returns
    -------
    dict
        ``shape`` and ``spacing_mm`` (slice, row, col), ``axes`` (LPS letters of the voxel axes),
        ``orientation`` (axial / coronal / sagittal, plus oblique when the plane is), ``tilt_deg``
        (shear of the grid as loaded), ``tilt_reported`` (the acquisition was tilted),
        ``resampled`` (the loader interpolated), ``gaps`` (messages of gap-like report items,
        empty when the stack is regular),
        ``rescale`` (``"applied"``, ``"missing"`` or ``"not reported"``), ``window`` (center,
        width) and ``report`` (list of ``{code, severity, message}``).
    """
    axes = geometry.axis_codes(volume.affine)
    report = volume.report
    codes = set(report.codes)
    if volume.metadata.rescale_applied or "rescale_applied" in codes:
        rescale = "applied"
    elif "no_rescale" in codes:
        rescale = "missing"
    else:
        rescale = "not reported"
    orientation = _orientation_name(axes[0])
    if "oblique" in codes:
        orientation += " (oblique)"
    return {
        "shape": list(volume.shape),
        "spacing_mm": [round(float(v), 4) for v in volume.spacing],
        "axes": "".join(axes),
        "orientation": orientation,
        "tilt_deg": round(geometry.gantry_tilt_deg(volume.affine), 3),
        "tilt_reported": "gantry_tilt" in codes,
        "resampled": "resampled" in codes,
        "gaps": [f"{i.code}: {i.message}" for i in report.items if i.code in GAP_CODES],
        "rescale": rescale,
        "window": tuple(float(v) for v in volume.metadata.window),
        "modality": volume.metadata.modality,
        "report": report.to_list(),
    }


def window_to_limits(center: float, width: float) -> tuple[float, float]:
    """Contrast limits ``(low, high)`` of a window ``(center, width)``.

    >>> window_to_limits(40, 400)
    (-160.0, 240.0)
    """
    return (float(center) - float(width) / 2.0, float(center) + float(width) / 2.0)


def layer_name(volume: Volume, default: str) -> str:
    """The series description, else the end of the series UID, else ``default``."""
    md = volume.metadata
    return md.description or (f"series {md.series_uid[-12:]}" if md.series_uid else default)


def report_summary_text(volume: Volume, name: str | None = None) -> str:
    """One notification text: the series, then each warning's code and message.

    Examples
    --------
    >>> import numpy as np
    >>> from ivcviewer import Volume
    >>> v = Volume(np.zeros((2, 3, 3), np.int16), np.eye(4))
    >>> v.report.add("gantry_tilt", "warning", "tilted 15 degrees")
    >>> print(report_summary_text(v, "CT"))
    CT: 1 geometry warning
      gantry_tilt: tilted 15 degrees
    """
    label = name or layer_name(volume, "CT")
    warnings = volume.report.warnings
    if not warnings:
        s = ", ".join(f"{v:.3g}" for v in volume.spacing)
        return f"{label}: geometry OK ({volume.shape[0]} slices, spacing {s} mm)"
    plural = "s" if len(warnings) > 1 else ""
    lines = [f"{label}: {len(warnings)} geometry warning{plural}"]
    lines += [f"  {i.code}: {i.message}" for i in warnings]
    return "\n".join(lines)
