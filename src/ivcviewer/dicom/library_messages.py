"""pydicom's own warnings and log records, collected instead of printed.

pydicom says what it finds odd in a file through :mod:`warnings` and through its ``pydicom``
logger, one line per element or record. ivcviewer reads thousands of files and speaks to the
user in one line per problem, so every pydicom call that reads a file runs inside
:func:`library_messages`, which gathers those lines into a list; the caller decides whether
they become part of a reason, a summary or nothing.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

#: Most messages one block keeps (a damaged DICOMDIR can log one per record).
MAX_MESSAGES = 50


class _Collector(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(level=logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING and len(self.into) < MAX_MESSAGES:
            self.into.append(record.getMessage())


@contextmanager
def library_messages() -> Iterator[list[str]]:
    """Collect pydicom's warnings and its logger's warnings into the list yielded.

    Nothing reaches stderr while the block runs; the ``pydicom`` logger's handlers and
    propagation are restored after it.

    >>> import warnings
    >>> with library_messages() as notes:
    ...     warnings.warn("Invalid value for VR UI")
    >>> notes
    ['Invalid value for VR UI']
    """
    notes: list[str] = []
    logger = logging.getLogger("pydicom")
    handler = _Collector(notes)
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield notes
        for w in caught:
            if len(notes) < MAX_MESSAGES:
                notes.append(str(w.message))
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def first_notes(notes: list[str], n: int = 2, width: int = 160) -> str:
    """The first ``n`` messages, each cut to ``width`` characters, joined by ``; ``.

    >>> first_notes(["a" * 10, "b"], width=4)
    'aaa...; b'
    """
    cut = [m if len(m) <= width else m[: width - 1] + "..." for m in notes[:n]]
    return "; ".join(cut)
