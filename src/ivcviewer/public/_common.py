"""What the public-data modules share: a found series, progress and cancel callbacks, errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import IvcviewerError

#: ``progress(done, total, text)``: called as instances arrive (``total`` 0 when unknown).
Progress = Callable[[int, int, str], None]
#: ``cancel() -> bool``: polled between instances; True stops the fetch (nothing is kept).
Cancel = Callable[[], bool]


class PublicDataError(IvcviewerError):
    """A search or fetch of public data that failed (offline, refused, incomplete download)."""


class FetchCancelledError(PublicDataError):
    """A fetch stopped because its ``cancel`` callback said so; nothing was kept."""


@dataclass(frozen=True)
class SeriesHit:
    """One image series found in the IDC index or on a DICOMweb server.

    Attributes
    ----------
    series_uid, study_uid
        SeriesInstanceUID and StudyInstanceUID.
    collection
        IDC collection (``tcga_sarc``), or the server's URL host for DICOMweb.
    patient_id, description, modality, body_part
        PatientID, SeriesDescription, Modality and BodyPartExamined (``""`` when absent).
    n_images
        Instances in the series.
    size_mb
        Size of the series in MB (0.0 when the source does not say).
    licence
        Licence of the data (``CC BY 4.0``); ``""`` when the source does not say.
    segs
        ``(series_uid, modality, description)`` of the SEG and RTSTRUCT series that go with
        this series (see :func:`ivcviewer.public.search_idc` for how they are matched).
    """

    series_uid: str
    study_uid: str
    collection: str
    patient_id: str
    description: str
    modality: str
    body_part: str
    n_images: int
    size_mb: float
    licence: str
    segs: tuple[tuple[str, str, str], ...] = ()

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (``segs`` as a list of objects)."""
        out: dict[str, object] = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["segs"] = [{"series_uid": u, "modality": m, "description": d} for u, m, d in self.segs]
        return out


def report(progress: Progress | None, done: int, total: int, text: str) -> None:
    """Call ``progress`` when one was given."""
    if progress is not None:
        progress(done, total, text)


def check_cancel(cancel: Cancel | None, what: str) -> None:
    """Raise :class:`FetchCancelledError` when ``cancel()`` says so."""
    if cancel is not None and cancel():
        raise FetchCancelledError(f"{what}: cancelled; nothing was kept.")
