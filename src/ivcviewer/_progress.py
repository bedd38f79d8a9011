"""Progress of long reads: what a loader reports, and who listens by default.

The DICOM loader reports each stack's filling through :class:`LoadProgress`. A caller passes
a callback explicitly (``load_dicom(..., progress=...)``), or installs one for everything run
inside a ``with reporting_progress(callback):`` block (the command line's terminal bar), so that
the readers in between need not pass it along. Kept free of numpy so that the command line can
install its bar without importing the loader.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LoadProgress:
    """How far the reading of a stack's pixels has come.

    ``array`` is the volume being filled; its first ``rows_ready`` rows already hold their
    values (HU when the stack loads as int16), the rest still hold zeros. The volume the
    loader returns may still differ from it (resampling, float conversion), so it is for a
    preview only. ``array`` is None while the order of the filled rows is unknown (frames
    decoded by helper processes). ``label`` names the stack (its series description).
    """

    done: int
    total: int
    array: Any = None
    rows_ready: int = 0
    label: str = ""


#: Called with a :class:`LoadProgress` as images are read.
ProgressCallback = Callable[[LoadProgress], None]

_DEFAULT: ContextVar[ProgressCallback | None] = ContextVar("ivcviewer_progress", default=None)


def default_progress() -> ProgressCallback | None:
    """The callback installed by the innermost :func:`reporting_progress` block, or None."""
    return _DEFAULT.get()


@contextmanager
def reporting_progress(callback: ProgressCallback | None) -> Iterator[None]:
    """Report the progress of loads run inside the block (that get no callback) to ``callback``.

    >>> seen = []
    >>> with reporting_progress(seen.append):
    ...     default_progress() is not None
    True
    >>> default_progress() is None
    True
    """
    token = _DEFAULT.set(callback)
    try:
        yield
    finally:
        _DEFAULT.reset(token)
