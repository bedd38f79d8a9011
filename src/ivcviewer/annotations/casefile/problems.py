"""What is wrong with a case file, and the one place where that becomes a :class:`CaseFileError`.

The checks of the case-file models raise :class:`SchemaProblem` (a ``ValueError``, so pydantic
collects it as a ``value_error`` and keeps the exception). :func:`case_file_error` turns the
first problem of a pydantic ``ValidationError`` into the message every case-file error has::

    FILE: field 'PATH': PROBLEM, got VALUE. Fix: FIX

Examples
--------
>>> field_path(("findings", 0, "measurements", 1, "unit"))
'findings[0].measurements[1].unit'
>>> str(SchemaProblem("must be true or false", "write true or false", "yes"))
"must be true or false, got 'yes'. Fix: write true or false"
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..._text import quote
from ...errors import CaseFileError
from ...limits import Limits

#: The reference a fix points to.
REFERENCE = "docs/case-file.md"


class _NoValue:
    """Marks a problem that shows no offending value (a missing field, an unknown key)."""

    def __repr__(self) -> str:
        return "NO_VALUE"


#: The value of a problem that has none to show.
NO_VALUE: Any = _NoValue()


class SchemaProblem(ValueError):
    """One broken rule of the case-file schema, found while validating a part of the file.

    Parameters
    ----------
    problem
        What is wrong, worded to follow the field path (``"must be a number"``).
    fix
        How to correct it. None for a required field that is absent: the fix then says where
        to add it, which only the full field path tells.
    value
        The offending value, shown as ``got VALUE``; :data:`NO_VALUE` shows none.
    at
        The path of the field below the part being validated (keys and list indices), empty
        when the problem is the part itself.
    """

    def __init__(
        self,
        problem: str,
        fix: str | None,
        value: Any = NO_VALUE,
        at: Sequence[str | int] = (),
    ) -> None:
        self.problem = problem
        self.fix = fix
        self.value = value
        self.at = tuple(at)
        super().__init__(f"{problem}{_got(value)}. Fix: {fix or 'add it'}")

    @classmethod
    def missing(cls, at: Sequence[str | int]) -> SchemaProblem:
        """A required field that is absent (or null)."""
        return cls("is missing (it is required)", None, at=at)


def _got(value: Any, limits: Limits | None = None) -> str:
    """``, got VALUE`` with the value cut short (:func:`ivcviewer._text.quote`), or nothing."""
    return "" if value is NO_VALUE else f", got {quote(value, limits)}"


def field_path(loc: Sequence[str | int]) -> str:
    """The dotted field path of a location: keys joined by ``.``, list indices as ``[i]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def add_field_fix(loc: Sequence[str | int]) -> str:
    """The fix for a missing field at ``loc``: add its key under its parent."""
    parent = field_path(loc[:-1])
    return f"add '{loc[-1]}:' under '{parent or 'the top level'}' (the reference is {REFERENCE})"


def message(
    path: Path, loc: Sequence[str | int], problem: SchemaProblem, limits: Limits | None = None
) -> str:
    """The full message of ``problem`` at ``loc`` of the case file ``path``.

    The offending value and each key of the field path are cut short (``limits``).
    """
    fix = problem.fix if problem.fix is not None else add_field_fix(loc)
    where = field_path([_cut_key(part, limits) for part in loc])
    return f"{path}: field '{where}': {problem.problem}{_got(problem.value, limits)}. Fix: {fix}"


def _cut_key(part: str | int, limits: Limits | None) -> str | int:
    """A key of a field path, cut short when it is long (a key may be any text of the file)."""
    if isinstance(part, int):
        return part
    text = str(part)
    most = (limits if limits is not None else Limits()).max_quoted_chars
    return text if len(text) <= most else f"{text[: most - 3]}..."


def _as_problem(error: Any) -> tuple[tuple[str | int, ...], SchemaProblem]:
    """The location and problem of one entry of ``ValidationError.errors()``."""
    loc = tuple(error["loc"])
    found = (error.get("ctx") or {}).get("error")
    if isinstance(found, SchemaProblem):
        return loc + found.at, found
    if error["type"] == "missing":
        return loc, SchemaProblem.missing(())
    # A check of pydantic's own (the models leave few of them): its wording, our format.
    return loc, SchemaProblem(
        str(error["msg"]).rstrip("."),
        f"correct it (the reference is {REFERENCE})",
        error.get("input", NO_VALUE),
    )


def case_file_error(
    path: Path, err: ValidationError, limits: Limits | None = None
) -> CaseFileError:
    """The :class:`CaseFileError` of the first problem pydantic found in the case file ``path``.

    Pydantic reports problems in the order it validates: the fields of each part in the order
    of the model, list items in file order, and the rules between fields of a part once its
    fields are valid. Only the first is reported.
    """
    loc, problem = _as_problem(err.errors(include_url=False)[0])
    return CaseFileError(message(path, loc, problem, limits))
