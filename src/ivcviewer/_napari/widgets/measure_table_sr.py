"""The measurement table's rows read from a measurement report (DICOM SR TID 1500).

:class:`SRRowsMixin` gives :class:`~.measure_table.MeasurementTableWidget` its "Load SR" button's
work: :meth:`~SRRowsMixin.load_sr` reads the report with
:func:`ivcviewer.interop.sr_read.read_sr` and the table shows each region below the measured
ones, in the cells :func:`.measure_table_rows.sr_cells` gives (the figures the report holds,
the reported ones in parentheses).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtWidgets import QFileDialog

from ...errors import IvcviewerError
from ...interop.sr_read import SRRegionRow, read_sr
from ..reader import failure_text
from .measure_table_rows import COL, sr_cells


class SRRowsMixin:
    """Rows of a measurement report in a table widget with ``_item`` and ``update_rows``."""

    sr_rows: list[SRRegionRow]
    """The regions of the report shown (empty: none)."""
    sr_path: str
    """The report's file (empty: none)."""

    if TYPE_CHECKING:  # the widget's own

        def _item(
            self, r: int, c: int, text: str, tooltip: str = "", passed: Any = None
        ) -> None: ...

        def update_rows(self, event: Any = None) -> None: ...

    def load_sr(self, path: str | Path | None) -> list[SRRegionRow]:
        """Show the regions of the measurement report at ``path`` (None: remove them).

        Raises
        ------
        SRReadError
            ``path`` is not a measurement report ivcviewer reads (the rows shown stay).
        """
        self.sr_rows = [] if path is None else read_sr(path)
        self.sr_path = "" if path is None else str(path)
        self.update_rows()
        return self.sr_rows

    def _fill_sr_rows(self, first: int) -> None:
        """Fill the report's rows from row ``first`` on (the table has room for them)."""
        for k, row in enumerate(self.sr_rows):
            for column, (text, tip) in sr_cells(row, self.sr_path).items():
                self._item(first + k, COL[column], text, tip)

    def _load_sr_dialog(self) -> None:
        from napari.utils.notifications import show_error

        path, _ = QFileDialog.getOpenFileName(
            None, "Measurement report (DICOM SR)", "", "DICOM (*.dcm);;All files (*)"
        )
        if not path:
            return
        try:
            self.load_sr(path)
        except Exception as err:  # the button's boundary: one line, never a traceback
            show_error(str(err) if isinstance(err, IvcviewerError) else failure_text(err, path))
