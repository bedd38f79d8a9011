"""Entry point of the ``ivcviewer`` command.

Every subcommand is a module of this package with ``add_parser(subparsers)`` and
``run(args) -> int``. Domain errors and file errors become one line on stderr and a non-zero
exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType
from typing import TextIO

from .. import __version__
from ..errors import IvcviewerError

#: Subcommand modules, in the order ``--help`` lists them.
SUBCOMMANDS: tuple[str, ...] = (
    "info",
    "open_cmd",
    "phantom_cmd",
    "measure_cmd",
    "overlay_cmd",
    "demo",
)

EXIT_OK = 0
EXIT_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse that exits with status 2 and one line, as the rest of the CLI does."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_ERROR, f"ivcviewer: error: {message} (see '{self.prog} --help')\n")


def _modules() -> list[ModuleType]:
    return [importlib.import_module(f"{__package__}.{name}") for name in SUBCOMMANDS]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (one sub-parser per subcommand module)."""
    parser = _Parser(
        prog="ivcviewer",
        description="Open CT series, place a case report's findings on them, measure them.",
    )
    parser.add_argument("--version", action="version", version=f"ivcviewer {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for mod in _modules():
        mod.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="ivcviewer: %(message)s",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = _show_warning
        try:
            return int(args.func(args))
        except IvcviewerError as exc:
            print(f"ivcviewer: error: {exc}", file=sys.stderr)
        except FileNotFoundError as exc:
            print(f"ivcviewer: error: no such file or folder: {exc.filename}", file=sys.stderr)
        except PermissionError as exc:
            print(f"ivcviewer: error: permission denied: {exc.filename}", file=sys.stderr)
        except OSError as exc:
            print(f"ivcviewer: error: {exc}", file=sys.stderr)
        except KeyboardInterrupt:
            print("ivcviewer: interrupted", file=sys.stderr)
    return EXIT_ERROR


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    print(f"ivcviewer: warning: {message}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
