"""The state of the "Public CT" dock, without Qt or napari.

:class:`PublicCTModel` holds what the dock shows and does: the source chosen (:class:`Source`:
the Imaging Data Commons index, a DICOMweb server or the curated list), the search fields
(:class:`SearchFields`), the rows found (:class:`ResultRow`), the rows selected, and the fetch
in progress (:class:`FetchJob`: progress, cancel, then the series read into volumes and its
SEG / RTSTRUCT into named label maps, :class:`OpenedSeries`).

Every search and download goes through a :class:`~.public_ct_backend.Backend`:
:class:`~.public_ct_backend.PublicBackend` calls :mod:`ivcviewer.public` (the calls the
``search`` and ``fetch`` commands make); tests give a backend of their own. Searches and
fetches take seconds to minutes: the dock runs :meth:`PublicCTModel.find` and
:meth:`FetchJob.run` off the GUI thread and hands their results back with
:meth:`PublicCTModel.show_rows` and its own layers.

A DICOMweb password or token (:class:`Credentials`) lives only in the request made with it:
the model never keeps it, its ``repr`` hides it and :func:`scrub` takes it out of any message.
"""

from __future__ import annotations

import enum
import math
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import IvcviewerError
from ..volume import Volume
from .listeners import Listeners
from .public_ct_backend import (
    Backend,
    Credentials,
    ProgressCallback,
    PublicBackend,
    SearchFields,
    scrub,
)

__all__ = [
    "COLUMNS",
    "Backend",
    "Credentials",
    "FetchCancelled",
    "FetchJob",
    "OpenedSeries",
    "ProgressCallback",
    "PublicBackend",
    "PublicCTModel",
    "ResultRow",
    "SearchFields",
    "Segmentation",
    "Source",
    "read_anatomy",
    "scrub",
]

#: Columns of the results table, in order (:meth:`ResultRow.cells`).
COLUMNS = ("Collection", "Patient", "Description", "Images", "Size (MB)", "Licence", "SEG")

#: Modalities of the objects that are read as anatomy beside a CT series.
SEGMENTATION_MODALITIES = ("SEG", "RTSTRUCT")


class FetchCancelled(IvcviewerError):
    """A fetch stopped by the user (nothing it downloaded is kept)."""


class Source(str, enum.Enum):
    """Where the dock searches (its values are what the dock shows)."""

    IDC = "Imaging Data Commons (offline index)"
    DICOMWEB = "DICOMweb server"
    CURATED = "Curated list"


def _number(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


@dataclass(frozen=True)
class ResultRow:
    """One series found: what the results table shows and what a fetch needs.

    ``segs`` holds ``(series UID, modality, description)`` of the SEGs and RTSTRUCTs made on it.
    """

    series_uid: str
    study_uid: str = ""
    collection: str = ""
    patient_id: str = ""
    description: str = ""
    n_images: int | None = None
    size_mb: float | None = None
    licence: str = ""
    segs: tuple[tuple[str, str, str], ...] = ()

    @classmethod
    def from_hit(cls, hit: Any) -> ResultRow:
        """The row of a search hit or curated entry (any object with those attributes)."""

        def text(*names: str) -> str:
            for n in names:
                v = getattr(hit, n, None)
                if v not in (None, ""):
                    return str(v)
            return ""

        n_images = _number(getattr(hit, "n_images", None))
        return cls(
            series_uid=text("series_uid"),
            study_uid=text("study_uid"),
            collection=text("collection"),
            patient_id=text("patient_id"),
            description=text("description", "why"),
            n_images=None if n_images is None else int(n_images),
            size_mb=_number(getattr(hit, "size_mb", None)),
            licence=text("licence", "license"),
            segs=tuple(
                (str(s[0]), str(s[1]), str(s[2]) if len(s) > 2 else "")
                for s in (getattr(hit, "segs", None) or ())
            ),
        )

    @property
    def anatomy(self) -> tuple[tuple[str, str, str], ...]:
        """The SEGs and RTSTRUCTs among :attr:`segs` (the ones opened as anatomy)."""
        return tuple(s for s in self.segs if s[1].upper() in SEGMENTATION_MODALITIES)

    def cells(self) -> tuple[str, ...]:
        """The table's cells, in :data:`COLUMNS` order.

        >>> ResultRow("1.2", collection="c4kc_kits", n_images=3, size_mb=1.25,
        ...           segs=(("1.3", "SEG", "kidney"),)).cells()
        ('c4kc_kits', '', '', '3', '1.2', '', 'SEG')
        """
        kinds = sorted({s[1] for s in self.segs})
        return (
            self.collection,
            self.patient_id,
            self.description,
            "" if self.n_images is None else str(self.n_images),
            "" if self.size_mb is None else f"{self.size_mb:.1f}",
            self.licence,
            ", ".join(kinds),
        )


@dataclass(frozen=True)
class Segmentation:
    """A SEG or RTSTRUCT read on its CT: the label map, its names and the fit's names."""

    name: str
    labels: Volume
    table: Any
    structures: dict[int, str]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class OpenedSeries:
    """A fetched series read: its volume(s) and its segmentations on the first one.

    ``notes`` says what the reading decided (overlapping segments) and which segmentations
    could not be opened and why (the CT opens without them).
    """

    row: ResultRow
    folder: Path
    volumes: list[Volume]
    segmentations: list[Segmentation] = field(default_factory=list)
    notes: tuple[str, ...] = ()


def _object_file(folder: Path) -> Path:
    """The DICOM object file in a fetched SEG / RTSTRUCT series folder (its first file)."""
    if folder.is_file():
        return folder
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    if not files:
        raise IvcviewerError(
            f"{folder}: the segmentation series fetched holds no file. Fix: fetch it again."
        )
    return files[0]


def read_anatomy(path: Path, ct: Volume, description: str) -> Segmentation:
    """A fetched SEG or RTSTRUCT folder read on ``ct``, named after its description.

    Raises
    ------
    IvcviewerError
        Not a SEG or RTSTRUCT, damaged, or made on another CT.
    """
    from ..interop.rtstruct_read import read_rtstruct
    from ..interop.seg_read import read_segmentation, structure_names
    from ..interop.sniff import dicom_object_kind

    file = _object_file(path)
    kind = dicom_object_kind(file)
    if kind == "seg":
        result = read_segmentation(file, ct)
    elif kind == "rtstruct":
        result = read_rtstruct(file, ct)
    else:
        raise IvcviewerError(
            f"{file}: is not a DICOM SEG or RTSTRUCT (read from its header), so it cannot be "
            "opened as anatomy. Fix: choose a series whose SEG column is filled."
        )
    name = f"{description or result.source_kind} ({result.source_kind})"
    return Segmentation(
        name, result.labels, result.table, structure_names(result), tuple(result.report)
    )


class FetchJob:
    """One fetch: the series chosen, where they go, the progress and the cancel flag.

    :meth:`run` downloads each row's series (and its SEGs / RTSTRUCTs), reads them and returns
    :class:`OpenedSeries`; it runs off the GUI thread. :meth:`cancel` may be called from any
    thread: the download stops at the backend's next check and what this job downloaded is
    removed. ``events.progressed`` is called (from :meth:`run`'s thread) with the percentage
    done (0-100) and a line of text.
    """

    def __init__(
        self,
        backend: Backend,
        source: Source,
        rows: Sequence[ResultRow],
        to: Path,
        *,
        url: str = "",
        credentials: Credentials | None = None,
        verify_tls: bool = True,
    ) -> None:
        self.backend = backend
        self.source = source
        self.rows = tuple(rows)
        self.to = Path(to)
        self.url = url
        self.verify_tls = verify_tls
        self._credentials = credentials
        self._cancel = threading.Event()
        self.percent = 0
        self.text = ""
        self.progressed = Listeners()
        self._created: list[Path] = []

    @property
    def cancelled(self) -> bool:
        """The user asked to stop."""
        return self._cancel.is_set()

    def cancel(self) -> None:
        """Ask the download to stop (it stops at the backend's next check)."""
        self._cancel.set()

    def _report(self, percent: int, text: str) -> None:
        self.percent, self.text = max(0, min(100, percent)), text
        self.progressed.emit(self.percent, text)

    def _steps(self) -> list[tuple[ResultRow, str, str]]:
        """``(row, series UID, what)`` of every series to download, CTs first per row."""
        out = []
        for row in self.rows:
            out.append((row, row.series_uid, row.description or row.series_uid))
            out.extend(
                (row, uid, f"{modality} {desc}".strip()) for uid, modality, desc in row.anatomy
            )
        return out

    def _fetch_one(self, row: ResultRow, uid: str, step: int, n: int, what: str) -> Path:
        def progress(done: int, total: int, text: str) -> None:
            frac = done / total if total else 0.0
            self._report(int(100 * (step + min(1.0, frac)) / (n + 1)), f"{what}: {text}")

        before = set(self.to.iterdir()) if self.to.is_dir() else set()
        auth = None if self._credentials is None else self._credentials.auth()
        try:
            if self.source == Source.DICOMWEB:
                path = self.backend.fetch_dicomweb(
                    self.url,
                    row.study_uid,
                    uid,
                    self.to,
                    auth,
                    self.verify_tls,
                    progress,
                    self._cancel.is_set,
                )
            else:
                path = self.backend.fetch_idc(uid, self.to, progress, self._cancel.is_set)
        except Exception as err:
            if self.cancelled:
                raise FetchCancelled("Fetch cancelled; nothing was kept.") from None
            if isinstance(err, IvcviewerError):  # the backend's own line: which, why, the fix
                raise IvcviewerError(scrub(str(err), self._credentials)) from None
            raise IvcviewerError(
                scrub(
                    f"{what} ({uid}): could not be fetched ({type(err).__name__}: {err}). "
                    "Fix: check the connection and the server, then fetch again.",
                    self._credentials,
                )
            ) from None
        if path is not None and Path(path) not in before:
            self._created.append(Path(path))
        if self.cancelled:
            raise FetchCancelled("Fetch cancelled; nothing was kept.")
        if path is None or not Path(path).exists():
            raise IvcviewerError(
                f"{what} ({uid}): the download gave no series. Fix: check that the series "
                "exists on the server, then fetch again."
            )
        return Path(path)

    def run(self) -> list[OpenedSeries]:
        """Download, check and read every series; on cancel or failure keep nothing new.

        Raises
        ------
        FetchCancelled
            :meth:`cancel` was called.
        IvcviewerError
            A download or a read failed (the line says which series and why).
        """
        try:
            return self._run()
        except BaseException:
            self._remove_created()
            raise

    def _run(self) -> list[OpenedSeries]:
        from ..io import open_path

        steps = self._steps()
        self._report(0, f"Fetching {len(steps)} series")
        folders: dict[str, Path] = {}
        for i, (row, uid, what) in enumerate(steps):
            folders[uid] = self._fetch_one(row, uid, i, len(steps), what)
        self._report(int(100 * len(steps) / (len(steps) + 1)), "Opening")
        opened = []
        for row in self.rows:
            if self.cancelled:
                raise FetchCancelled("Fetch cancelled; nothing was kept.")
            folder = folders[row.series_uid]
            volumes = open_path(folder, series_uid=row.series_uid or None)
            segs, notes = [], []
            for uid, _, desc in row.anatomy:
                try:
                    seg = read_anatomy(folders[uid], volumes[0], desc)
                except IvcviewerError as err:  # the CT still opens; the note says why not
                    notes.append(f"not opened as anatomy: {err}")
                    continue
                segs.append(seg)
                notes.extend(f"{seg.name}: {n}" for n in seg.notes)
            opened.append(OpenedSeries(row, folder, volumes, segs, tuple(notes)))
        self._report(100, f"Fetched and opened {len(self.rows)} series")
        return opened

    def _remove_created(self) -> None:
        """Remove the folders this job downloaded (never one that was there before)."""
        for path in self._created:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            elif path.exists():
                path.unlink(missing_ok=True)
        self._created.clear()


@dataclass
class _Events:
    """The model's listeners, one per kind of change."""

    source_changed: Listeners = field(default_factory=Listeners)
    rows_changed: Listeners = field(default_factory=Listeners)
    selection_changed: Listeners = field(default_factory=Listeners)
    status_changed: Listeners = field(default_factory=Listeners)


class PublicCTModel:
    """What the "Public CT" dock holds and does.

    Listeners (attributes of :attr:`events`): ``source_changed`` (the :class:`Source`),
    ``rows_changed`` (the list of :class:`ResultRow`), ``selection_changed`` (the selected
    indices), ``status_changed`` (the status line).

    Parameters
    ----------
    backend
        Where searches and downloads go (default: :class:`PublicBackend`).

    Examples
    --------
    >>> class Curated(PublicBackend):
    ...     def curated(self):
    ...         return [ResultRow("1.2.3", collection="tcga_sarc", licence="CC BY 3.0")]
    >>> m = PublicCTModel(Curated())
    >>> m.set_source(Source.CURATED)
    >>> [r.collection for r in m.search()]
    ['tcga_sarc']
    >>> m.status
    '1 series found.'
    >>> m.select([0]); m.selected_rows[0].licence
    'CC BY 3.0'
    """

    def __init__(self, backend: Backend | None = None) -> None:
        self.backend: Backend = backend if backend is not None else PublicBackend()
        self.events = _Events()
        self.source = Source.IDC
        self.fields = SearchFields()
        self.url = ""
        self.verify_tls = True
        self.rows: list[ResultRow] = []
        self.selection: list[int] = []
        self.status = ""
        self.job: FetchJob | None = None

    def _set_status(self, text: str) -> None:
        self.status = text
        self.events.status_changed.emit(text)

    def set_source(self, source: Source | str) -> None:
        """Search the IDC index, a DICOMweb server or the curated list."""
        self.source = Source(source)
        self.events.source_changed.emit(self.source)

    def set_fields(self, fields: SearchFields) -> None:
        """The search fields of the next search."""
        self.fields = fields

    def set_url(self, url: str) -> None:
        """The DICOMweb server's base URL (``http://`` or ``https://``)."""
        self.url = url.strip()

    def set_verify_tls(self, on: bool) -> None:
        """Check the DICOMweb server's TLS certificate (on unless turned off explicitly)."""
        self.verify_tls = bool(on)

    def _check_url(self) -> None:
        if not self.url.lower().startswith(("http://", "https://")):
            raise IvcviewerError(
                f"DICOMweb URL {self.url!r}: a server's address starts with http:// or "
                "https://. Fix: give its DICOMweb base URL (for example "
                "https://server/dicom-web)."
            )

    def find(self, credentials: Credentials | None = None) -> list[ResultRow]:
        """The rows the current source finds for the current fields (changes nothing).

        Runs off the GUI thread; :meth:`show_rows` then shows them.
        """
        if self.source == Source.CURATED:
            hits = self.backend.curated()
        elif self.source == Source.DICOMWEB:
            self._check_url()
            auth = None if credentials is None else credentials.auth()
            try:
                hits = self.backend.search_dicomweb(self.url, self.fields, auth, self.verify_tls)
            except IvcviewerError as err:
                raise IvcviewerError(scrub(str(err), credentials)) from None
        else:
            hits = self.backend.search_idc(self.fields)
        return [ResultRow.from_hit(h) for h in hits]

    def show_rows(self, rows: Sequence[ResultRow]) -> list[ResultRow]:
        """Show ``rows`` as the results (the selection is cleared)."""
        self.rows = list(rows)
        self.selection = []
        self.events.rows_changed.emit(self.rows)
        self.events.selection_changed.emit(self.selection)
        n = len(self.rows)
        self._set_status(f"{n} series found." if n != 1 else "1 series found.")
        return self.rows

    def search(self, credentials: Credentials | None = None) -> list[ResultRow]:
        """:meth:`find`, then :meth:`show_rows` (in one thread)."""
        return self.show_rows(self.find(credentials))

    def select(self, indices: Sequence[int]) -> None:
        """Select the rows at ``indices`` (out-of-range indices are refused)."""
        bad = [i for i in indices if not 0 <= i < len(self.rows)]
        if bad:
            raise IndexError(f"Result rows {bad} out of range ({len(self.rows)} rows)")
        self.selection = sorted(set(indices))
        self.events.selection_changed.emit(self.selection)

    @property
    def selected_rows(self) -> list[ResultRow]:
        """The rows selected, in table order."""
        return [self.rows[i] for i in self.selection]

    def start_fetch(
        self, to: str | Path | None = None, credentials: Credentials | None = None
    ) -> FetchJob:
        """A :class:`FetchJob` for the selected rows into ``to`` (default: the backend's
        folder); the caller runs it (off the GUI thread) and may cancel it.

        Raises
        ------
        IvcviewerError
            No row selected, a DICOMweb row without its study, or a bad URL.
        """
        rows = self.selected_rows
        if not rows:
            raise IvcviewerError(
                "Public CT: no series selected. Fix: search, then select one or more rows."
            )
        if self.source == Source.DICOMWEB:
            self._check_url()
            missing = [r.series_uid for r in rows if not r.study_uid]
            if missing:
                raise IvcviewerError(
                    f"Public CT: series {missing[0]} has no study UID, which a DICOMweb "
                    "download needs. Fix: search the server again."
                )
        folder = Path(to) if to else self.backend.default_folder()
        self.job = FetchJob(
            self.backend,
            self.source,
            rows,
            folder,
            url=self.url,
            credentials=credentials,
            verify_tls=self.verify_tls,
        )
        self._set_status(f"Fetching {len(rows)} series into {folder} ...")
        return self.job

    def fetch_finished(self, opened: Sequence[OpenedSeries] | None, error: str = "") -> None:
        """Say how the last fetch ended (None and no error: cancelled)."""
        self.job = None
        if error:
            self._set_status(f"Error: {error}")
        elif opened is None:
            self._set_status("Fetch cancelled; nothing was kept.")
        else:
            n_seg = sum(len(o.segmentations) for o in opened)
            self._set_status(
                f"Opened {len(opened)} series"
                + (f" with {n_seg} segmentation(s)." if n_seg else ".")
            )
