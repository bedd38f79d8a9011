"""DICOMDIR: nested directory files, media names, references that leave the folder, missing files.

Vendors write a root DICOMDIR whose records name further DICOMDIR files (one per disc or
study); media copied or mounted on Linux often have lower-case names (ISO 9660 ``map=normal``)
or keep the ``;1`` version of each name; a copied disc may lack files. The scan follows the
nested files, matches media names, refuses references out of the DICOMDIR's folder and sums up
the missing files in one line, with nothing printed by the libraries.
"""

from __future__ import annotations

import logging
import shutil
import warnings
from pathlib import Path

import pytest
from _dicom_factory import axial_volume, dicomdir_referencing, write_dicomdir, write_volume

from ivcviewer.cli.main import main
from ivcviewer.dicom import load_dicom, scan
from ivcviewer.dicom.discover import MISSING_NAMED
from ivcviewer.errors import NoSeriesFoundError
from ivcviewer.limits import Limits


def _disc(root: Path, n: int, seed: str) -> Path:
    """A File-set of one n-slice series under ``root`` (pydicom's FileSet); its DICOMDIR."""
    files = write_volume(root.parent / f"{root.name}-source", axial_volume(n=n), seed=seed)
    return write_dicomdir(files, root)


def _media(tmp_path: Path) -> Path:
    """``media/DICOMDIR`` naming ``DISC1/DICOMDIR`` (3 slices) and ``DISC2/DICOMDIR`` (4)."""
    _disc(tmp_path / "media" / "DISC1", 3, "disc1")
    _disc(tmp_path / "media" / "DISC2", 4, "disc2")
    return dicomdir_referencing(tmp_path / "media", [["DISC1", "DICOMDIR"], ["DISC2", "DICOMDIR"]])


def test_a_root_dicomdir_naming_further_dicomdirs_finds_their_series(tmp_path: Path) -> None:
    root = _media(tmp_path)
    result = scan(root)
    assert sorted(s.n_images for s in result.series) == [3, 4]
    assert result.skipped == []
    volumes = load_dicom(root)
    assert sorted(v.shape[0] for v in volumes) == [3, 4]


def test_dicomdirs_nested_two_levels_deep(tmp_path: Path) -> None:
    _disc(tmp_path / "media" / "A" / "B", 5, "deep")
    dicomdir_referencing(tmp_path / "media" / "A", [["B", "DICOMDIR"]])
    root = dicomdir_referencing(tmp_path / "media", [["A", "DICOMDIR"]])
    assert [s.n_images for s in scan(root).series] == [5]
    # the nesting depth is bounded like a folder walk
    shallow = scan(root, limits=Limits(max_walk_depth=1))
    assert shallow.series == []
    assert any("nested more than 1 levels" in s.reason for s in shallow.skipped)


def _lower_case_copy(src: Path, dst: Path, version: bool = False) -> Path:
    """Copy ``src`` with every name lower-cased (and ``;1`` appended to files if ``version``)."""
    shutil.copytree(src, dst)
    for p in sorted(dst.rglob("*"), key=lambda p: -len(p.parts)):
        name = p.name.lower() + (";1" if version and p.is_file() else "")
        p.rename(p.with_name(name))
    return dst


@pytest.mark.parametrize("version", [False, True], ids=["lower-case", "lower-case;1"])
def test_media_names_that_differ_in_case_or_version_are_matched(
    tmp_path: Path, version: bool
) -> None:
    root = _media(tmp_path)
    copy = _lower_case_copy(root.parent, tmp_path / "mounted", version=version)
    top = next(copy.glob("dicomdir*"))
    result = scan(top)
    assert sorted(s.n_images for s in result.series) == [3, 4], result.skipped
    assert result.skipped == []


def test_references_leaving_the_dicomdirs_folder_are_refused(tmp_path: Path) -> None:
    outside = write_volume(tmp_path / "secret", axial_volume(n=2), seed="secret")
    _disc(tmp_path / "media" / "DISC1", 3, "disc1")
    (tmp_path / "media" / "DISC1" / "LINK").symlink_to(outside[0])
    root = dicomdir_referencing(
        tmp_path / "media",
        [
            ["..", "secret", outside[0].name],
            [str(outside[1])],
            ["DISC1", "LINK"],
            ["disc1", "..", "..", "secret", outside[0].name],
            ["DISC1", "DICOMDIR"],
        ],
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = scan(root)
    assert caught == []
    assert [s.n_images for s in result.series] == [3]  # the good disc still loads
    refused = [s for s in result.skipped]
    assert len(refused) == 4, refused
    assert all(
        "not a path inside the DICOMDIR" in s.reason or "leads outside" in s.reason for s in refused
    )
    assert not any(str(p) in str(result.to_dict()["series"]) for p in outside)


def test_a_dicomdir_with_missing_files_says_so_in_one_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    root = _media(tmp_path)
    disc2 = root.parent / "DISC2"
    removed = sorted(p for p in disc2.rglob("*") if p.is_file() and p.name != "DICOMDIR")
    for p in removed:
        p.unlink()
    caplog.set_level(logging.DEBUG)
    result = scan(root)
    assert [s.n_images for s in result.series] == [3]
    (summary,) = result.skipped
    assert summary.path == root
    assert summary.reason.startswith(
        f"{len(removed)} files listed in this DICOMDIR and the DICOMDIRs it names are missing "
        "(DISC2/"
    )
    assert f"and {len(removed) - MISSING_NAMED} more" in summary.reason
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_dicomdir_whose_files_are_all_missing_gives_one_error_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    root = dicomdir_referencing(tmp_path / "media", [["IMG", f"IM{i:04d}"] for i in range(300)])
    with pytest.raises(NoSeriesFoundError) as info:
        load_dicom(root)
    assert "300 files listed in this DICOMDIR are missing (IMG/IM0000, IMG/IM0001" in str(
        info.value
    )
    capfd.readouterr()
    rc = main(["info", str(root)])
    out, err = capfd.readouterr()
    assert rc == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"ivcviewer: error: {root}: no image series found")
