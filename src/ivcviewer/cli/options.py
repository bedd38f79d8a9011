"""Command-line options that several subcommands define alike."""

from __future__ import annotations

import argparse
import importlib
import re
from collections.abc import Iterator, Sequence
from typing import overload

from ..limits import Limits
from ..report import ValidationMode

#: Help of a PATH argument that takes any image input.
PATH_HELP = "DICOM folder, DICOMDIR, DICOM file or volume file"

#: Longest argument value quoted whole in a message; longer ones are cut, their length said.
ARG_QUOTE_CHARS = 40

#: A quoted value in one of argparse's own messages (``invalid choice: '...'``).
_QUOTED = re.compile(rf"'([^']{{{ARG_QUOTE_CHARS - 1},}})'")


def shown_arg(text: str) -> str:
    """An argument value as a message quotes it: ``repr``, cut short with its length said.

    >>> shown_arg("42")
    "'42'"
    >>> shown_arg("9" * 5000)
    "'99999999999999999999999999999999999999... (a text of 5,000 characters)"
    """
    from .._text import quote  # imported when a message needs it: it imports numpy

    return quote(text, Limits(max_quoted_chars=ARG_QUOTE_CHARS))


def cut_quoted_values(message: str) -> str:
    """``message`` with each long quoted value cut by :func:`shown_arg`.

    >>> cut_quoted_values("invalid choice: '" + "x" * 100 + "' (choose from 'a')")[-52:]
    "xxxx... (a text of 100 characters) (choose from 'a')"
    """
    return _QUOTED.sub(lambda m: shown_arg(m.group(1)), message)


def add_case_fit_inputs(
    parser: argparse.ArgumentParser, *, anatomy_help: str, phantom_truth_help: str
) -> None:
    """Add what a case's findings are fitted from: ``CT_PATH``, ``--case FILE`` and the anatomy.

    The anatomy is one of ``--anatomy LABELMAP`` (with ``--anatomy-names JSON``),
    ``--landmarks JSON`` or ``--phantom-truth DIR`` (required, mutually exclusive).

    >>> p = argparse.ArgumentParser()
    >>> add_case_fit_inputs(p, anatomy_help="a", phantom_truth_help="t")
    >>> sorted(vars(p.parse_args(["ct", "--case", "c.yaml", "--landmarks", "l.json"])).items())
    ... # doctest: +NORMALIZE_WHITESPACE
    [('anatomy', None), ('anatomy_names', None), ('case', 'c.yaml'), ('ct', 'ct'),
     ('landmarks', 'l.json'), ('phantom_truth', None)]
    """
    parser.add_argument(
        "ct", metavar="CT_PATH", help="the CT: DICOM folder or file, or a volume file"
    )
    parser.add_argument("--case", metavar="FILE", required=True, help="case file (YAML)")
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--anatomy", metavar="LABELMAP", help=anatomy_help)
    src.add_argument("--landmarks", metavar="JSON", help="landmarks JSON file (LPS mm)")
    src.add_argument(
        "--phantom-truth", metavar="DIR", dest="phantom_truth", help=phantom_truth_help
    )
    parser.add_argument(
        "--anatomy-names",
        metavar="JSON",
        dest="anatomy_names",
        help="label table of --anatomy (value -> name); default: <stem>_labels.json beside it",
    )


def add_series_options(
    parser: argparse.ArgumentParser,
    *,
    series_help: str,
    on_irregular_help: str,
    on_irregular_default: str | None = ValidationMode.RAISE.value,
    stacks: bool = True,
) -> None:
    """Add ``--series UID[:N]`` and ``--on-irregular MODE`` (how a DICOM stack is checked).

    ``--series`` picks one SeriesInstanceUID, or stack ``N`` of a UID split into stacks
    (:mod:`ivcviewer.io.series_choice`; default None; ``stacks=False``: a UID only);
    ``--on-irregular`` takes a
    :class:`~ivcviewer.report.ValidationMode` value, ``on_irregular_default`` when not given.

    >>> p = argparse.ArgumentParser()
    >>> add_series_options(p, series_help="s", on_irregular_help="i")
    >>> vars(p.parse_args(["--on-irregular", "warn"]))
    {'series': None, 'on_irregular': 'warn'}
    """
    if stacks:
        series_help += (
            "; UID:N takes stack N of a series split into stacks, as 'ivcviewer info' lists them"
        )
    parser.add_argument(
        "--series", metavar="UID[:N]" if stacks else "UID", default=None, help=series_help
    )
    parser.add_argument(
        "--on-irregular",
        choices=[m.value for m in ValidationMode],
        default=on_irregular_default,
        help=on_irregular_help,
    )


class LazyChoices(Sequence[str]):
    """The choices of an option, read from ``module.name`` when argparse first needs them.

    argparse only looks at choices when it parses that subcommand or shows its help, so
    registering every subcommand (``ivcviewer --help``) does not import ``module``.

    >>> c = LazyChoices("ivcviewer.report", "ValidationMode")
    >>> list(c)[:1], "warn" in c
    (['raise'], True)
    """

    def __init__(self, module: str, name: str) -> None:
        self._module, self._name = module, name
        self._cached: tuple[str, ...] | None = None

    def _values(self) -> tuple[str, ...]:
        if self._cached is None:
            found = getattr(importlib.import_module(self._module), self._name)
            self._cached = tuple(str(getattr(v, "value", v)) for v in found)
        return self._cached

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._values()[index]

    def __len__(self) -> int:
        return len(self._values())

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __contains__(self, value: object) -> bool:
        return value in self._values()
