"""Geometry report: what a loader found while reading a series.

Each item has a stable ``code`` (a :class:`ReportCode`, part of the documented CLI contract), a
``severity`` and a human-readable ``message``. How failures and warnings reach the user is
:mod:`ivcviewer.failures`.

The vocabularies here are string enums: each member equals, formats and serialises (JSON) as
its value, on every supported Python version.

>>> code = ReportCode.GANTRY_TILT
>>> code == "gantry_tilt", f"{code}", str(code)
(True, 'gantry_tilt', 'gantry_tilt')
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


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
    GRID_EXTENDED = "grid_extended"
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
    MOSAIC = "mosaic"
    SERIES_LEFT_OUT = "series_left_out"

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
    "grid_extended": "resampling extended the grid so that every source voxel is inside it",
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
    "mosaic": "a vendor mosaic (slices tiled in one image) was unpacked, or left out",
    "series_left_out": "another series at the path could not be loaded and was left out",
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
