"""``ivcviewer open PATH [--series UID]``: open a CT series or volume file in napari.

The input is checked first (it exists, is DICOM or a volume file, holds the series asked for),
so bad input gives one line and exit status 2 before napari starts. napari is imported only
inside :func:`run`, through :mod:`ivcviewer._napari.launch`: importing the command line never
imports napari or Qt.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
from pathlib import Path
from typing import Any

from ..errors import NoSeriesFoundError, OptionalDependencyError
from ..io.formats import path_kind
from ..report import ValidationMode
from .options import PATH_HELP, add_series_options

#: Module holding ``open_in_viewer(paths, ...)``; the only place napari is started from.
LAUNCH_MODULE = "ivcviewer._napari.launch"


def add_parser(subparsers: Any) -> None:
    """Register the ``open`` subcommand."""
    p = subparsers.add_parser(
        "open",
        help="open a DICOM folder, DICOM file or volume file in napari",
        description=(
            "Open PATH (a DICOM folder, DICOMDIR, DICOM file, or a .nii/.nii.gz/.nrrd/.nhdr/"
            ".mha/.mhd file) in a napari viewer, in mm, with the series' window and its "
            "geometry report. Blocks until the viewer is closed."
        ),
    )
    p.add_argument("path", metavar="PATH", help=PATH_HELP)
    add_series_options(
        p,
        series_help="open only this SeriesInstanceUID (see 'ivcviewer info PATH')",
        on_irregular_help="what to do with gaps, duplicate positions or uneven spacing in a "
        "DICOM stack (default: resample onto a regular grid and report it)",
        on_irregular_default=None,
        stacks=False,
    )
    p.set_defaults(func=run)


def check_input(path: str | Path, series_uid: str | None = None) -> Path:
    """Check ``path`` can be opened (headers only); returns it as a Path.

    Raises
    ------
    FileNotFoundError
        When nothing exists at ``path``.
    NoSeriesFoundError
        When ``path`` is not an accepted input, holds no series, or lacks ``series_uid``.
    VolumeFormatError
        When a volume file's header cannot be read.
    """
    p = Path(path)
    if path_kind(p) == "volume":
        if series_uid:
            raise NoSeriesFoundError(
                f"{p}: --series {series_uid!r} applies to DICOM input only; a volume file holds "
                "one volume. Leave --series out."
            )
        from ..io.volumes import read_volume_header

        read_volume_header(p)
        return p
    from ..dicom import scan  # imported here: volume files never need the DICOM package

    result = scan(p)
    uids = [s.series_uid for s in result.series]
    if not uids:
        raise NoSeriesFoundError(
            f"{p}: no image series found ({len(result.skipped)} files skipped); "
            "run 'ivcviewer info PATH' to see why."
        )
    if series_uid and series_uid not in uids:
        raise NoSeriesFoundError(
            f"{p}: no series with UID {series_uid!r}; it holds {', '.join(uids)}. "
            "Pick one with --series."
        )
    return p


def _launcher() -> Any:
    if importlib.util.find_spec("napari") is None:
        raise OptionalDependencyError(
            "Optional dependency 'napari' could not be imported but is required for "
            "'ivcviewer open'. Install it with: pip install 'ivcviewer[napari]'"
        )
    return importlib.import_module(LAUNCH_MODULE)


def run(args: argparse.Namespace) -> int:
    """Check the input, then open it in napari (blocks until the viewer closes)."""
    path = check_input(args.path, args.series)
    launch = _launcher()
    kwargs: dict[str, Any] = {}
    if args.series:
        kwargs["series_uid"] = args.series
    if getattr(args, "on_irregular", None):
        kwargs["on_irregular"] = ValidationMode(args.on_irregular)
    launch.open_in_viewer([str(path)], **kwargs)
    return 0
