"""Domain errors of ivcviewer.

Every error subclasses :class:`IvcviewerError` and :class:`ValueError`, so callers may catch
either. Messages name the file or argument, the rule that was broken, the offending value and
how to recover.
"""

from __future__ import annotations


class IvcviewerError(ValueError):
    """Base class of all ivcviewer domain errors."""


class GeometryError(IvcviewerError):
    """An affine, spacing or orientation that cannot describe a valid voxel grid."""


class DicomSeriesError(IvcviewerError):
    """A DICOM series that cannot be turned into a correct volume."""


class MissingDecoderError(DicomSeriesError):
    """Compressed pixel data whose decoder is not installed."""


class NoSeriesFoundError(IvcviewerError):
    """A path that holds no readable image series."""


class VolumeFormatError(IvcviewerError):
    """A NIfTI, NRRD or MHA file (or a label table) that cannot be read correctly."""


class OptionalDependencyError(IvcviewerError, ImportError):
    """An optional library needed for a feature is not installed."""


class CaseFileError(IvcviewerError):
    """A case file that breaks the case-file schema."""


class AnatomyError(IvcviewerError):
    """Anatomy (landmarks or a label map) that lacks what a fit needs."""


class MeasurementError(IvcviewerError):
    """A region, point or reported figure that cannot be measured or compared."""


class DisplayError(IvcviewerError):
    """No screen (and no Xvfb to provide one) for rendering, or a renderer that failed."""


class OutputExistsError(IvcviewerError):
    """An output folder or file that already holds data a command would overwrite."""


class ResourceLimitError(IvcviewerError):
    """An input that would need more memory, time, depth or size than the limits allow."""
