"""Open one CT series from any path ivcviewer reads."""

from __future__ import annotations

from pathlib import Path

from ..errors import NoSeriesFoundError
from ..failures import cut
from ..io import open_path
from ..io.formats import path_kind
from ..io.series_choice import SeriesChoice, parse_series_choice, series_selector
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
        The series to take from a folder that holds several: its SeriesInstanceUID, or
        ``UID:N`` for stack ``N`` (from 1) of a UID split into stacks (phases, echoes,
        reformats), as ``ivcviewer info`` lists them (:mod:`ivcviewer.io.series_choice`).
    on_irregular
        What to do with gaps, duplicate positions or uneven spacing in a DICOM stack.
    option
        How the caller names ``path`` in messages (``CT_PATH``, ``--ct``, a layer name).

    Raises
    ------
    NoSeriesFoundError
        ``path`` holds several series or stacks and ``series`` chooses none: the message lists
        them with the selector that chooses each (``--series UID`` or ``--series UID:N``);
        ``series`` is malformed or names a stack the UID does not have.
    """
    choice = parse_series_choice(series) if series else None
    if choice is not None and choice.stack is not None and path_kind(Path(path)) != "volume":
        return _open_stack(Path(path), choice, ValidationMode(on_irregular), option)
    uid = None if choice is None else choice.uid
    vols = open_path(path, series_uid=uid, on_irregular=on_irregular)
    if len(vols) > 1:
        listed = ", ".join(
            f"{cut(_selector(v), 74)} "
            f"({cut(v.metadata.description or 'no description', 70)}, {v.shape[0]} slices)"
            for v in vols[:3]
        )
        more = f" and {len(vols) - 3} more" if len(vols) > 3 else ""
        what = "stacks" if uid else "series"
        raise NoSeriesFoundError(
            f"{option} {path}: holds {len(vols)} {what} ({listed}{more}), and one CT is needed. "
            "Fix: choose one with --series UID, or --series UID:N for stack N of a split series."
        )
    return vols[0]


def _selector(vol: Volume) -> str:
    """The ``--series`` value that chooses ``vol`` (``?`` for a series without a UID)."""
    label = str(vol.metadata.extra.get("stack_label", "") or "")
    return series_selector(vol.metadata.series_uid or "?", label)


def _open_stack(path: Path, choice: SeriesChoice, mode: ValidationMode, option: str) -> Volume:
    """Stack ``choice.stack`` of ``choice.uid`` under ``path``, the other stacks left unread."""
    # Imported here: volume files never need the DICOM package.
    from ..dicom import scan
    from ..dicom.load import load_scanned
    from ..limits import default_limits

    limits = default_limits()
    result = scan(path, limits=limits)
    stacks = result.get(choice.uid)
    if not stacks:  # the loader's own message: which series there are
        return open_path(path, series_uid=choice.uid, on_irregular=mode)[0]
    n = int(choice.stack or 1)
    if n > len(stacks):
        labels = "; ".join(
            f"{k}: {cut(s.description or 'no description', 60)}"
            for k, s in enumerate(stacks[:3], start=1)
        )
        more = f"; and {len(stacks) - 3} more" if len(stacks) > 3 else ""
        raise NoSeriesFoundError(
            f"{option} {path}: --series {cut(str(choice), 80)}: SeriesInstanceUID "
            f"{cut(choice.uid, 70)} holds {len(stacks)} stack(s) ({labels}{more}), not {n}. "
            f"Fix: choose a stack from 1 to {len(stacks)} (UID:1 to UID:{len(stacks)})."
        )
    return load_scanned(result, stacks[n - 1], on_irregular=mode, limits=limits)
