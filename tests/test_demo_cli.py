"""``ivcviewer demo``: phantom, overlay files and screenshots, and its one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ivcviewer.cli.main import main

EXPECTED_PNGS = (
    "demo_axial_renal_veins.png",
    "demo_coronal_ivc.png",
    "demo_3d.png",
    "demo_window.png",
)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(root))
    return root


@pytest.mark.napari
@pytest.mark.slow
def test_demo_without_window_writes_findings_and_screenshots(tmp_path: Path, cache: Path) -> None:
    pytest.importorskip("napari")
    out = tmp_path / "demo out"
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    env.pop("DISPLAY", None)  # no screen: the demo starts its own Xvfb
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.run(
        [sys.executable, "-m", "ivcviewer", "demo", "--size", "small", "--no-window",
         "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert doc["ivc_involvement"]["mayo_level"] == "III"
    assert {f["id"] for f in doc["findings"]} == {"mass", "intravascular_tumour"}
    assert (out / "findings.md").read_text(encoding="utf-8").startswith("# ")
    assert (out / "labels.nii.gz").is_file()
    from PIL import Image

    for name in EXPECTED_PNGS:
        path = out / name
        assert str(path) in proc.stdout
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"), dtype=float)
        assert rgb.shape[0] >= 500 and rgb.shape[1] >= 500
        assert rgb.std() > 20  # an image, not a black or blank canvas
    # the overlay colours are on the axial view: the mass (#E6553A) tints some pixels red
    with Image.open(out / "demo_axial_renal_veins.png") as im:
        rgb = np.asarray(im.convert("RGB"), dtype=int)
    reddish = (rgb[..., 0] - rgb[..., 2] > 60) & (rgb[..., 0] > 120)
    assert np.count_nonzero(reddish) > 500
    # the phantom went to the cache, not into the output folder
    assert any(cache.rglob("manifest.json"))
    assert not (out / "ct").exists()


def test_demo_refuses_an_output_that_is_a_file(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "a file"
    target.write_text("x", encoding="utf-8")
    assert main(["demo", "--size", "small", "--out", str(target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ivcviewer: error:") and "a file" in err[0]
    assert not cache.exists()  # checked before anything is generated


def test_demo_never_writes_into_the_phantom_folder(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ivcviewer.phantom import cached_phantom

    phantom = cached_phantom("small")
    before = sorted(p.name for p in phantom.iterdir())
    assert main(["demo", "--size", "small", "--no-window", "--out", str(phantom / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "refusing to write" in err[0]
    assert sorted(p.name for p in phantom.iterdir()) == before
