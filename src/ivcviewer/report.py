"""Geometry report: what a loader found while reading a series; how failures and warnings
are reported.

Each item has a stable ``code`` (a :class:`ReportCode`, part of the documented CLI contract), a
``severity`` and a human-readable ``message``.

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

The vocabularies here are string enums: each member equals, formats and serialises (JSON) as
its value, on every supported Python version.

>>> code = ReportCode.GANTRY_TILT
>>> code == "gantry_tilt", f"{code}", str(code)
(True, 'gantry_tilt', 'gantry_tilt')
"""

from __future__ import annotations

import enum
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO, TypeGuard

from .errors import IvcviewerError


class _ValueEnum(str, enum.Enum):
    """A string enum whose members print as their values (like ``enum.StrEnum`` of 3.11).

    ``class X(str, Enum)`` alone gives ``str(X.A) == "X.A"`` (and so do f-strings from 3.12),
    which would leak into messages and tables.
    """

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, format_spec: str) -> str:
        return format(str(self.value), format_spec)


class Severity(_ValueEnum):
    """How much a report item matters."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class ValidationMode(_ValueEnum):
    """What to do when a stack is irregular (gaps, duplicates, uneven spacing).

    ``RAISE``: refuse to build a volume. ``WARN``: build the volume on a uniform grid and report
    each problem with its size (gaps filled and listed, one image of a duplicate kept, uneven
    slices placed on the mean step, off by at most the reported offset). ``RESAMPLE``:
    interpolate onto a regular grid and report what was done.
    """

    RAISE = "raise"
    WARN = "warn"
    RESAMPLE = "resample"


class ReportCode(_ValueEnum):
    """What a report item is about; the value is the stable code of the JSON output.

    :data:`REPORT_CODES` describes each code (``docs/cli.md`` documents them all).

    >>> ReportCode("missing_slices") is ReportCode.MISSING_SLICES
    True
    >>> ReportCode.MISSING_SLICES.description
    'one or more slice positions are missing from a regular stack'
    """

    MISSING_SLICES = "missing_slices"
    DUPLICATE_POSITIONS = "duplicate_positions"
    IRREGULAR_SPACING = "irregular_spacing"
    GANTRY_TILT = "gantry_tilt"
    MIXED_ORIENTATION = "mixed_orientation"
    LOCALIZER_SKIPPED = "localizer_skipped"
    NON_IMAGE_SKIPPED = "non_image_skipped"
    UNREADABLE_FILE = "unreadable_file"
    NO_RESCALE = "no_rescale"
    RESCALE_APPLIED = "rescale_applied"
    RESAMPLED = "resampled"
    SERIES_SPLIT = "series_split"
    SECONDARY_CAPTURE_SKIPPED = "secondary_capture_skipped"
    SINGLE_SLICE = "single_slice"
    DEFAULT_WINDOW = "default_window"
    COMPRESSED = "compressed"
    NOT_CT = "not_ct"
    OBLIQUE = "oblique"
    NO_ORIENTATION = "no_orientation"
    XFORM_MISMATCH = "xform_mismatch"
    UNNAMED_LABELS = "unnamed_labels"

    @property
    def description(self) -> str:
        """One line saying what the code means."""
        return REPORT_CODES[self.value]


#: Every :class:`ReportCode` value and what it means; the CLI's ``--json`` output documents these.
REPORT_CODES: dict[str, str] = {
    "missing_slices": "one or more slice positions are missing from a regular stack",
    "duplicate_positions": "two or more images share one position",
    "irregular_spacing": "the step between slices is not uniform",
    "gantry_tilt": "the stack is oblique to its image plane (gantry tilt)",
    "mixed_orientation": "images of one series have different orientations",
    "localizer_skipped": "localizer (scout) images were left out",
    "non_image_skipped": "files that are not images (or not DICOM) were left out",
    "unreadable_file": "a file could not be read",
    "no_rescale": "no RescaleSlope/Intercept: stored values taken as HU",
    "rescale_applied": "stored values converted to HU with RescaleSlope/Intercept",
    "resampled": "the stack was resampled onto a regular grid",
    "series_split": "one SeriesInstanceUID held several stacks and was split",
    "secondary_capture_skipped": "secondary captures or derived images were left out",
    "single_slice": "the series has a single slice; its thickness is used as spacing",
    "default_window": "no window in the series: abdomen 400/40 used",
    "compressed": "pixel data was decompressed",
    "not_ct": "the modality is not CT: values may not be HU",
    "oblique": "the image plane is oblique to the patient axes",
    "no_orientation": (
        "the file states no orientation (NIfTI qform and sform codes 0): axes assumed"
    ),
    "xform_mismatch": "the NIfTI qform and sform place the voxels differently: the sform is used",
    "unnamed_labels": "label values without a name in the label table were given default names",
}


def report_code(code: ReportCode | str) -> ReportCode:
    """The :class:`ReportCode` of ``code``, naming the valid codes when it is none.

    >>> report_code("oblique") is ReportCode.OBLIQUE
    True
    """
    try:
        return ReportCode(code)
    except ValueError:
        raise ValueError(f"Report code {code!r} is not one of {sorted(REPORT_CODES)}.") from None


@dataclass(frozen=True)
class ReportItem:
    """One thing a loader found.

    ``code`` and ``severity`` given as strings are converted to their enums (an unknown value
    raises ValueError).

    >>> ReportItem("gantry_tilt", "warning", "tilted 15 degrees").to_dict()
    {'code': 'gantry_tilt', 'severity': 'warning', 'message': 'tilted 15 degrees'}
    """

    code: ReportCode
    severity: Severity
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", report_code(self.code))
        object.__setattr__(self, "severity", Severity(self.severity))

    def to_dict(self) -> dict[str, str]:
        """Return the JSON form ``{code, severity, message}``."""
        return {"code": self.code.value, "severity": self.severity.value, "message": self.message}


@dataclass
class GeometryReport:
    """An ordered list of :class:`ReportItem`."""

    items: list[ReportItem] = field(default_factory=list)

    def add(self, code: ReportCode | str, severity: Severity | str, message: str) -> None:
        """Append an item; ``code`` must be a :class:`ReportCode` (or one of its values)."""
        self.items.append(ReportItem(report_code(code), Severity(severity), message))

    def copy(self) -> GeometryReport:
        """A copy with its own list of items (the items are immutable)."""
        return GeometryReport(list(self.items))

    def extend(self, other: GeometryReport) -> None:
        """Append all items of ``other``."""
        self.items.extend(other.items)

    @property
    def codes(self) -> list[ReportCode]:
        """The codes, in order."""
        return [i.code for i in self.items]

    @property
    def warnings(self) -> list[ReportItem]:
        """Items of severity warning or error."""
        return [i for i in self.items if i.severity is not Severity.INFO]

    def to_list(self) -> list[dict[str, str]]:
        """Return the JSON form: a list of ``{code, severity, message}``."""
        return [i.to_dict() for i in self.items]

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    def __len__(self) -> int:
        return len(self.items)


# Failures and warnings ------------------------------------------------------------------------

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
