"""Search the NCI Imaging Data Commons offline, through the index ``idc-index`` ships.

The index (a parquet table of over a million series, in the ``idc-index-data`` package that
``idc-index`` installs) is queried with DuckDB, without network and without loading it all.

SEG and RTSTRUCT series are matched to the image series of their study: the offline index
does not hold the series a segmentation references, so every segmentation of the study is
listed, except those whose description names another series number ("Segmentation of
Series 4", "CT series 2"), which are kept only for that series. When IDC's ``seg_index`` has
been installed (``IDCClient().fetch_index("seg_index")``, with internet), a SEG it lists goes
with the series it references only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._deps import import_optional_dependency
from ._common import PublicDataError, SeriesHit

#: Modalities listed as the segmentations of a series.
SEG_MODALITIES = ("SEG", "RTSTRUCT")
#: Most hits one search returns.
MAX_LIMIT = 10_000

_COLUMNS = (
    "SeriesInstanceUID, StudyInstanceUID, collection_id, PatientID, SeriesDescription, "
    "StudyDescription, Modality, BodyPartExamined, instanceCount, series_size_MB, "
    "license_short_name, SeriesNumber"
)

_QUERY = """
WITH img AS (
  SELECT {columns} FROM read_parquet($path)
  WHERE Modality = $modality {filters}
),
refs AS ({refs}),
ann AS (
  SELECT a.StudyInstanceUID, a.SeriesInstanceUID, a.Modality, a.SeriesDescription,
         regexp_extract(lower(coalesce(a.SeriesDescription, '')), 'series (\\d+)', 1) AS num,
         r.ref
  FROM read_parquet($path) a LEFT JOIN refs r ON r.seg = a.SeriesInstanceUID
  WHERE a.Modality IN ('SEG', 'RTSTRUCT')
    AND a.StudyInstanceUID IN (SELECT StudyInstanceUID FROM img)
)
SELECT img.SeriesInstanceUID, img.StudyInstanceUID, img.collection_id, img.PatientID,
       img.SeriesDescription, img.Modality, img.BodyPartExamined, img.instanceCount,
       img.series_size_MB, img.license_short_name,
       list(ann.SeriesInstanceUID || '|' || ann.Modality || '|'
            || coalesce(ann.SeriesDescription, '') ORDER BY ann.SeriesInstanceUID)
         FILTER (WHERE ann.SeriesInstanceUID IS NOT NULL) AS segs
FROM img LEFT JOIN ann
  ON ann.StudyInstanceUID = img.StudyInstanceUID
 AND (ann.ref = img.SeriesInstanceUID
      OR (ann.ref IS NULL AND (ann.num = '' OR ann.num = CAST(img.SeriesNumber AS VARCHAR))))
GROUP BY ALL
HAVING NOT $with_seg OR count(ann.SeriesInstanceUID) > 0
ORDER BY img.collection_id, img.PatientID, img.StudyInstanceUID, img.SeriesInstanceUID
LIMIT $limit
"""


def index_path() -> Path:
    """The parquet file of the IDC index shipped by ``idc-index-data``.

    Raises
    ------
    OptionalDependencyError
        When ``idc-index`` (and so ``idc-index-data``) is not installed.
    """
    data = import_optional_dependency("idc_index_data", "searching Imaging Data Commons")
    path = getattr(data, "IDC_INDEX_PARQUET_FILEPATH", None)
    if path is None or not Path(path).is_file():
        raise PublicDataError(
            "idc-index-data: its index file (idc_index.parquet) is missing. "
            "Fix: reinstall it (pip install --force-reinstall idc-index-data)."
        )
    return Path(path)


#: Without an installed ``seg_index``: no exact references.
_NO_REFS = "SELECT CAST(NULL AS VARCHAR) AS seg, CAST(NULL AS VARCHAR) AS ref WHERE false"
_SEG_REFS = (
    "SELECT SeriesInstanceUID AS seg, segmented_SeriesInstanceUID AS ref "
    "FROM read_parquet($seg_index) WHERE segmented_SeriesInstanceUID IS NOT NULL"
)


def seg_index_path() -> Path | None:
    """IDC's ``seg_index`` where idc-index installs it on demand, or None when it is absent."""
    try:
        from importlib.metadata import version

        import platformdirs

        folder = platformdirs.user_data_dir(
            "idc_index_data", "IDC", version=version("idc-index-data")
        )
    except Exception:  # idc-index or platformdirs missing: no exact references
        return None
    path = Path(folder) / "seg_index.parquet"
    return path if path.is_file() else None


def index_version() -> str:
    """The IDC data release the installed index describes (``v25``)."""
    data = import_optional_dependency("idc_index_data", "searching Imaging Data Commons")
    return "v" + str(data.__version__).split(".")[0]


def _filters(
    collection: str | None, body_part: str | None, text: str | None, params: dict[str, Any]
) -> str:
    parts = []
    if collection:
        parts.append("lower(collection_id) = lower($collection)")
        params["collection"] = collection.strip()
    if body_part:
        parts.append("BodyPartExamined ILIKE $body_part")
        params["body_part"] = f"%{body_part.strip()}%"
    for n, word in enumerate((text or "").split()):
        key = f"w{n}"
        parts.append(
            f"concat_ws(' ', SeriesDescription, StudyDescription, collection_id, PatientID, "
            f"BodyPartExamined, SeriesInstanceUID) ILIKE ${key}"
        )
        params[key] = f"%{word}%"
    return "".join(f" AND {p}" for p in parts)


def _hit(row: tuple[Any, ...]) -> SeriesHit:
    segs = []
    for item in row[10] or []:
        uid, modality, description = str(item).split("|", 2)
        segs.append((uid, modality, description))
    return SeriesHit(
        series_uid=str(row[0]),
        study_uid=str(row[1]),
        collection=str(row[2]),
        patient_id=str(row[3] or ""),
        description=str(row[4] or ""),
        modality=str(row[5] or ""),
        body_part=str(row[6] or ""),
        n_images=int(row[7] or 0),
        size_mb=round(float(row[8] or 0.0), 1),
        licence=str(row[9] or ""),
        segs=tuple(segs),
    )


def search_idc(
    collection: str | None = None,
    body_part: str | None = None,
    modality: str = "CT",
    text: str | None = None,
    with_seg: bool = False,
    limit: int = 50,
) -> list[SeriesHit]:
    """Series of the IDC index that match every filter given (offline).

    Parameters
    ----------
    collection
        IDC collection id (``tcga_sarc``, ``cptac_sar``, ``c4kc_kits``), any case.
    body_part
        Part of BodyPartExamined (``abdomen`` matches ``ABDOMEN`` and ``CHESTABDPELVIS``).
    modality
        Modality of the image series (default ``CT``).
    text
        Words that must each appear in the series or study description, collection, patient
        or body part (any case).
    with_seg
        Only series with at least one SEG or RTSTRUCT (see the module's note on matching).
    limit
        Most hits returned (1 to 10,000).

    Returns
    -------
    list of SeriesHit
        Ordered by collection, patient, study and series UID.

    Raises
    ------
    PublicDataError
        For a ``limit`` out of range, or an index that cannot be read.
    """
    if not 1 <= int(limit) <= MAX_LIMIT:
        raise PublicDataError(
            f"search: --limit {limit} is out of range. Fix: give a number from 1 to {MAX_LIMIT}."
        )
    duckdb = import_optional_dependency("duckdb", "searching Imaging Data Commons")
    params: dict[str, Any] = {
        "path": str(index_path()),
        "modality": (modality or "CT").strip().upper(),
        "with_seg": bool(with_seg),
        "limit": int(limit),
    }
    seg_index = seg_index_path()
    if seg_index is not None:
        params["seg_index"] = str(seg_index)
    sql = _QUERY.format(
        columns=_COLUMNS,
        filters=_filters(collection, body_part, text, params),
        refs=_SEG_REFS if seg_index is not None else _NO_REFS,
    )
    con = duckdb.connect()
    try:
        rows = con.execute(sql, params).fetchall()
    except duckdb.Error as exc:
        raise PublicDataError(
            f"search: the IDC index {params['path']} could not be read ({exc}). "
            "Fix: reinstall idc-index-data."
        ) from exc
    finally:
        con.close()
    return [_hit(tuple(r)) for r in rows]


def series_rows(series_uids: list[str]) -> dict[str, SeriesHit]:
    """The index's entry of each series UID found (any modality), keyed by UID."""
    duckdb = import_optional_dependency("duckdb", "searching Imaging Data Commons")
    con = duckdb.connect()
    try:
        rows = con.execute(
            "SELECT SeriesInstanceUID, StudyInstanceUID, collection_id, PatientID, "
            "SeriesDescription, Modality, BodyPartExamined, instanceCount, series_size_MB, "
            "license_short_name, NULL FROM read_parquet($path) "
            "WHERE SeriesInstanceUID IN (SELECT unnest($uids))",
            {"path": str(index_path()), "uids": list(series_uids)},
        ).fetchall()
    finally:
        con.close()
    return {str(r[0]): _hit(tuple(r)) for r in rows}
