"""Offline search of the Imaging Data Commons index, the curated list, ``ivcviewer search``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ivcviewer.cli.main import main
from ivcviewer.public import PublicDataError, curated, search_idc
from ivcviewer.public.curated import COLUMNS, SUITS
from ivcviewer.public.idc import series_rows

pytest.importorskip("idc_index_data", reason="idc-index is not installed")

SARCOMA = ("tcga_sarc", "cptac_sar")
LICENCES = ("CC BY 3.0", "CC BY 4.0")


@pytest.mark.parametrize("collection", SARCOMA)
def test_sarcoma_collections_hold_abdominal_ct_with_licences(collection: str) -> None:
    hits = search_idc(collection=collection.upper(), limit=500)
    assert len(hits) >= 10
    assert {h.collection for h in hits} == {collection}
    assert {h.modality for h in hits} == {"CT"}
    assert all(h.licence in LICENCES for h in hits)
    assert all(h.n_images > 0 and h.size_mb > 0 for h in hits)
    abdominal = [h for h in hits if "ABD" in f"{h.body_part} {h.description}".upper()]
    assert abdominal, "no abdominal CT series found"


def test_kidney_cancer_ct_comes_with_its_segmentations() -> None:
    hits = search_idc(collection="c4kc_kits", with_seg=True, limit=20)
    assert len(hits) == 20
    for h in hits:
        assert h.licence == "CC BY 3.0" and h.segs
        assert all(modality == "SEG" for _, modality, _ in h.segs)
    # each SEG is a series of the index, in the same study and collection
    seg_uid = hits[0].segs[0][0]
    seg = series_rows([seg_uid])[seg_uid]
    assert seg.modality == "SEG" and seg.study_uid == hits[0].study_uid
    assert seg.collection == "c4kc_kits"


def test_with_seg_keeps_only_series_with_segmentations() -> None:
    every = search_idc(collection="tcga_kirc", body_part="kidney", limit=2000)
    with_seg = search_idc(collection="tcga_kirc", body_part="kidney", with_seg=True, limit=2000)
    assert with_seg and len(with_seg) < len(every)
    assert all(h.segs for h in with_seg)
    assert {h.series_uid for h in with_seg} == {h.series_uid for h in every if h.segs}


def test_a_numbered_segmentation_goes_with_its_series_only() -> None:
    # RCC-AID SEGs name the series they segment ("... CT series 2")
    hits = search_idc(collection="tcga_kirc", text="", with_seg=True, limit=3000)
    numbered = [
        (h, s) for h in hits for s in h.segs if "series" in s[2].lower() and "RCC-AID" in s[2]
    ]
    assert numbered
    for hit, seg in numbered:
        number = seg[2].lower().rsplit("series", 1)[1].split()[0]
        others = [
            h
            for h in hits
            if h.study_uid == hit.study_uid and h.series_uid != hit.series_uid and seg in h.segs
        ]
        assert number.isdigit() and others == []


def test_text_words_must_all_match() -> None:
    hits = search_idc(collection="c4kc_kits", text="ARTERIAL kits-00000", limit=10)
    assert [(h.patient_id, h.description) for h in hits] == [("KiTS-00000", "arterial")]
    assert search_idc(collection="c4kc_kits", text="arterial no-such-word", limit=10) == []


def test_limit_is_checked_and_applied() -> None:
    assert len(search_idc(collection="tcga_kirc", limit=7)) == 7
    with pytest.raises(PublicDataError, match="--limit 0 is out of range"):
        search_idc(limit=0)


def test_cli_search_json_lists_hits_with_licences_and_segs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["search", "--collection", "c4kc_kits", "--with-seg", "--limit", "3", "--json"]
    assert main(args) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 3
    assert set(hits[0]) >= {"series_uid", "collection", "patient_id", "licence", "segs"}
    assert hits[0]["segs"][0]["modality"] == "SEG"


def test_cli_search_table_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "--collection", "tcga_sarc", "--text", "axial", "--limit", "5"]) == 0
    out = capsys.readouterr().out
    assert "tcga_sarc" in out and "CC BY 3.0" in out and "AXIAL CAP" in out
    assert main(["search", "--limit", "-3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--limit -3 is out of range" in err


# the curated list -----------------------------------------------------------------------


def test_curated_series_are_in_the_index_as_listed() -> None:
    entries = curated()
    assert {c.suits for c in entries} == set(SUITS)
    rows = series_rows([c.series_uid for c in entries])
    for c in entries:
        row = rows[c.series_uid]
        assert (row.collection, row.patient_id, row.study_uid) == (
            c.collection,
            c.patient_id,
            c.study_uid,
        )
        assert (row.n_images, row.licence, row.modality) == (c.n_images, c.licence, "CT")
        assert row.size_mb == pytest.approx(c.size_mb, abs=0.1)
        for seg in c.seg_uids:
            assert series_rows([seg])[seg].study_uid == c.study_uid
        assert len(c.why) > 40
    sarcoma = {c.collection for c in entries if c.suits == "sarcoma"}
    assert sarcoma == set(SARCOMA)
    assert all(c.seg_uids for c in entries if c.suits == "kidney_seg")


def test_a_damaged_curated_list_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "curated.csv"
    bad.write_text(",".join(COLUMNS) + "\n1.2.3,1.2,c,p,d,many,1.0,CC BY 4.0,,sarcoma,x\n")
    with pytest.raises(PublicDataError, match="line 2 is not a curated series"):
        curated(bad)
    bad.write_text("uid,licence\n1.2.3,CC BY 4.0\n")
    with pytest.raises(PublicDataError, match="its columns are not"):
        curated(bad)


def test_cli_search_curated(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "--curated", "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [e["series_uid"] for e in entries] == [c.series_uid for c in curated()]
    assert main(["search", "--curated"]) == 0
    out = capsys.readouterr().out
    assert "kidney_seg" in out and "CC BY 4.0" in out


def test_an_installed_seg_index_gives_exact_references(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With IDC's seg_index (made here: one row) a SEG goes with the series it references."""
    import duckdb

    from ivcviewer.public import idc

    hits = search_idc(collection="c4kc_kits", text="kits-00000", with_seg=True)
    assert len(hits) == 3 and len({h.segs for h in hits}) == 1  # study level: all three
    seg_uid = hits[0].segs[0][0]
    referenced = next(h.series_uid for h in hits if h.description == "late")
    table = tmp_path / "seg_index.parquet"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT '{seg_uid}' AS SeriesInstanceUID, "
        f"'{referenced}' AS segmented_SeriesInstanceUID) TO '{table}' (FORMAT parquet)"
    )
    con.close()
    monkeypatch.setattr(idc, "seg_index_path", lambda: table)
    exact = search_idc(collection="c4kc_kits", text="kits-00000", with_seg=True)
    assert [(h.series_uid, h.segs[0][0]) for h in exact] == [(referenced, seg_uid)]
