"""The terminal's progress bar for long loads (shown only when stderr is a terminal)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from .._progress import LoadProgress, reporting_progress

#: Width of the bar in characters.
BAR_WIDTH = 30

#: Shortest time between two redraws, in seconds (the last state is always drawn).
REDRAW_SECONDS = 0.1


class TerminalBar:
    """Draws ``label [#####.....] done/total images`` on one line of ``stream``, redrawn in place.

    >>> import io
    >>> out = io.StringIO()
    >>> bar = TerminalBar(out, redraw_seconds=0)
    >>> bar(LoadProgress(2, 4, label="CT abdomen"))
    >>> bar(LoadProgress(4, 4, label="CT abdomen"))
    >>> out.getvalue().splitlines()[-1].split("\\r")[-1]
    'reading CT abdomen [##############################] 4/4 images'
    """

    def __init__(self, stream: TextIO, redraw_seconds: float = REDRAW_SECONDS) -> None:
        self._stream = stream
        self._redraw = redraw_seconds
        self._last = float("-inf")
        self._width = 0

    def __call__(self, p: LoadProgress) -> None:
        now = time.monotonic()
        finished = p.done >= p.total
        if not finished and now - self._last < self._redraw:
            return
        self._last = now
        filled = BAR_WIDTH * p.done // max(p.total, 1)
        label = p.label[:40] or "series"
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        text = f"reading {label} [{bar}] {p.done}/{p.total} images"
        self._stream.write("\r" + text.ljust(self._width) + ("\n" if finished else ""))
        self._stream.flush()
        self._width = 0 if finished else len(text)


@contextmanager
def terminal_progress(stream: TextIO) -> Iterator[None]:
    """Show a :class:`TerminalBar` on ``stream`` for loads run in the block, if it is a terminal."""
    is_terminal = getattr(stream, "isatty", None)
    if is_terminal is None or not is_terminal():
        yield
        return
    with reporting_progress(TerminalBar(stream)):
        yield
