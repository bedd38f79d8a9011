"""Entry point of the ``ivcviewer`` command.

Every subcommand is a module of this package with ``add_parser(subparsers)`` and
``run(args) -> int``. :func:`main` is the one boundary of the command line: any exception a
command raises becomes one line on stderr naming the input and exit status 2, never a
traceback (see :func:`ivcviewer.failures.failure_line`); warnings are collected while it runs.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType

from .. import __version__
from ..errors import IvcviewerError
from ..failures import WarningCollector, collecting_warnings, failure_line, is_path_like
from .options import cut_quoted_values
from .progress import terminal_progress

#: Subcommand modules, in the order ``--help`` lists them.
SUBCOMMANDS: tuple[str, ...] = (
    "info",
    "open_cmd",
    "phantom_cmd",
    "measure_cmd",
    "overlay_cmd",
    "case_cmd",
    "render_cmd",
    "export_cmd",
    "batch_cmd",
    "demo",
    "search_cmd",
    "fetch_cmd",
    "cache_cmd",
)

EXIT_OK = 0
EXIT_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse that exits with status 2 and one line, as the rest of the CLI does."""

    def error(self, message: str) -> None:  # type: ignore[override]
        message = cut_quoted_values(message)
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
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log progress to stderr; after an error, print its traceback",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for mod in _modules():
        mod.add_parser(sub)
    return parser


@dataclass(frozen=True)
class CommandInput:
    """A path a command was given: its option (``""`` for a positional argument) and value."""

    option: str
    given: str

    @property
    def shown(self) -> str:
        """How a message names it: ``--case a.yaml``, or ``ct/`` for a positional argument."""
        return f"{self.option} {self.given}".strip()


#: Arguments that hold a value but never a path.
_NOT_PATHS = frozenset({"command", "func", "verbose", "series"})

#: Most traceback frames (innermost first) searched for the input that failed.
_CULPRIT_FRAMES = 300


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser | None:
    for action in parser._actions:  # argparse keeps its sub-parsers only there
        if isinstance(action, argparse._SubParsersAction):
            found = action.choices.get(command)
            return found if isinstance(found, argparse.ArgumentParser) else None
    return None


def command_inputs(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[CommandInput]:
    """The paths ``args`` gives its command, positional arguments first (the main input).

    Flags, options with a fixed set of choices and typed options (numbers) are left out.
    """
    sub = _subparser(parser, str(getattr(args, "command", "")))
    if sub is None:
        return []
    positional: list[CommandInput] = []
    options: list[CommandInput] = []
    for action in sub._actions:
        if action.dest in _NOT_PATHS or action.nargs == 0 or action.choices is not None:
            continue
        if action.type not in (None, str, Path):
            continue
        value = getattr(args, action.dest, None)
        if value is None or not is_path_like(value):
            continue
        if action.option_strings:
            longest = max(action.option_strings, key=len)
            options.append(CommandInput(longest, os.fspath(value)))
        else:
            positional.append(CommandInput("", os.fspath(value)))
    return positional + options


def _frames_innermost_first(tb: TracebackType | None) -> list[dict[str, object]]:
    frames = [frame for frame, _ in traceback.walk_tb(tb)]
    frames = [f for f in frames if f.f_globals.get("__name__") != __name__]
    return [f.f_locals for f in reversed(frames[-_CULPRIT_FRAMES:])]


def _absolute(value: object) -> str | None:
    if not is_path_like(value):
        return None
    text = os.fspath(value)
    if not isinstance(text, str) or text in ("", "."):
        return None
    return os.path.normpath(os.path.abspath(text))


def culprit_input(exc: BaseException, inputs: Sequence[CommandInput]) -> str | None:
    """The input an exception was raised on, as a message names it, or None.

    The file an ``OSError`` names, else the innermost frame of the traceback that holds one
    of the inputs (or a file inside an input folder) in a local variable: a file inside a
    folder is named itself (``--ct ct/IM0005.dcm``).
    """
    known = [(i, root) for i in inputs if (root := _absolute(i.given)) is not None]
    filename = getattr(exc, "filename", None)
    candidates: list[object] = []
    if is_path_like(filename):  # a file error names its file: only that one is looked up
        candidates.append(filename)
    else:
        for local_vars in _frames_innermost_first(exc.__traceback__):
            candidates.extend(v for v in local_vars.values() if is_path_like(v))
    for value in candidates:
        path = _absolute(value)
        if path is None:
            continue
        for given, root in known:
            if path == root:
                return given.shown
            if path.startswith(root.rstrip(os.sep) + os.sep):
                inner = os.path.join(given.given, os.path.relpath(path, root))
                return f"{given.option} {inner}".strip()
    return os.fspath(filename) if is_path_like(filename) else None


#: Volume formats read by SimpleITK (see :mod:`ivcviewer.io.sitk_backend`).
_SIMPLEITK_FORMATS = ("nrrd", "metaimage")


def _quiet_native_warnings(inputs: Sequence[CommandInput]) -> None:
    """Turn off ITK's warnings (printed from C++ on stderr) when an input is read by SimpleITK.

    SimpleITK is imported only when it is installed and an input is an NRRD or MetaImage
    file, so that other commands do not pay for its import.
    """
    from ..io.formats import volume_format

    if not any(volume_format(i.given) in _SIMPLEITK_FORMATS for i in inputs):
        return
    if importlib.util.find_spec("SimpleITK") is None:
        return
    import SimpleITK

    SimpleITK.ProcessObject_SetGlobalWarningDisplay(False)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Whatever a command raises becomes one line on stderr and exit status 2 (with
    ``--verbose``, the traceback follows that line). Warnings are collected while the command
    runs: ivcviewer's own are printed after it succeeds, a library's are summarised (listed with
    ``--verbose``); none is printed when it fails.
    """
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    verbose = bool(args.verbose)
    inputs = command_inputs(parser, args)
    where = f"{args.command} {inputs[0].shown}" if inputs else str(args.command)
    with collecting_warnings(progress=sys.stderr if verbose else None) as seen:
        try:
            _quiet_native_warnings(inputs)
            with terminal_progress(sys.stderr):
                status = int(args.func(args))
        except KeyboardInterrupt:
            print("ivcviewer: interrupted", file=sys.stderr)
            return EXIT_ERROR
        except Exception as exc:  # the one boundary: every failure becomes one line
            culprit = culprit_input(exc, inputs)
            named = f"{args.command} {culprit}" if culprit else where
            print(f"ivcviewer: error: {failure_line(exc, named)}", file=sys.stderr)
            if verbose:
                _print_details(exc, seen)
            return EXIT_ERROR
    for message in seen.own:
        print(f"ivcviewer: warning: {message}", file=sys.stderr)
    if verbose:
        for message in seen.library:
            print(f"ivcviewer: warning: {message}", file=sys.stderr)
    else:
        summary = seen.library_summary(where)
        if summary is not None:
            print(f"ivcviewer: warning: {summary}", file=sys.stderr)
    return status


def _print_details(exc: BaseException, seen: WarningCollector) -> None:
    """What ``--verbose`` adds after the error line: the traceback, a child's stderr and the
    libraries' warnings."""
    if not isinstance(exc, IvcviewerError):
        sys.stderr.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    for text in seen.details:
        sys.stderr.write(text.rstrip("\n") + "\n")
    for message in seen.library:
        print(f"ivcviewer: warning: {message}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
