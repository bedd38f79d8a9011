"""How failures and warnings are reported: one line per failure, warnings collected.

ivcviewer's domain errors (:mod:`ivcviewer.errors`) already say the file, the rule and the fix.
Anything else that escapes a reader (a library's ``ValueError``, ``KeyError``,
``struct.error``, ``RecursionError``, ``MemoryError``, a native decoder's ``RuntimeError``, ...)
is still shown as one line naming the input, with the exception's type and the start of its
message in parentheses, and what to do (:func:`failure_line`). The command line, the napari
reader and widgets and the child processes all use these lines. Warnings are collected, never
printed raw (:func:`collecting_warnings`): ivcviewer's own (a ``UserWarning`` issued by
ivcviewer code, or a WARNING record of an ``ivcviewer`` logger) are kept to be shown when the
work succeeds; a library's warnings and log records (pydicom logs through the ``pydicom``
logger) are kept apart, to be summarised or listed.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO, TypeGuard

from .errors import IvcviewerError

#: What to do about a failure nobody foresaw.
UNEXPECTED_FIX = (
    "check that the file is not damaged; if it is valid, report this as a bug with the file."
)

#: Longest piece of an exception's message quoted in a line.
MAX_DETAIL_CHARS = 120

#: Warning categories meant for developers, never shown to users.
_DEVELOPER_WARNINGS: tuple[type[Warning], ...] = (
    DeprecationWarning,
    PendingDeprecationWarning,
    ImportWarning,
    ResourceWarning,
)


def cut(text: str, max_chars: int = MAX_DETAIL_CHARS) -> str:
    """``text`` on one line, cut to ``max_chars`` with ``...``.

    >>> cut("a\\n  b"), cut("x" * 10, 6)
    ('a b', 'xxx...')
    """
    one_line = " ".join(text[: max_chars * 4].split())
    if len(one_line) <= max_chars:
        return one_line
    return one_line[: max_chars - 3] + "..."


def exception_type_name(cls: type[BaseException]) -> str:
    """The name of an exception type, with its package unless it is a builtin.

    >>> import struct, zlib
    >>> exception_type_name(KeyError), exception_type_name(struct.error)
    ('KeyError', 'struct.error')
    >>> exception_type_name(zlib.error)
    'zlib.error'
    """
    module = getattr(cls, "__module__", "") or ""
    name = getattr(cls, "__qualname__", cls.__name__)
    if module in ("builtins", "__main__", ""):
        return str(name)
    return f"{module.split('.')[0].lstrip('_') or module}.{name}"


def exception_summary(exc: BaseException, max_chars: int = MAX_DETAIL_CHARS) -> str:
    """``Type: message`` of ``exc``, its message on one line and cut short.

    >>> exception_summary(ValueError("bad\\nvalue"))
    'ValueError: bad value'
    >>> exception_summary(MemoryError())
    'MemoryError'
    """
    try:
        message = cut(str(exc), max_chars)
    except Exception:  # an exception whose str() fails still gets its type named
        message = ""
    name = exception_type_name(type(exc))
    return f"{name}: {message}" if message else name


def could_not_process(where: str, exc: BaseException) -> str:
    """The line for an exception that is not one of ivcviewer's domain errors.

    >>> could_not_process("info ct.nii.gz", KeyError("xyzt"))  # doctest: +ELLIPSIS
    "info ct.nii.gz: could not be processed (KeyError: 'xyzt'). Fix: check that the file is ..."
    """
    return f"{where}: could not be processed ({exception_summary(exc)}). Fix: {UNEXPECTED_FIX}"


def _os_error_line(where: str, exc: OSError) -> str:
    """The line for a file-system error on ``where``."""
    if isinstance(exc, FileNotFoundError):
        return f"{where}: no such file or folder. Fix: check the path."
    if isinstance(exc, PermissionError):
        return f"{where}: permission denied. Fix: check its permissions, or give another path."
    if isinstance(exc, IsADirectoryError):
        return f"{where}: is a folder where a file is expected. Fix: give a file."
    if isinstance(exc, NotADirectoryError):
        return f"{where}: is not a folder (or a part of it is a file). Fix: give a folder."
    reason = cut(exc.strerror or exception_summary(exc))
    return f"{where}: could not be read or written ({reason}). Fix: check the path and the disk."


def failure_line(exc: BaseException, where: str) -> str:
    """One line for any exception raised while working on ``where`` (an input, or a step).

    ivcviewer's domain errors keep their own message (they already name the file); a file
    error that names its file says what is wrong with that file; anything else becomes
    :func:`could_not_process`. A file error names its own file when ``where`` does not.

    >>> failure_line(IsADirectoryError(21, "Is a directory", "cases"), "measure --case cases")
    'measure --case cases: is a folder where a file is expected. Fix: give a file.'
    """
    if isinstance(exc, IvcviewerError):
        return str(exc)
    filename = exc.filename if isinstance(exc, OSError) else None
    if isinstance(exc, OSError) and is_path_like(filename):
        named = os.fspath(filename)
        return _os_error_line(where if named in where else named, exc)
    return could_not_process(where, exc)


@dataclass
class WarningCollector:
    """Warnings and log records kept aside while some work runs.

    Attributes
    ----------
    own
        ivcviewer's own warnings, in order, each once.
    library
        A library's warnings and WARNING log records, as ``source: message``, each once.
    details
        ivcviewer log records meant to follow an error line (a child's traceback), verbatim.
    """

    own: list[str] = field(default_factory=list)
    library: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    def add_own(self, message: str) -> None:
        """Keep one of ivcviewer's warnings (once)."""
        if message not in self.own:
            self.own.append(message)

    def add_library(self, source: str, message: str) -> None:
        """Keep a library's warning, as ``source: message`` (once)."""
        text = f"{source}: {cut(message, 2 * MAX_DETAIL_CHARS)}"
        if text not in self.library:
            self.library.append(text)

    def library_summary(
        self, where: str, how_to_list: str = "run with --verbose to list them"
    ) -> str | None:
        """One line saying that libraries warned while reading ``where``, or None.

        >>> c = WarningCollector()
        >>> c.add_library("pydicom", "Invalid value for VR UI")
        >>> c.library_summary("info ct")  # doctest: +ELLIPSIS
        'info ct: the libraries that read it gave 1 warning (first: pydicom: Invalid value ...'
        """
        if not self.library:
            return None
        n = len(self.library)
        return (
            f"{where}: the libraries that read it gave {n} warning{'s' if n != 1 else ''} "
            f"(first: {cut(self.library[0])})" + (f"; {how_to_list}." if how_to_list else ".")
        )

    def showwarning(
        self,
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        """A replacement of :func:`warnings.showwarning` that keeps the warning."""
        if issubclass(category, _DEVELOPER_WARNINGS):
            return
        caller = _warning_caller()
        text = str(message)
        if _is_own(caller) and issubclass(category, UserWarning):
            self.add_own(text)
            return
        source = caller.split(".")[0] if caller and not _is_own(caller) else "python"
        self.add_library(source, f"{category.__name__}: {text}")


def _warning_caller() -> str:
    """The module that called :func:`warnings.warn` (the first frame outside ``warnings``)."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name not in ("warnings", __name__):
            return str(name)
        frame = frame.f_back  # type: ignore[assignment]
    return ""


#: Attribute of a log record that marks it as detail to show after an error line.
DETAIL_ATTRIBUTE = "ivcviewer_detail"


class _CollectingHandler(logging.Handler):
    """Keeps library records and ivcviewer warnings; prints ivcviewer progress (INFO)."""

    def __init__(self, collector: WarningCollector, stream: TextIO | None) -> None:
        super().__init__(logging.DEBUG)
        self.collector = collector
        self.stream = stream
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a record whose arguments do not format is still kept
            text = str(record.msg)
        if not _is_own(record.name):
            if record.levelno >= logging.WARNING:
                self.collector.add_library(record.name.split(".")[0], text)
            return
        if getattr(record, DETAIL_ATTRIBUTE, False):
            self.collector.details.append(text)
        elif record.levelno >= logging.WARNING:
            self.collector.add_own(text)
        elif self.stream is not None:
            self.stream.write(f"ivcviewer: {text}\n")
            self.stream.flush()


@contextmanager
def collecting_warnings(progress: TextIO | None = None) -> Iterator[WarningCollector]:
    """Keep every warning and log record raised inside the block in a :class:`WarningCollector`.

    ivcviewer's INFO records (progress) are written to ``progress`` when it is given (the
    command line's ``--verbose``), else dropped. A library's records reach no handler but the
    collector while the block runs (not even the library's own). The root logger's level and
    the warning filters are restored afterwards.

    >>> import warnings
    >>> with collecting_warnings() as seen:
    ...     logging.getLogger("pydicom").warning("Invalid value for VR UI")
    >>> seen.library
    ['pydicom: Invalid value for VR UI']
    """
    collector = WarningCollector()
    root = logging.getLogger()
    handler = _CollectingHandler(collector, progress)
    old_level = root.level
    call_handlers = logging.Logger.callHandlers

    def route(logger: logging.Logger, record: logging.LogRecord) -> None:
        # a library's record goes to the collector only, even through the library's own handler
        # (nibabel gives its logger a handler on stderr when it is imported)
        if _is_own(record.name):
            call_handlers(logger, record)
        else:
            handler.handle(record)

    root.addHandler(handler)
    root.setLevel(logging.INFO if progress is not None else logging.WARNING)
    logging.Logger.callHandlers = route  # type: ignore[method-assign, assignment]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = collector.showwarning
            yield collector
    finally:
        logging.Logger.callHandlers = call_handlers  # type: ignore[method-assign]
        root.removeHandler(handler)
        root.setLevel(old_level)


def _is_own(logger_name: str) -> bool:
    """Whether a logger is one of ivcviewer's."""
    return logger_name == "ivcviewer" or logger_name.startswith("ivcviewer.")


def is_path_like(value: object) -> TypeGuard[str | os.PathLike[str]]:
    """Whether ``value`` is a str or path object short enough to be a path.

    >>> is_path_like("ct/IM1.dcm"), is_path_like(3), is_path_like("a\\nb")
    (True, False, False)
    """
    if isinstance(value, str):
        return 0 < len(value) < 4096 and "\n" not in value
    return isinstance(value, os.PathLike)
