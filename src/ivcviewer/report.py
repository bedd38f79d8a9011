"""Geometry report: what a loader found while reading a series.

Each item has a stable ``code`` (part of the documented CLI contract), a ``severity`` and a
human-readable ``message``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(str, enum.Enum):
    """How much a report item matters."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class ValidationMode(str, enum.Enum):
    """What to do when a stack is irregular (gaps, duplicates, uneven spacing).

    ``RAISE``: refuse to build a volume. ``WARN``: build the volume on a uniform grid and report
    each problem with its size (gaps filled and listed, one image of a duplicate kept, uneven
    slices placed on the mean step, off by at most the reported offset). ``RESAMPLE``:
    interpolate onto a regular grid and report what was done.
    """

    RAISE = "raise"
    WARN = "warn"
    RESAMPLE = "resample"


#: Codes a report item may carry; the CLI's ``--json`` output documents these.
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


@dataclass(frozen=True)
class ReportItem:
    """One thing a loader found."""

    code: str
    severity: Severity
    message: str

    def to_dict(self) -> dict[str, str]:
        """Return the JSON form ``{code, severity, message}``."""
        return {"code": self.code, "severity": self.severity.value, "message": self.message}


@dataclass
class GeometryReport:
    """An ordered list of :class:`ReportItem`."""

    items: list[ReportItem] = field(default_factory=list)

    def add(self, code: str, severity: Severity | str, message: str) -> None:
        """Append an item; ``code`` must be one of :data:`REPORT_CODES`."""
        if code not in REPORT_CODES:
            raise ValueError(f"Report code {code!r} is not one of {sorted(REPORT_CODES)}.")
        self.items.append(ReportItem(code, Severity(severity), message))

    def extend(self, other: GeometryReport) -> None:
        """Append all items of ``other``."""
        self.items.extend(other.items)

    @property
    def codes(self) -> list[str]:
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
