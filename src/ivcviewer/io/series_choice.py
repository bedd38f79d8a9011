"""The ``--series`` selector: a SeriesInstanceUID, or one stack of it as ``UID:N``.

A SeriesInstanceUID split into several stacks (phases, echoes, reformats: see
:mod:`ivcviewer.dicom.split`) labels each ``stack N of M: ...``; ``UID:N`` chooses stack ``N``
(counted from 1, as ``ivcviewer info`` lists it). A UID holds only digits and dots, so the
colon cannot be part of one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import NoSeriesFoundError

#: Separates the UID from the stack number in a selector.
STACK_SEPARATOR = ":"

_STACK_LABEL = re.compile(r"^stack (\d+) of (\d+)\b")


@dataclass(frozen=True)
class SeriesChoice:
    """A parsed selector: the UID and, when one stack is chosen, its number (from 1)."""

    uid: str
    stack: int | None = None

    def __str__(self) -> str:
        return self.uid if self.stack is None else f"{self.uid}{STACK_SEPARATOR}{self.stack}"


def parse_series_choice(text: str, option: str = "--series") -> SeriesChoice:
    """``UID`` or ``UID:N`` as a :class:`SeriesChoice`.

    >>> parse_series_choice("1.2.3:2")
    SeriesChoice(uid='1.2.3', stack=2)
    >>> parse_series_choice("1.2.3").stack is None
    True

    Raises
    ------
    NoSeriesFoundError
        The UID is empty or the stack number is not a whole number from 1.
    """
    uid, sep, number = str(text).strip().rpartition(STACK_SEPARATOR)
    if not sep:
        uid, number = number, ""
    if not uid or (sep and not (number.isdigit() and int(number) >= 1)):
        raise NoSeriesFoundError(
            f"{option} {text!r}: not a series selector; give a SeriesInstanceUID, or UID"
            f"{STACK_SEPARATOR}N for stack N (from 1) of a UID split into stacks, as "
            "'ivcviewer info PATH' lists them."
        )
    return SeriesChoice(uid, int(number) if sep else None)


def stack_number(stack_label: str) -> int | None:
    """The stack's number (from 1) in its label ``stack N of M: ...``; None when unsplit.

    >>> stack_number("stack 2 of 3: acquisition 2")
    2
    """
    m = _STACK_LABEL.match(stack_label or "")
    return None if m is None else int(m.group(1))


def series_selector(series_uid: str, stack_label: str = "") -> str:
    """What ``--series`` takes to choose this stack: ``UID``, or ``UID:N`` for a split UID.

    >>> series_selector("1.2.3", "stack 2 of 3: echo 2")
    '1.2.3:2'
    """
    n = stack_number(stack_label)
    return str(SeriesChoice(series_uid, n))


__all__ = [
    "STACK_SEPARATOR",
    "SeriesChoice",
    "parse_series_choice",
    "series_selector",
    "stack_number",
]
