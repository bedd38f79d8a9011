"""The "Public CT" dock widget: search public CT, fetch it with progress and cancel, open it.

:class:`PublicCTWidget` lays out a :class:`~ivcviewer.widget_models.public_ct.PublicCTModel`:
the source (the Imaging Data Commons index, a DICOMweb server, the curated list), the search
fields, the results table, the destination folder and the fetch buttons. Searches and fetches
run off the GUI thread (napari's :func:`~napari.qt.threading.create_worker`); a fetch shows a
napari progress bar and can be cancelled. A fetched series opens as an Image layer (through
ivcviewer's reader) and its SEG / RTSTRUCT as a Labels layer whose regions carry the structure
names the Case overlay's "label map layer" anatomy source reads.

A DICOMweb password or token is typed into a password field, read when a request is made and
passed to that request only: it is never written to a file, a log or a message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QObject, Qt, Signal
from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...widget_models.public_ct import (
    COLUMNS,
    Backend,
    Credentials,
    FetchCancelled,
    FetchJob,
    OpenedSeries,
    PublicCTModel,
    ResultRow,
    SearchFields,
    Source,
    scrub,
)
from ..layers import image_layer_data, labels_layer_data

if TYPE_CHECKING:
    import napari
    from napari.layers import Layer

WIDGET_NAME = "Public CT"


class _Bridge(QObject):
    """Carries a fetch's progress from its worker thread to the GUI thread."""

    progressed = Signal(int, str)


class PublicCTWidget(QWidget):
    """The "Public CT" dock widget (see :mod:`ivcviewer._napari.widgets.public_ct`).

    Parameters
    ----------
    napari_viewer
        The viewer (injected by napari).
    backend
        Where searches and downloads go (default: :mod:`ivcviewer.public`).

    Signals ``search_done`` and ``fetch_done`` are emitted when a search or a fetch has ended
    (found, opened, cancelled or failed) and the dock shows it.
    """

    search_done = Signal()
    fetch_done = Signal()

    def __init__(self, napari_viewer: napari.Viewer, backend: Backend | None = None) -> None:
        super().__init__()
        self._viewer = napari_viewer
        self.model = PublicCTModel(backend)
        self._worker: Any = None
        self._progress_bar: Any = None
        self._percent = 0
        self._updating_bar = False
        #: Where the progress bar of the last fetch stood when it closed (0-100).
        self.last_progress = 0
        self._bridge = _Bridge(self)
        self.added_layers: list[Layer] = []
        self._build()
        self._connect()
        self._on_source(self.model.source)

    # -- layout -----------------------------------------------------------------------------

    def _build(self) -> None:
        self.source_combo = QComboBox(self)
        self.source_combo.addItems([s.value for s in Source])
        self.url_edit = QLineEdit(self)
        self.url_edit.setPlaceholderText("https://server/dicom-web")
        self.user_edit = QLineEdit(self)
        self.password_edit = QLineEdit(self)
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setToolTip("Used for this session's requests only; never saved")
        self.bearer_check = QCheckBox("bearer token (no user)", self)
        self.tls_check = QCheckBox("verify the server's TLS certificate", self)
        self.tls_check.setChecked(True)
        self.collection_edit = QLineEdit(self)
        self.collection_edit.setPlaceholderText("tcga_sarc, c4kc_kits, ...")
        self.body_part_edit = QLineEdit(self)
        self.body_part_edit.setPlaceholderText("abdomen, kidney, ...")
        self.text_edit = QLineEdit(self)
        self.text_edit.setPlaceholderText("words in the descriptions")
        self.seg_check = QCheckBox("only series with a SEG / RTSTRUCT", self)
        self.search_btn = QPushButton("Search", self)

        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        if header is not None:
            header.setStretchLastSection(True)

        self.folder_edit = QLineEdit(self)
        self.folder_edit.setPlaceholderText("the series cache")
        self.fetch_btn = QPushButton("Fetch and open", self)
        self.cancel_btn = QPushButton("Cancel", self)
        self.cancel_btn.setEnabled(False)
        self.status_label = QLabel("", self)
        self.status_label.setWordWrap(True)

        self.server_box = QWidget(self)
        server = QFormLayout(self.server_box)
        server.setContentsMargins(0, 0, 0, 0)
        server.addRow("URL", self.url_edit)
        server.addRow("User", self.user_edit)
        server.addRow("Password", self.password_edit)
        server.addRow("", self.bearer_check)
        server.addRow("", self.tls_check)
        self.fields_box = QWidget(self)
        fields = QFormLayout(self.fields_box)
        fields.setContentsMargins(0, 0, 0, 0)
        fields.addRow("Collection", self.collection_edit)
        fields.addRow("Body part", self.body_part_edit)
        fields.addRow("Text", self.text_edit)
        fields.addRow("", self.seg_check)

        layout = QVBoxLayout(self)
        top = QFormLayout()
        top.addRow("Source", self.source_combo)
        layout.addLayout(top)
        layout.addWidget(self.server_box)
        layout.addWidget(self.fields_box)
        layout.addWidget(self.search_btn)
        layout.addWidget(self.table, 1)
        dest = QFormLayout()
        dest.addRow("Save to", self.folder_edit)
        layout.addLayout(dest)
        buttons = QHBoxLayout()
        buttons.addWidget(self.fetch_btn, 1)
        buttons.addWidget(self.cancel_btn)
        layout.addLayout(buttons)
        layout.addWidget(self.status_label)

    def _connect(self) -> None:
        self.source_combo.currentTextChanged.connect(
            lambda text: self._try(lambda: self.model.set_source(text))
        )
        self.search_btn.clicked.connect(lambda: self._try(self.search))
        self.fetch_btn.clicked.connect(lambda: self._try(self.fetch))
        self.cancel_btn.clicked.connect(self.cancel)
        self.table.itemSelectionChanged.connect(self._on_table_selection)
        self.model.events.source_changed.connect(self._on_source)
        self.model.events.rows_changed.connect(self._show_rows)
        self.model.events.status_changed.connect(self.status_label.setText)
        # queued: the job reports from its worker thread; the dock redraws in the GUI thread
        self._bridge.progressed.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)

    def _on_source(self, source: Source) -> None:
        self.server_box.setVisible(source == Source.DICOMWEB)
        self.fields_box.setVisible(source != Source.CURATED)
        if self.source_combo.currentText() != source.value:
            self.source_combo.setCurrentText(source.value)

    # -- errors -----------------------------------------------------------------------------

    def _fail(self, err: BaseException) -> str:
        """One line in the dock and one error notification; never a traceback."""
        from napari.utils.notifications import show_error

        from ..reader import failure_text

        text = scrub(failure_text(err, WIDGET_NAME), self.credentials())
        self.status_label.setText(f"Error: {text.removeprefix(WIDGET_NAME + ': ')}")
        show_error(text)
        return text

    def _try(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception as err:  # a button's boundary: one line, never a traceback
            self._fail(err)
            return None

    # -- search -----------------------------------------------------------------------------

    def credentials(self) -> Credentials:
        """What the user typed for the DICOMweb server (read at each request, never kept)."""
        return Credentials(
            self.user_edit.text(), self.password_edit.text(), self.bearer_check.isChecked()
        )

    def _read_fields(self) -> None:
        self.model.set_source(self.source_combo.currentText())
        self.model.set_url(self.url_edit.text())
        self.model.set_verify_tls(self.tls_check.isChecked())
        self.model.set_fields(
            SearchFields(
                collection=self.collection_edit.text().strip(),
                body_part=self.body_part_edit.text().strip(),
                text=self.text_edit.text().strip(),
                with_seg=self.seg_check.isChecked(),
            )
        )

    def _start(self, fn: Callable[..., Any], done: Callable[[Any, Any], None], *args: Any) -> Any:
        """Run ``fn(*args)`` off the GUI thread; ``done(result, error)`` in the GUI thread.

        The worker returns its result or its exception as one value, so that what the dock
        does after it never depends on the order in which signals from another thread arrive.
        """
        from napari.qt.threading import create_worker

        worker = create_worker(_outcome, fn, *args, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(lambda out: done(*out))
        worker.errored.connect(lambda err: done(None, err))  # what _outcome does not catch
        self._worker = worker
        worker.start()
        return worker

    def search(self) -> Any:
        """Search off the GUI thread; the rows appear when it returns. Returns the worker."""
        self._read_fields()
        self._set_busy(True, "Searching ...")
        return self._start(self.model.find, self._search_ended, self.credentials())

    def _search_ended(self, rows: list[ResultRow] | None, error: BaseException | None) -> None:
        if error is not None:
            self._fail(error)
        else:
            self._try(lambda: self.model.show_rows(rows or []))
        self._set_busy(False)
        self.search_done.emit()

    def _show_rows(self, rows: Sequence[ResultRow]) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row.cells()):
                item = QTableWidgetItem(text)
                item.setToolTip(row.series_uid)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.table.blockSignals(False)

    def _on_table_selection(self) -> None:
        selection = self.table.selectionModel()
        rows = [] if selection is None else sorted({i.row() for i in selection.selectedRows()})
        self._try(lambda: self.model.select(rows))

    def select_rows(self, rows: Sequence[int]) -> None:
        """Select these rows of the results table (as clicking them does)."""
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for r in rows:
            self.table.selectRow(r)
        self.table.setSelectionMode(mode)

    # -- fetch ------------------------------------------------------------------------------

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self.search_btn.setEnabled(not busy)
        self.fetch_btn.setEnabled(not busy)
        self.cancel_btn.setEnabled(busy and self.model.job is not None)
        if text:
            self.status_label.setText(text)

    def fetch(self) -> Any:
        """Fetch the selected rows off the GUI thread, with a progress bar; open them when
        done. Returns the worker."""
        from napari.utils import progress

        self._read_fields()
        folder = self.folder_edit.text().strip() or None
        job = self.model.start_fetch(folder, self.credentials())
        self._progress_bar = progress(total=100, desc=f"{WIDGET_NAME}: fetching")
        self._percent = 0
        job.progressed.connect(self._bridge.progressed.emit)
        self._set_busy(True)
        return self._start(job.run, lambda opened, err: self._fetch_ended(job, opened, err))

    @property
    def job(self) -> FetchJob | None:
        """The fetch running (None when none is)."""
        return self.model.job

    def cancel(self) -> None:
        """Stop the fetch running (nothing it downloaded is kept)."""
        if self.model.job is not None:
            self.model.job.cancel()
            self.status_label.setText("Cancelling ...")

    def _on_progress(self, percent: int, text: str) -> None:
        """Show a report of the fetch running: the status line, then the progress bar.

        Updating napari's progress bar lets Qt handle pending events, so later reports (and the
        fetch's end) may run inside this call: the bar only ever moves forward to the latest
        percentage, and reports that arrive after the end are dropped.
        """
        if self.model.job is None or percent < self._percent:
            return
        self._percent = percent
        self.status_label.setText(f"{percent} %: {text}")
        if self._progress_bar is not None:
            self._progress_bar.set_description(f"{WIDGET_NAME}: {text}"[:80])
        if self._updating_bar:
            return
        self._updating_bar = True
        try:
            while self._progress_bar is not None and self._progress_bar.n < self._percent:
                self._progress_bar.update(self._percent - self._progress_bar.n)
        finally:
            self._updating_bar = False

    def _fetch_ended(
        self, job: FetchJob, opened: list[OpenedSeries] | None, error: BaseException | None
    ) -> None:
        bar, self._progress_bar = self._progress_bar, None
        if bar is not None:
            if bar.n < self._percent:  # the last reports came while the bar was updating
                bar.update(self._percent - bar.n)
            self.last_progress = int(bar.n)
            bar.close()
        if error is None and opened is not None:
            error = self._open(opened)
        if isinstance(error, FetchCancelled) or (error is not None and job.cancelled):
            self.model.fetch_finished(None)
        elif error is not None:
            text = self._fail(error)
            self.model.fetch_finished([], error=text.removeprefix(WIDGET_NAME + ": "))
        self._set_busy(False)
        self.fetch_done.emit()

    def _open(self, opened: Sequence[OpenedSeries]) -> Exception | None:
        """Add the layers and say so; what went wrong, if anything."""
        try:
            self.add_layers(opened)
        except Exception as err:  # the dock's boundary: one line, never a traceback
            return err
        self.model.fetch_finished(opened)
        self._show_notes(opened)
        return None

    @staticmethod
    def _show_notes(opened: Sequence[OpenedSeries]) -> None:
        """One warning notification with what the reading noted (if anything)."""
        from napari.utils.notifications import show_warning

        notes = [f"{o.row.description or o.row.series_uid}: {n}" for o in opened for n in o.notes]
        if notes:
            show_warning(f"{WIDGET_NAME}: " + "\n".join(notes))

    def add_layers(self, opened: Sequence[OpenedSeries]) -> list[Layer]:
        """Add each opened series as Image layer(s) and its segmentations as Labels layers."""
        from .._viewer import prepare_viewer

        prepare_viewer(self._viewer)
        added: list[Layer] = []
        for o in opened:
            name = o.row.description or o.row.series_uid
            for vol in o.volumes:
                label = name if len(o.volumes) == 1 else f"{name} {vol.metadata.description}"
                added.append(self._add(image_layer_data(vol, name=label)))
            for seg in o.segmentations:
                # regions named by the fit's structure names, in the SEG's own colours
                table = {
                    v: {"name": seg.structures.get(v, e.name), "color": e.rgba}
                    for v, e in seg.table.items()
                }
                added.append(self._add(labels_layer_data(seg.labels, table, name=seg.name)))
        self.added_layers.extend(added)
        return added

    def _add(self, layer_data: tuple[Any, dict[str, Any], str]) -> Layer:
        from napari.layers import Layer

        return self._viewer.add_layer(Layer.create(*layer_data))


def _outcome(fn: Callable[..., Any], *args: Any) -> tuple[Any, Exception | None]:
    """``(fn(*args), None)``, or ``(None, the exception)`` (run in a worker thread)."""
    try:
        return fn(*args), None
    except Exception as err:  # handed to the GUI thread, which shows it as one line
        return None, err
