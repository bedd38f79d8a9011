"""Where the "Public CT" dock's searches and downloads go, and the credentials they carry.

:class:`Backend` is what :class:`~ivcviewer.widget_models.public_ct.PublicCTModel` needs;
:class:`PublicBackend` answers it with :mod:`ivcviewer.public` (the calls the ``search`` and
``fetch`` commands make). :class:`Credentials` holds a DICOMweb password or token for one
request: its ``repr`` hides it and :func:`scrub` takes it out of any message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..public import DicomwebAuth

#: ``progress(done, total, text)`` as the backends call it.
ProgressCallback = Callable[[int, int, str], None]


@dataclass(frozen=True)
class SearchFields:
    """What a search asks for (empty strings: any)."""

    collection: str = ""
    body_part: str = ""
    text: str = ""
    with_seg: bool = False
    modality: str = "CT"
    limit: int = 50


@dataclass(frozen=True)
class Credentials:
    """A DICOMweb user and password (or a bearer token), kept only for one request.

    >>> Credentials("ann", "s3cret")
    Credentials(user='ann', bearer=False)
    """

    user: str = ""
    secret: str = field(default="", repr=False)
    bearer: bool = False

    @property
    def empty(self) -> bool:
        """No password or token given."""
        return not self.secret

    def auth(self) -> DicomwebAuth | None:
        """The credentials as :class:`ivcviewer.public.DicomwebAuth` (None when no secret).

        >>> Credentials(secret="t0k", bearer=True).auth()
        DicomwebAuth(user=None, kind='bearer')
        """
        if self.empty:
            return None
        if self.bearer:
            return DicomwebAuth(token=self.secret)
        return DicomwebAuth(user=self.user or None, password=self.secret)


def scrub(text: str, credentials: Credentials | None) -> str:
    """``text`` with the password or token replaced by ``***`` (for any message shown).

    >>> scrub("401 for ann:s3cret", Credentials("ann", "s3cret"))
    '401 for ann:***'
    """
    if credentials is None or credentials.empty:
        return text
    return text.replace(credentials.secret, "***")


class Backend(Protocol):
    """What the model needs of :mod:`ivcviewer.public` (the real one or a test's)."""

    def search_idc(self, fields: SearchFields) -> list[Any]:
        """Series of the offline IDC index matching ``fields``."""

    def curated(self) -> list[Any]:
        """The curated public CT series."""

    def search_dicomweb(
        self, url: str, fields: SearchFields, auth: Any, verify_tls: bool
    ) -> list[Any]:
        """Series a DICOMweb server (QIDO-RS) finds for ``fields``."""

    def fetch_idc(
        self, series_uid: str, to: Path, progress: ProgressCallback, cancel: Callable[[], bool]
    ) -> Path | None:
        """Download one series from IDC into a folder below ``to``; that folder."""

    def fetch_dicomweb(
        self,
        url: str,
        study_uid: str,
        series_uid: str,
        to: Path,
        auth: Any,
        verify_tls: bool,
        progress: ProgressCallback,
        cancel: Callable[[], bool],
    ) -> Path | None:
        """Download one series from a DICOMweb server (WADO-RS) below ``to``; its folder."""

    def default_folder(self) -> Path:
        """Where fetched series go unless the user chooses another folder."""


class PublicBackend:
    """The backend of :mod:`ivcviewer.public` (IDC through idc-index, DICOMweb)."""

    def search_idc(self, fields: SearchFields) -> list[Any]:
        from .. import public

        return list(
            public.search_idc(
                collection=fields.collection or None,
                body_part=fields.body_part or None,
                modality=fields.modality,
                text=fields.text or None,
                with_seg=fields.with_seg,
                limit=fields.limit,
            )
        )

    def curated(self) -> list[Any]:
        from .. import public

        return [c.to_hit() for c in public.curated()]

    def search_dicomweb(
        self, url: str, fields: SearchFields, auth: Any, verify_tls: bool
    ) -> list[Any]:
        from .. import public

        return list(
            public.search_dicomweb(
                url,
                modality=fields.modality,
                text=fields.text or None,
                limit=fields.limit,
                auth=auth,
                verify_tls=verify_tls,
            )
        )

    def fetch_idc(
        self, series_uid: str, to: Path, progress: ProgressCallback, cancel: Callable[[], bool]
    ) -> Path | None:
        from .. import public

        paths = public.fetch_idc([series_uid], to, progress=progress, cancel=cancel)
        return Path(paths[0]) if paths else None

    def fetch_dicomweb(
        self,
        url: str,
        study_uid: str,
        series_uid: str,
        to: Path,
        auth: Any,
        verify_tls: bool,
        progress: ProgressCallback,
        cancel: Callable[[], bool],
    ) -> Path | None:
        from .. import public

        return Path(
            public.fetch_dicomweb(
                url,
                study_uid,
                series_uid,
                to=to,
                auth=auth,
                verify_tls=verify_tls,
                progress=progress,
                cancel=cancel,
            )
        )

    def default_folder(self) -> Path:
        from ..public import cache

        return Path(cache.cache_dir())
