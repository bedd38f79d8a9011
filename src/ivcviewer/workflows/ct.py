"""Open one CT series from any path ivcviewer reads."""

from __future__ import annotations

from pathlib import Path

from ..errors import NoSeriesFoundError
from ..failures import cut
from ..io import open_path
from ..report import ValidationMode
from ..volume import Volume


def open_ct(
    path: str | Path,
    *,
    series: str | None = None,
    on_irregular: ValidationMode = ValidationMode.RAISE,
    option: str = "CT_PATH",
) -> Volume:
    """The one volume at ``path`` (anything :func:`ivcviewer.io.open_path` reads).

    Parameters
    ----------
    path
        A DICOM folder, file or DICOMDIR, or a NIfTI / NRRD / MHA volume.
    series
        SeriesInstanceUID to take from a folder that holds several series.
    on_irregular
        What to do with gaps, duplicate positions or uneven spacing in a DICOM stack.
    option
        How the caller names ``path`` in messages (``CT_PATH``, ``--ct``, a layer name).

    Raises
    ------
    NoSeriesFoundError
        ``path`` holds several series and ``series`` chooses none: the message lists them and
        asks for one with ``--series UID``.
    """
    vols = open_path(path, series_uid=series, on_irregular=on_irregular)
    if len(vols) > 1:
        listed = ", ".join(
            f"{cut(v.metadata.series_uid or '?', 70)} "
            f"({cut(v.metadata.description or 'no description', 70)}, {v.shape[0]} slices)"
            for v in vols[:3]
        )
        more = f" and {len(vols) - 3} more" if len(vols) > 3 else ""
        raise NoSeriesFoundError(
            f"{option} {path}: holds {len(vols)} series ({listed}{more}), and one CT is needed. "
            "Fix: choose one with --series UID."
        )
    return vols[0]
