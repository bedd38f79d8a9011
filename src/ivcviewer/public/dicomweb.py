"""Search (QIDO-RS) and fetch (WADO-RS) series from a DICOMweb server, through dicomweb-client.

Credentials come from the environment (:data:`TOKEN_ENV` for a bearer token, else
:data:`USER_ENV` with :data:`PASSWORD_ENV`, or a hidden prompt for the password when the
session is interactive). They are held in :class:`DicomwebAuth`, whose ``repr`` hides them,
and are never echoed, logged, put into a message or written to a file. TLS certificates are
verified unless ``verify_tls=False`` (``--insecure``) is given explicitly.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .._deps import import_optional_dependency
from ._common import Cancel, Progress, PublicDataError, SeriesHit, check_cancel, report
from ._place import present, staging
from .cache import cache_dir, is_uid
from .verify import check_series

USER_ENV = "IVCVIEWER_DICOMWEB_USER"
PASSWORD_ENV = "IVCVIEWER_DICOMWEB_PASSWORD"
TOKEN_ENV = "IVCVIEWER_DICOMWEB_TOKEN"

#: Seconds a DICOMweb request may take.
TIMEOUT_S = 60.0

_FIX_AUTH = (
    f"Fix: set {USER_ENV} and {PASSWORD_ENV} (or {TOKEN_ENV}) to credentials the server accepts."
)


@dataclass(frozen=True)
class DicomwebAuth:
    """Credentials for a DICOMweb server: basic (user and password) or a bearer token.

    >>> DicomwebAuth(user="ann", password="s3cret")
    DicomwebAuth(user='ann', kind='basic')
    """

    user: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"DicomwebAuth(user={self.user!r}, kind={self.kind!r})"

    @property
    def kind(self) -> str:
        """``"bearer"``, ``"basic"`` or ``"none"``."""
        return "bearer" if self.token else ("basic" if self.user else "none")

    @classmethod
    def from_env(
        cls, user: str | None = None, prompt: Callable[[str], str] | None = None
    ) -> DicomwebAuth:
        """Credentials from the environment; a password prompt when a user has none.

        Parameters
        ----------
        user
            User name (``--user``); default :data:`USER_ENV`.
        prompt
            Asks for the password without echoing it (default :func:`getpass.getpass`, used
            only when stdin is a terminal).
        """
        token = os.environ.get(TOKEN_ENV)
        if token:
            return cls(token=token)
        user = user or os.environ.get(USER_ENV) or None
        if not user:
            return cls()
        password = os.environ.get(PASSWORD_ENV)
        if password is None and prompt is None and sys.stdin is not None and sys.stdin.isatty():
            prompt = getpass.getpass
        if password is None and prompt is not None:
            password = prompt(f"DICOMweb password for {user}: ")
        if password is None:
            raise PublicDataError(
                f"DICOMweb: user {user!r} has no password (no {PASSWORD_ENV}, and no terminal "
                f"to ask on). Fix: set {PASSWORD_ENV}."
            )
        return cls(user=user, password=password)


def safe_url(url: str) -> str:
    """``url`` as messages show it: without query or fragment.

    >>> safe_url("https://pacs.example.org/dicom-web?token=x")
    'https://pacs.example.org/dicom-web'
    """
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}" + (
        parts.path.rstrip("/")
    )


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PublicDataError(
            f"--dicomweb: {url[:70]!r} is not an http(s) URL. "
            "Fix: give the server's DICOMweb root, e.g. https://pacs.example.org/dicom-web."
        )
    if parts.username or parts.password or parts.query:
        raise PublicDataError(
            "--dicomweb: the URL holds credentials or a query; nothing was sent. "
            f"Fix: give the bare URL and the credentials in {USER_ENV}/{PASSWORD_ENV} or "
            f"{TOKEN_ENV}."
        )
    return url.rstrip("/")


def _client(url: str, auth: DicomwebAuth | None, verify_tls: bool) -> Any:
    requests = import_optional_dependency("requests", "DICOMweb")
    web = import_optional_dependency("dicomweb_client", "DICOMweb")
    session = requests.Session()
    session.verify = bool(verify_tls)
    if auth is not None and auth.token:
        session.headers["Authorization"] = f"Bearer {auth.token}"
    elif auth is not None and auth.user:
        session.auth = (auth.user, auth.password or "")
    return web.DICOMwebClient(url=url, session=session, timeout=TIMEOUT_S)


@contextmanager
def _server_errors(url: str, what: str) -> Iterator[None]:
    """Turn the request library's errors into one line naming the server, never its secrets."""
    requests = import_optional_dependency("requests", "DICOMweb")
    shown = safe_url(url)
    try:
        yield
    except requests.exceptions.SSLError:
        raise PublicDataError(
            f"{what}: the TLS certificate of {shown} could not be verified; nothing was kept. "
            "Fix: point REQUESTS_CA_BUNDLE at the server's CA, or add --insecure on a network "
            "you trust."
        ) from None
    except requests.exceptions.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        if status in (401, 403):
            raise PublicDataError(
                f"{what}: {shown} refused the credentials (HTTP {status}); nothing was kept. "
                + _FIX_AUTH
            ) from None
        if status == 404:
            raise PublicDataError(
                f"{what}: {shown} has no such study or series (HTTP 404); nothing was kept. "
                "Fix: check the UIDs with 'ivcviewer search --dicomweb URL'."
            ) from None
        raise PublicDataError(
            f"{what}: {shown} answered HTTP {status}; nothing was kept. "
            "Fix: check the URL (the server's DICOMweb root) and try again."
        ) from None
    except requests.exceptions.RequestException as exc:
        raise PublicDataError(
            f"{what}: {shown} cannot be reached ({type(exc).__name__}); nothing was kept. "
            "Fix: check the URL and the network."
        ) from None


def _value(item: dict[str, Any], tag: str) -> str:
    values = item.get(tag, {}).get("Value") or [""]
    first = values[0]
    if isinstance(first, dict):  # a person name
        return str(first.get("Alphabetic", ""))
    return str(first)


# DICOM JSON tags read from QIDO answers
_SERIES_UID, _STUDY_UID, _SOP_UID = "0020000E", "0020000D", "00080018"
_PATIENT_ID, _MODALITY, _DESCRIPTION = "00100020", "00080060", "0008103E"
_BODY_PART, _N_INSTANCES = "00180015", "00201209"


def search_dicomweb(
    url: str,
    study_uid: str | None = None,
    patient_id: str | None = None,
    modality: str | None = "CT",
    text: str | None = None,
    limit: int = 50,
    auth: DicomwebAuth | None = None,
    verify_tls: bool = True,
) -> list[SeriesHit]:
    """Series on a DICOMweb server (QIDO-RS) matching the filters given.

    ``text`` matches the series description (with wildcards around it); the hits'
    ``collection`` is the server's host and their licence ``""`` (the server does not say).
    """
    url = _check_url(url)
    filters: dict[str, Any] = {}
    if modality:
        filters["Modality"] = modality.strip().upper()
    if patient_id:
        filters["PatientID"] = patient_id
    if text:
        filters["SeriesDescription"] = f"*{text.strip()}*"
    fields = [
        "PatientID",
        "SeriesDescription",
        "BodyPartExamined",
        "NumberOfSeriesRelatedInstances",
    ]
    client = _client(url, auth, verify_tls)
    with _server_errors(url, "search --dicomweb"):
        found = client.search_for_series(
            study_instance_uid=study_uid, search_filters=filters, fields=fields, limit=limit
        )
    host = urlsplit(url).hostname or ""
    hits = [
        SeriesHit(
            series_uid=_value(item, _SERIES_UID),
            study_uid=_value(item, _STUDY_UID),
            collection=host,
            patient_id=_value(item, _PATIENT_ID),
            description=_value(item, _DESCRIPTION),
            modality=_value(item, _MODALITY),
            body_part=_value(item, _BODY_PART),
            n_images=int(_value(item, _N_INSTANCES) or 0),
            size_mb=0.0,
            licence="",
        )
        for item in found
    ]
    return sorted(hits, key=lambda h: (h.patient_id, h.study_uid, h.series_uid))[:limit]


def _instances(client: Any, study_uid: str, series_uid: str | None) -> list[tuple[str, str]]:
    """``(series UID, SOP instance UID)`` of every instance to fetch, checked to be UIDs."""
    found = client.search_for_instances(
        study_instance_uid=study_uid,
        series_instance_uid=series_uid,
        fields=["SeriesInstanceUID", "SOPInstanceUID"],
        get_remaining=True,
    )
    out = sorted({(_value(i, _SERIES_UID), _value(i, _SOP_UID)) for i in found})
    return [(s, o) for s, o in out if is_uid(s) and is_uid(o)]


def fetch_dicomweb(
    url: str,
    study_uid: str,
    series_uid: str | None = None,
    to: Path | None = None,
    auth: DicomwebAuth | None = None,
    verify_tls: bool = True,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> Path:
    """Fetch a series (or a whole study) from a DICOMweb server (WADO-RS).

    The instances are stored as sent (``<SOPInstanceUID>.dcm``) in ``<to>/<series or study
    UID>/`` (``to`` defaults to the cache), through a temporary folder renamed into place
    once every instance the server listed has arrived and reads as DICOM of that series.
    An existing folder is returned without fetching again.

    Raises
    ------
    PublicDataError
        A bad URL or UID, refused credentials, an unreachable server, no such study or
        series, an incomplete download.
    FetchCancelledError
        When ``cancel()`` returned True.
    """
    url = _check_url(url)
    for name, uid in (("--study", study_uid), ("--series", series_uid)):
        if uid is not None and not is_uid(uid):
            raise PublicDataError(
                f"fetch {name}: {uid[:70]!r} is not a DICOM UID (digits and dots). "
                "Fix: copy it from 'ivcviewer search --dicomweb URL'."
            )
    target = (Path(to) if to is not None else cache_dir()) / (series_uid or study_uid)
    what = f"fetch {series_uid or study_uid}"
    if present(target):
        return target
    client = _client(url, auth, verify_tls)
    with _server_errors(url, what):
        listed = _instances(client, study_uid, series_uid)
        if not listed:
            raise PublicDataError(
                f"{what}: {safe_url(url)} lists no instances for it. "
                "Fix: check the UIDs with 'ivcviewer search --dicomweb URL'."
            )
        with staging(target, what) as tmp:
            for n, (series, sop) in enumerate(listed):
                check_cancel(cancel, what)
                report(progress, n, len(listed), f"instance {n + 1} of {len(listed)}")
                ds = client.retrieve_instance(
                    study_uid, series, sop, media_types=(("application/dicom", "*"),)
                )
                ds.save_as(tmp / f"{sop}.dcm", enforce_file_format=True)
            check_series(
                tmp, {s for s, _ in listed}, len(listed), what, sop_uids=[o for _, o in listed]
            )
        report(progress, len(listed), len(listed), "done")
    return target
