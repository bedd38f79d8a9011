"""Command-line options that several subcommands define alike."""

from __future__ import annotations

import argparse

from ..report import ValidationMode

#: Help of a PATH argument that takes any image input.
PATH_HELP = "DICOM folder, DICOMDIR, DICOM file or volume file"


def add_series_options(
    parser: argparse.ArgumentParser,
    *,
    series_help: str,
    on_irregular_help: str,
    on_irregular_default: str | None = ValidationMode.RAISE.value,
) -> None:
    """Add ``--series UID`` and ``--on-irregular MODE`` (how a DICOM stack is checked).

    ``--series`` picks one SeriesInstanceUID (default None); ``--on-irregular`` takes a
    :class:`~ivcviewer.report.ValidationMode` value, ``on_irregular_default`` when not given.

    >>> p = argparse.ArgumentParser()
    >>> add_series_options(p, series_help="s", on_irregular_help="i")
    >>> vars(p.parse_args(["--on-irregular", "warn"]))
    {'series': None, 'on_irregular': 'warn'}
    """
    parser.add_argument("--series", metavar="UID", default=None, help=series_help)
    parser.add_argument(
        "--on-irregular",
        choices=[m.value for m in ValidationMode],
        default=on_irregular_default,
        help=on_irregular_help,
    )
