"""A public-data backend served from local folders, for the Public CT model and dock tests.

:class:`LocalServer` writes a small DICOM CT series and a SEG made on it (highdicom), and answers
the :class:`~ivcviewer.widget_models.public_ct.Backend` calls the way :mod:`ivcviewer.public`
does: a fetch copies a series file by file into a staging folder, reporting progress and
polling ``cancel``, and renames it to ``<to>/<series UID>`` only when complete.
"""

from __future__ import annotations

import importlib.util
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from _dicom_factory import axial_volume
from _seg_factory import dicom_ct, write_seg

from ivcviewer.errors import IvcviewerError
from ivcviewer.public import SeriesHit
from ivcviewer.volume import Volume
from ivcviewer.widget_models.public_ct import SearchFields

#: Longest a held fetch waits for its cancel (a safety net: the tests cancel at once).
HOLD_LIMIT_S = 60.0


def idc_search_unavailable() -> str | None:
    """Why the real offline IDC search cannot run here, or None."""
    if importlib.util.find_spec("idc_index_data") is None:
        return "idc-index-data (the offline IDC index) is not installed"
    return None


class Refused(IvcviewerError):
    """What the server answers to a wrong password."""


class LocalServer:
    """CT series (one with a SEG) served from ``root`` through the backend calls."""

    def __init__(self, root: Path, password: str = "") -> None:
        self.root = root
        self.password = password
        self.ct, sources = dicom_ct(root / "served" / "ct", axial_volume(6, 24, 24), "pubct")
        masks = np.zeros((*self.ct.shape, 2), bool)
        masks[1:4, 3:10, 4:12, 0] = True
        masks[2:5, 12:20, 6:14, 1] = True
        (root / "served" / "seg").mkdir()
        write_seg(root / "served" / "seg" / "seg.dcm", sources, masks, ["Liver", "Right kidney"])
        self.ct_uid = str(sources[0].SeriesInstanceUID)
        self.study_uid = str(sources[0].StudyInstanceUID)
        self.seg_uid = str(pydicom.dcmread(root / "served" / "seg" / "seg.dcm").SeriesInstanceUID)
        self.folders = {self.ct_uid: root / "served" / "ct", self.seg_uid: root / "served" / "seg"}
        self.hits = [
            SeriesHit(
                self.ct_uid,
                self.study_uid,
                "c4kc_kits",
                "KiTS-00001",
                "abdomen arterial",
                "CT",
                "ABDOMEN",
                len(sources),
                0.5,
                "CC BY 4.0",
                ((self.seg_uid, "SEG", "kidney and liver"),),
            ),
            SeriesHit(
                "1.2.826.0.1.3680043.8.498.2",
                "1.2.826.0.1.3680043.8.498.3",
                "tcga_sarc",
                "TCGA-X1",
                "chest",
                "CT",
                "CHEST",
                120,
                60.25,
                "CC BY 3.0",
            ),
        ]
        self.searches: list[tuple[str, Any]] = []
        self.auths: list[Any] = []
        self.verify_tls: list[bool] = []
        #: When set, a fetch stops after its first file (setting ``first_file_written``)
        #: until ``cancel()`` says True.
        self.hold: threading.Event | None = None
        #: Hold only the fetch of this series (None: every fetch).
        self.hold_uid: str | None = None
        self.first_file_written = threading.Event()

    @property
    def volume(self) -> Volume:
        """The CT as read back from the served folder."""
        return self.ct

    def search_idc(self, fields: SearchFields) -> list[Any]:
        self.searches.append(("idc", fields))
        hits = [h for h in self.hits if fields.collection in ("", h.collection)]
        return [h for h in hits if h.segs or not fields.with_seg]

    def curated(self) -> list[Any]:
        self.searches.append(("curated", None))
        return self.hits[1:]

    def search_dicomweb(
        self, url: str, fields: SearchFields, auth: Any, verify_tls: bool
    ) -> list[Any]:
        self.verify_tls.append(verify_tls)
        self._check_auth(auth)
        self.searches.append((url, fields))
        return self.hits[:1]

    def _check_auth(self, auth: Any) -> None:
        self.auths.append(auth)
        if self.password and getattr(auth, "password", None) != self.password:
            given = getattr(auth, "password", "")
            raise Refused(f"server answered 401 Unauthorized for password {given}")

    def fetch_idc(
        self, series_uid: str, to: Path, progress: Callable[..., None], cancel: Callable[[], bool]
    ) -> Path | None:
        return self._copy(series_uid, to, progress, cancel)

    def fetch_dicomweb(
        self,
        url: str,
        study_uid: str,
        series_uid: str,
        to: Path,
        auth: Any,
        verify_tls: bool,
        progress: Callable[..., None],
        cancel: Callable[[], bool],
    ) -> Path | None:
        self.verify_tls.append(verify_tls)
        self._check_auth(auth)
        return self._copy(series_uid, to, progress, cancel)

    def default_folder(self) -> Path:
        return self.root / "cache"

    def _copy(
        self, uid: str, to: Path, progress: Callable[..., None], cancel: Callable[[], bool]
    ) -> Path:
        target = Path(to) / uid
        if target.is_dir():
            return target
        files = sorted(self.folders[uid].iterdir())
        staging = Path(to) / f".{uid}.partial"
        staging.mkdir(parents=True)
        try:
            for i, f in enumerate(files, start=1):
                if cancel():
                    raise IvcviewerError(f"fetch {uid}: cancelled; nothing was kept.")
                shutil.copy2(f, staging / f.name)
                progress(i, len(files), f"{i} of {len(files)} files")
                if self.hold is not None and i == 1 and self.hold_uid in (None, uid):
                    self.first_file_written.set()
                    self._wait_for_cancel(cancel)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target

    def _wait_for_cancel(self, cancel: Callable[[], bool]) -> None:
        assert self.hold is not None
        waited = 0.0
        while not cancel() and waited < HOLD_LIMIT_S:
            self.hold.wait(0.02)
            waited += 0.02
