"""Shipped data: the case files of annotations/ and the real CT of sample_data/.

Both live at the top of the checkout. A wheel carries them inside the package
(``ivcviewer/data/``); an editable install finds them in the checkout. The last tests build
both kinds of install with the project's build backend and import ivcviewer from them in a
fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ivcviewer import sample_data
from ivcviewer._shipped import PACKAGE_DIR, shipped_dir
from ivcviewer.annotations import default_case_path, load_case, packaged_cases
from ivcviewer.annotations.library import DEFAULT_CASE
from ivcviewer.errors import IvcviewerError
from ivcviewer.io import load_labels, open_path

ROOT = Path(__file__).resolve().parents[1]

#: ivcviewer is imported from this checkout's src/ (an editable install, or src/ on the path).
FROM_CHECKOUT = PACKAGE_DIR == ROOT / "src" / "ivcviewer"

SAMPLE_FILES = (
    "example_ct.nii.gz",
    "example_ct_totalseg_v1.nii.gz",
    "example_ct_totalseg_v1_labels.json",
    "ATTRIBUTION.md",
    "LICENSE-TotalSegmentator-repo",
    "curated_series.csv",
)

#: The teaching examples shipped beside the published case.
TEACHING_CASES = (
    "teaching_left_adrenal_mass.yaml",
    "teaching_right_renal_mass_ivc_thrombus.yaml",
)

needs_checkout = pytest.mark.skipif(
    not FROM_CHECKOUT, reason=f"ivcviewer is not imported from {ROOT / 'src'}"
)


# ---------------------------------------------------------------------------------------------
# the checkout
# ---------------------------------------------------------------------------------------------


@needs_checkout
def test_case_files_are_real_files_at_the_top_of_the_checkout() -> None:
    cases = sorted((ROOT / "annotations").glob("*.yaml"))
    assert [p.name for p in cases] == sorted([DEFAULT_CASE, *TEACHING_CASES])
    assert not any(p.is_symlink() for p in cases)
    assert not (ROOT / "annotations").is_symlink()
    # no second copy inside the package
    assert not (PACKAGE_DIR / "data").exists()


@needs_checkout
def test_the_default_case_resolves_to_the_checkout() -> None:
    assert default_case_path() == ROOT / "annotations" / DEFAULT_CASE
    assert default_case_path() in packaged_cases() and len(packaged_cases()) == 3
    assert all(
        load_case(p).case.teaching_example for p in packaged_cases() if p.name in TEACHING_CASES
    )
    assert load_case(default_case_path()).finding("mass") is not None


@needs_checkout
def test_the_sample_data_resolve_to_the_checkout() -> None:
    sample = sample_data.real_abdominal_ct()
    assert sample_data.sample_data_dir() == ROOT / "sample_data"
    assert sample.ct == ROOT / "sample_data" / "example_ct.nii.gz"
    assert sorted(p.name for p in (ROOT / "sample_data").iterdir()) == sorted(SAMPLE_FILES)


# ---------------------------------------------------------------------------------------------
# where the files are looked for
# ---------------------------------------------------------------------------------------------


def _package(root: Path) -> Path:
    pkg = root / "src" / "ivcviewer"
    pkg.mkdir(parents=True)
    return pkg


def test_the_packaged_folder_comes_first(tmp_path: Path) -> None:
    pkg = _package(tmp_path)
    (pkg / "data" / "cases").mkdir(parents=True)
    (tmp_path / "annotations").mkdir()
    assert shipped_dir("cases", "annotations", pkg) == pkg / "data" / "cases"


def test_the_checkout_folder_is_the_fallback(tmp_path: Path) -> None:
    pkg = _package(tmp_path)
    (tmp_path / "annotations").mkdir()
    assert shipped_dir("cases", "annotations", pkg) == tmp_path / "annotations"


def test_no_fallback_outside_a_src_layout(tmp_path: Path) -> None:
    pkg = tmp_path / "site-packages" / "ivcviewer"
    pkg.mkdir(parents=True)
    (tmp_path / "annotations").mkdir()
    with pytest.raises(IvcviewerError, match="annotations/.*are missing.*Fix: reinstall"):
        shipped_dir("cases", "annotations", pkg)


def test_missing_data_names_both_places(tmp_path: Path) -> None:
    pkg = _package(tmp_path)
    with pytest.raises(IvcviewerError) as err:
        shipped_dir("sample_data", "sample_data", pkg)
    message = str(err.value)
    assert str(pkg / "data" / "sample_data") in message
    assert str(tmp_path / "sample_data") in message
    assert "pip install" in message


def test_a_missing_sample_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "example_ct.nii.gz").write_bytes(b"")
    monkeypatch.setattr(sample_data, "sample_data_dir", lambda: tmp_path)
    with pytest.raises(IvcviewerError, match="lacks example_ct_totalseg_v1.nii.gz, example_ct_t"):
        sample_data.real_abdominal_ct()


# ---------------------------------------------------------------------------------------------
# the real CT
# ---------------------------------------------------------------------------------------------


def test_the_real_ct_and_its_label_map_share_one_grid() -> None:
    sample = sample_data.real_abdominal_ct()
    (ct,) = open_path(sample.ct)
    labels, table = load_labels(sample.labels, sample.names)
    assert ct.shape == labels.shape == (112, 101, 122)
    np.testing.assert_allclose(ct.affine, labels.affine)
    assert ct.spacing == pytest.approx((3.0, 3.0, 3.0))
    names = {int(v): str(n) for v, n in table.names.items()}
    assert len(names) == 62
    for structure in ("inferior_vena_cava", "aorta", "liver", "iliopsoas_right", "kidney_left"):
        assert structure in names.values()
    # every painted value is named, and the names file is the one load_labels finds by itself
    assert set(np.unique(labels.array)) - {0} <= set(names)
    assert load_labels(sample.labels)[1].names == table.names
    doc = json.loads(sample.names.read_text(encoding="utf-8"))
    assert {int(v): n for v, n in doc.items()} == names


def test_the_attribution_gives_source_citation_licence_and_changes() -> None:
    text = sample_data.real_abdominal_ct().attribution.read_text(encoding="utf-8")
    for needed in (
        "wasserth/TotalSegmentator",
        "tests/reference_files",
        "0e65a448",
        "5de6e4d",
        "Radiol Artif Intell",
        "doi:10.1148/ryai.230024",
        "CC BY 4.0",
        "Apache License 2.0",
        "merged",
    ):
        assert needed in text, needed
    assert "doi:10.1148/ryai.230024" in sample_data.REAL_CT_CITATION


def test_the_shipped_files_are_the_public_copies(public_ct: Path) -> None:
    """The real-data tests (which read ../shared/public_ct) cover what ivcviewer ships."""
    folder = public_ct / "totalsegmentator_abdomen"
    shipped = sample_data.sample_data_dir()
    for name in (*SAMPLE_FILES[:3], "LICENSE-TotalSegmentator-repo"):
        assert (shipped / name).read_bytes() == (folder / name).read_bytes(), name


# ---------------------------------------------------------------------------------------------
# installs built with the project's build backend
# ---------------------------------------------------------------------------------------------

_CHILD = """
import json, site, sys
paths, site_dir = json.loads(sys.argv[1]), sys.argv[2]
sys.path.extend(paths)
site.addsitedir(site_dir)  # reads the install's .pth files, as at start-up
import ivcviewer
from ivcviewer.annotations import default_case_path, load_case
from ivcviewer.sample_data import real_abdominal_ct
case = default_case_path()
load_case(case)
sample = real_abdominal_ct()
print(json.dumps({"package": ivcviewer.__file__, "case": str(case), "ct": str(sample.ct),
                  "labels": str(sample.labels), "names": str(sample.names)}))
"""


def _build(kind: str, out: Path) -> Path:
    """A wheel (``kind`` ``wheel`` or ``editable``) of this checkout, built by hatchling."""
    pytest.importorskip("hatchling")
    code = (
        "import sys\nfrom hatchling.build import build_editable, build_wheel\n"
        f"print(build_{kind}(sys.argv[1]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out / proc.stdout.strip().splitlines()[-1]


def _install(wheel: Path, site_dir: Path) -> Path:
    """Unpack a wheel as an installer would put it into site-packages."""
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site_dir)
    return site_dir


def _import_from(site_dir: Path) -> dict[str, str]:
    """Where a fresh interpreter, with only ``site_dir`` holding ivcviewer, finds the data."""
    # every folder of this interpreter's path but the ones that hold the package itself (an
    # editable install's site-packages may hold ivcviewer/data, copied there, and stays)
    deps = [
        p
        for p in sys.path
        if p and Path(p).is_dir() and not (Path(p) / "ivcviewer" / "__init__.py").exists()
    ]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-S", "-c", _CHILD, json.dumps(deps), str(site_dir)],
        cwd=site_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    found: dict[str, str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return found


@needs_checkout
def test_an_editable_install_finds_the_data_in_the_checkout(tmp_path: Path) -> None:
    wheel = _build("editable", tmp_path)
    site_dir = _install(wheel, tmp_path / "site-packages")
    found = _import_from(site_dir)
    assert found["package"] == str(ROOT / "src" / "ivcviewer" / "__init__.py")
    assert found["case"] == str(ROOT / "annotations" / DEFAULT_CASE)
    assert found["ct"] == str(ROOT / "sample_data" / "example_ct.nii.gz")


@needs_checkout
@pytest.mark.slow
def test_the_wheel_carries_the_case_files_and_the_sample_data(tmp_path: Path) -> None:
    wheel = _build("wheel", tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    assert f"ivcviewer/data/cases/{DEFAULT_CASE}" in names
    for name in SAMPLE_FILES:
        assert f"ivcviewer/data/sample_data/{name}" in names, name
    assert {"ivcviewer/napari.yaml", "ivcviewer/py.typed"} <= names
    sources = {
        p.relative_to(ROOT / "src").as_posix()
        for p in PACKAGE_DIR.rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert sources <= names
    # the top-level folders are not installed as such
    assert not any(n.startswith(("annotations/", "sample_data/")) for n in names)

    site_dir = _install(wheel, tmp_path / "site-packages")
    found = _import_from(site_dir)
    package = site_dir / "ivcviewer"
    assert found["package"] == str(package / "__init__.py")
    assert found["case"] == str(package / "data" / "cases" / DEFAULT_CASE)
    for key, name in zip(("ct", "labels", "names"), SAMPLE_FILES[:3], strict=True):
        assert found[key] == str(package / "data" / "sample_data" / name)
