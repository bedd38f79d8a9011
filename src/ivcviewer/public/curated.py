"""The curated list of public CT series suited to the shipped cases (``sample_data/``).

``curated_series.csv`` lists series found in the Imaging Data Commons index: abdominal
contrast CT showing the IVC and renal veins, CT of the sarcoma collections (``tcga_sarc``,
``cptac_sar``, which hold leiomyosarcomas), and kidney-cancer CT with segmentations, each
with its licence, size and why it suits.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from .._shipped import shipped_dir
from ._common import PublicDataError, SeriesHit

#: The list's file name in ``sample_data/``.
CURATED_FILE = "curated_series.csv"
#: Columns of the list, in order.
COLUMNS = (
    "series_uid",
    "study_uid",
    "collection",
    "patient_id",
    "description",
    "n_images",
    "size_mb",
    "licence",
    "seg_uids",
    "suits",
    "why",
)
#: What a series may suit.
SUITS = ("sarcoma", "ivc_renal_veins", "kidney_seg")


@dataclass(frozen=True)
class CuratedSeries:
    """One series of the curated list.

    Attributes
    ----------
    series_uid, study_uid, collection, patient_id, description, n_images, size_mb, licence
        As in :class:`~ivcviewer.public.SeriesHit` (CT series of the IDC).
    seg_uids
        SEG series of the same study (may be empty).
    suits
        ``sarcoma``, ``ivc_renal_veins`` or ``kidney_seg``.
    why
        Why the series suits, in a sentence or two.
    """

    series_uid: str
    study_uid: str
    collection: str
    patient_id: str
    description: str
    n_images: int
    size_mb: float
    licence: str
    seg_uids: tuple[str, ...]
    suits: str
    why: str

    def to_hit(self) -> SeriesHit:
        """The entry as a search hit (its SEGs described as ``SEG`` series)."""
        return SeriesHit(
            series_uid=self.series_uid,
            study_uid=self.study_uid,
            collection=self.collection,
            patient_id=self.patient_id,
            description=self.description,
            modality="CT",
            body_part="",
            n_images=self.n_images,
            size_mb=self.size_mb,
            licence=self.licence,
            segs=tuple((u, "SEG", "") for u in self.seg_uids),
        )


def curated_path() -> Path:
    """The curated list shipped with ivcviewer."""
    return shipped_dir("sample_data", "sample_data") / CURATED_FILE


def _entry(row: dict[str, str], path: Path, line: int) -> CuratedSeries:
    try:
        entry = CuratedSeries(
            series_uid=row["series_uid"],
            study_uid=row["study_uid"],
            collection=row["collection"],
            patient_id=row["patient_id"],
            description=row["description"],
            n_images=int(row["n_images"]),
            size_mb=float(row["size_mb"]),
            licence=row["licence"],
            seg_uids=tuple(u for u in row["seg_uids"].split(";") if u),
            suits=row["suits"],
            why=row["why"],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PublicDataError(
            f"{path}: line {line} is not a curated series ({exc}). Fix: restore the file."
        ) from None
    if entry.suits not in SUITS or not entry.series_uid or not entry.licence:
        raise PublicDataError(
            f"{path}: line {line} lacks a UID or licence, or suits {entry.suits!r} "
            f"(one of {', '.join(SUITS)}). Fix: restore the file."
        )
    return entry


def curated(path: Path | None = None) -> list[CuratedSeries]:
    """The curated series, in the list's order.

    >>> {c.suits for c in curated()} == set(SUITS)
    True
    """
    path = path or curated_path()
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise PublicDataError(
                f"{path}: its columns are not {', '.join(COLUMNS)}. Fix: restore the file."
            )
        return [_entry(row, path, n) for n, row in enumerate(reader, start=2)]
