"""Shared fixtures. Real public CT is read from ../shared/public_ct and skipped when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

PUBLIC_CT = Path(__file__).resolve().parents[1].parent / "shared" / "public_ct"


@pytest.fixture(scope="session")
def public_ct() -> Path:
    """The folder of real public CT data, or a skip saying why it is absent."""
    if not PUBLIC_CT.is_dir():
        pytest.skip(f"real public CT not found at {PUBLIC_CT} (a fresh clone has none)")
    return PUBLIC_CT


@pytest.fixture(scope="module")
def case():  # type: ignore[no-untyped-def]
    """The packaged case file, validated (a module's own ``case`` fixture takes precedence)."""
    from ivcviewer.annotations import default_case_path, load_case

    return load_case(default_case_path())


@pytest.fixture(scope="module")
def world():  # type: ignore[no-untyped-def]
    """The synthetic abdomen of tests/_overlay_factory.py on its default axial grid."""
    from _overlay_factory import sample_world

    return sample_world()


@pytest.fixture(scope="module")
def phantom_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small phantom written as DICOM with its truth, once per test module (about a second)."""
    from ivcviewer.phantom import build_phantom, write_phantom

    out = tmp_path_factory.mktemp("phantom")
    write_phantom(build_phantom("small"), out)
    return out


@pytest.fixture(autouse=True)
def _no_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never touch the user's home, cache or configuration folders."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
