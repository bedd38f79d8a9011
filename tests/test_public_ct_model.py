"""The Public CT dock's model, without Qt: search, rows, selection, fetch with progress and
cancel, the series and its SEG read; a real offline IDC search when idc-index is installed."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from _public_ct_factory import LocalServer, idc_search_unavailable

from ivcviewer.errors import IvcviewerError
from ivcviewer.widget_models.public_ct import (
    COLUMNS,
    Credentials,
    FetchCancelled,
    FetchJob,
    PublicBackend,
    PublicCTModel,
    ResultRow,
    SearchFields,
    Source,
)

#: Why the real offline IDC search cannot run here (None when it can).
IDC_SKIP = idc_search_unavailable()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> LocalServer:
    return LocalServer(tmp_path_factory.mktemp("public"), password="pa55-word")


def _model(server: LocalServer) -> PublicCTModel:
    server.hold = None
    return PublicCTModel(server)


def test_idc_search_shows_rows_and_passes_the_fields(server: LocalServer) -> None:
    m = _model(server)
    seen: list[list[ResultRow]] = []
    m.events.rows_changed.connect(seen.append)
    m.set_fields(SearchFields(collection="c4kc_kits", with_seg=True))
    rows = m.search()
    assert server.searches[-1] == ("idc", SearchFields(collection="c4kc_kits", with_seg=True))
    assert seen == [rows] and len(rows) == 1
    row = rows[0]
    assert row.series_uid == server.ct_uid and row.study_uid == server.study_uid
    cells = dict(zip(COLUMNS, row.cells(), strict=True))
    assert cells == {
        "Collection": "c4kc_kits",
        "Patient": "KiTS-00001",
        "Description": "abdomen arterial",
        "Images": str(server.ct.shape[0]),
        "Size (MB)": "0.5",
        "Licence": "CC BY 4.0",
        "SEG": "SEG",
    }
    assert m.status == "1 series found."
    m.set_fields(SearchFields())
    assert [r.collection for r in m.search()] == ["c4kc_kits", "tcga_sarc"]


def test_curated_source_lists_the_curated_series(server: LocalServer) -> None:
    m = _model(server)
    m.set_source(Source.CURATED)
    rows = m.search()
    assert server.searches[-1] == ("curated", None)
    assert [(r.collection, r.licence, r.size_mb) for r in rows] == [
        ("tcga_sarc", "CC BY 3.0", 60.25)
    ]
    assert rows[0].cells()[-1] == ""  # no SEG


def test_selection_is_checked_and_cleared_by_a_new_search(server: LocalServer) -> None:
    m = _model(server)
    m.search()
    m.select([1, 0, 1])
    assert m.selection == [0, 1]
    with pytest.raises(IndexError, match=r"\[5\] out of range \(2 rows\)"):
        m.select([5])
    m.search()
    assert m.selection == []
    with pytest.raises(IvcviewerError, match="no series selected"):
        m.start_fetch()


def test_fetch_reads_the_series_and_its_seg_with_progress_to_100(
    server: LocalServer, tmp_path: Path
) -> None:
    m = _model(server)
    m.search()
    m.select([0])
    job = m.start_fetch(tmp_path / "dest")
    seen: list[int] = []
    job.progressed.connect(lambda pct, _text: seen.append(pct))
    (opened,) = job.run()
    assert seen[-1] == 100 and job.percent == 100
    assert seen == sorted(seen) and len(set(seen)) > 3
    assert opened.folder == tmp_path / "dest" / server.ct_uid
    assert sorted(p.name for p in (tmp_path / "dest").iterdir()) == sorted(
        [server.ct_uid, server.seg_uid]
    )
    (vol,) = opened.volumes
    np.testing.assert_array_equal(vol.array, server.ct.array)
    np.testing.assert_allclose(vol.affine, server.ct.affine)
    (seg,) = opened.segmentations
    assert seg.name == "kidney and liver (binary SEG)"
    assert sorted(seg.structures.values()) == ["kidney_right", "liver"]
    assert seg.labels.shape == vol.shape
    assert int((seg.labels.array > 0).sum()) > 0
    m.fetch_finished([opened])
    assert m.status == "Opened 1 series with 1 segmentation(s)."


def test_fetch_goes_to_the_backends_folder_by_default(server: LocalServer) -> None:
    m = _model(server)
    m.set_source(Source.CURATED)
    m.search()
    m.select([0])
    assert m.start_fetch().to == server.root / "cache"


def _run_held(job: FetchJob, server: LocalServer) -> list[BaseException]:
    """Run ``job`` in a thread held after its first file; cancel it there; its exception."""
    server.hold, server.first_file_written = threading.Event(), threading.Event()
    raised: list[BaseException] = []

    def run() -> None:
        try:
            job.run()
        except BaseException as err:
            raised.append(err)

    thread = threading.Thread(target=run)
    thread.start()
    assert server.first_file_written.wait(60)
    assert not job.cancelled
    job.cancel()
    thread.join(60)
    assert not thread.is_alive()
    server.hold = None
    return raised


def test_cancel_stops_and_leaves_nothing(server: LocalServer, tmp_path: Path) -> None:
    m = _model(server)
    m.search()
    m.select([0])
    dest = tmp_path / "dest"
    dest.mkdir()
    (raised,) = _run_held(m.start_fetch(dest), server)
    assert isinstance(raised, FetchCancelled)
    assert list(dest.iterdir()) == []


def test_cancel_during_the_seg_removes_the_ct_it_fetched_but_keeps_a_cached_one(
    server: LocalServer, tmp_path: Path
) -> None:
    row = ResultRow.from_hit(server.hits[0])
    fresh = tmp_path / "fresh"
    server.hold_uid = server.seg_uid
    try:
        seen: list[str] = []
        job = FetchJob(server, Source.IDC, [row], fresh)
        job.progressed.connect(lambda _pct, text: seen.append(text))
        (raised,) = _run_held(job, server)
        assert isinstance(raised, FetchCancelled)
        assert any(t.startswith("SEG kidney and liver") for t in seen), seen  # the CT was complete
        assert list(fresh.iterdir()) == []  # and was removed with the partial SEG

        cached = tmp_path / "cached"
        server.hold = None
        (before,) = FetchJob(server, Source.IDC, [row], cached)._steps()[:1]
        ct_folder = server.fetch_idc(row.series_uid, cached, lambda *a: None, lambda: False)
        (raised,) = _run_held(FetchJob(server, Source.IDC, [row], cached), server)
        assert isinstance(raised, FetchCancelled)
        assert list(cached.iterdir()) == [ct_folder]  # there before the job: kept
        assert before[1] == row.series_uid
    finally:
        server.hold_uid = None


def test_dicomweb_credentials_go_to_the_request_and_never_into_a_message(
    server: LocalServer, tmp_path: Path
) -> None:
    m = _model(server)
    m.set_source(Source.DICOMWEB)
    m.set_url("ftp://server")
    with pytest.raises(IvcviewerError, match="starts with http:// or https://"):
        m.search(Credentials("ann", "pa55-word"))
    m.set_url("http://127.0.0.1:8042/dicom-web")
    (row,) = m.search(Credentials("ann", "pa55-word"))
    assert (server.auths[-1].user, server.auths[-1].password) == ("ann", "pa55-word")
    assert server.verify_tls[-1] is True
    m.set_verify_tls(False)
    m.select([0])
    wrong = Credentials("ann", "not-it-123")
    assert "not-it-123" not in repr(wrong)
    with pytest.raises(IvcviewerError) as err:
        m.start_fetch(tmp_path / "d", wrong).run()
    assert "401 Unauthorized" in str(err.value) and "not-it-123" not in str(err.value)
    assert "***" in str(err.value)
    assert server.verify_tls[-1] is False  # turned off explicitly, passed to the fetch
    assert not (tmp_path / "d").exists() or list((tmp_path / "d").iterdir()) == []
    with pytest.raises(IvcviewerError) as err:
        m.search(wrong)
    assert "not-it-123" not in str(err.value)
    assert not hasattr(m, "credentials")  # the model keeps no password


def test_credentials_become_the_dicomweb_auth_and_hide_the_secret() -> None:
    bearer = Credentials(secret="tok-en", bearer=True).auth()
    assert bearer is not None and (bearer.kind, bearer.token) == ("bearer", "tok-en")
    basic = Credentials("ann", "pa55").auth()
    assert basic is not None and (basic.kind, basic.user, basic.password) == (
        "basic",
        "ann",
        "pa55",
    )
    assert "tok-en" not in repr(bearer) and "pa55" not in repr(basic)
    assert Credentials("ann").auth() is None


def test_rows_from_hits_with_missing_values() -> None:
    class Curated:
        series_uid = "1.2.3"
        collection = "cptac_sar"
        why = "leiomyosarcoma of the IVC"
        n_images = None
        size_mb = float("nan")
        license = "CC BY 4.0"

    row = ResultRow.from_hit(Curated())
    assert row.cells() == ("cptac_sar", "", "leiomyosarcoma of the IVC", "", "", "CC BY 4.0", "")


@pytest.mark.skipif(IDC_SKIP is not None, reason=str(IDC_SKIP))
def test_real_offline_idc_search_finds_sarcoma_and_kidney_ct() -> None:
    m = PublicCTModel(PublicBackend())
    m.set_fields(SearchFields(collection="tcga_sarc", limit=5))
    rows = m.search()
    assert 0 < len(rows) <= 5
    assert {r.collection for r in rows} == {"tcga_sarc"}
    assert all(r.licence and r.n_images and r.series_uid for r in rows)
    m.set_fields(SearchFields(collection="c4kc_kits", with_seg=True, limit=3))
    rows = m.search()
    assert rows and all(r.anatomy for r in rows)
    assert all(c.cells()[-1] for c in rows)


def test_real_curated_list_gives_rows_with_licences_and_segs() -> None:
    m = PublicCTModel(PublicBackend())
    m.set_source(Source.CURATED)
    rows = m.search()
    assert rows and all(r.series_uid and r.licence and r.collection for r in rows)
    assert any(r.anatomy for r in rows)  # the kidney-cancer entries bring their SEGs
    assert all(r.cells()[-1] == "SEG" for r in rows if r.anatomy)


def test_a_segmentation_that_does_not_read_leaves_a_note_and_the_ct_opens(
    server: LocalServer, tmp_path: Path
) -> None:
    from dataclasses import replace

    from _dicom_factory import write_text_file

    broken_uid = "1.2.826.0.1.3680043.8.498.99"
    (tmp_path / "served").mkdir()
    write_text_file(tmp_path / "served" / "notes.dcm")
    server.folders[broken_uid] = tmp_path / "served"
    good = ResultRow.from_hit(server.hits[0])
    row = replace(good, segs=(*good.segs, (broken_uid, "SEG", "broken")))
    (opened,) = FetchJob(server, Source.IDC, [row], tmp_path / "dest").run()
    np.testing.assert_array_equal(opened.volumes[0].array, server.ct.array)
    assert [s.name for s in opened.segmentations] == ["kidney and liver (binary SEG)"]
    (note,) = [n for n in opened.notes if "not opened as anatomy" in n]
    assert "notes.dcm" in note and "Fix:" in note
