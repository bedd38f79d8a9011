"""Render the figures of the documentation with ivcviewer's own napari views.

    .venv/bin/python scripts/render_figures.py [--out docs/images] [--size standard]
        [--public-ct ../shared/public_ct] [--canvas 720]

Without a screen it starts a private Xvfb and renders in a child process that uses it (the
pattern of ``ivcviewer._napari.launch``). Every file is written atomically and then reduced to
a 256-colour palette (the figures are greyscale CT with a few overlay colours).

Figures
-------
``phantom_axial_renal_veins.png``, ``phantom_coronal_ivc.png``
    The case phantom (its DICOM series, read as any CT), abdomen window 400/40: axial at the
    renal-vein confluence, coronal through the IVC.
``phantom_3d.png``
    Anterior 3D view: the phantom CT as a maximum intensity projection with the truth labels of
    the findings, the IVC and renal veins, the aorta and the kidneys as smooth-shaded surfaces
    (:func:`ivcviewer.mesh.region_surface`; the IVC translucent).
``case_overlay_window.png``
    The napari window of ``ivcviewer demo``: the phantom with the case overlay, the "Case
    overlay" widget (the mass selected: reported and measured figures) and the measurement
    table.
``overlay_phantom_3d.png``
    The fitted overlay on the phantom, anterior 3D view: the findings as smooth-shaded surfaces
    over the CT's projection.
``overlay_realct_axial_renal_veins.png``, ``overlay_realct_coronal_ivc.png``
    The overlay fitted to a real CT (TotalSegmentator's example CT and its label map, read from
    ``--public-ct``; skipped when that folder is absent): axial at the derived renal-vein
    level, coronal through the IVC.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "docs" / "images"
DEFAULT_PUBLIC_CT = REPO.parent / "shared" / "public_ct"
REAL_CT = "totalsegmentator_abdomen/example_ct.nii.gz"
REAL_LABELS = "totalsegmentator_abdomen/example_ct_totalseg_v1.nii.gz"
CASE = REPO / "src" / "ivcviewer" / "data" / "cases" / "retroperitoneal_leiomyosarcoma_ivc.yaml"

#: Truth labels shown as opaque surfaces in the phantom's 3D figure (the IVC is translucent).
PHANTOM_3D_LABELS = (
    "mass",
    "intravascular_tumour",
    "renal_vein_left",
    "renal_vein_right",
    "aorta",
    "kidney_left",
    "kidney_right",
)


#: Colours of the 3D figure (veins apart from the tumour inside them, the aorta from the mass).
PHANTOM_3D_COLOURS = {
    "inferior_vena_cava": "#3F3FBF",
    "renal_vein_left": "#3F3FBF",
    "renal_vein_right": "#3F3FBF",
    "aorta": "#B22222",
    "kidney_left": "#C89B6E",
    "kidney_right": "#C89B6E",
}

#: Opacity of the IVC's surface in the phantom's 3D figure (the tumour inside it shows).
PHANTOM_3D_IVC_OPACITY = 0.4

#: Size (height, width) of the window figure (the docks may make it larger).
WINDOW_SIZE = (900, 1400)


#: Widest figure (pixels); wider screenshots (the window) are scaled down.
MAX_WIDTH = 1280


#: Palette entries given to greys and to colours when a figure is reduced to a palette.
GREY_LEVELS = 128
COLOURS = 128


def optimise_png(path: Path) -> None:
    """Shrink a figure in place (atomically), without visible loss.

    At most :data:`MAX_WIDTH` pixels wide. A grey image is stored as 8-bit grey; a colour image
    gets a palette of :data:`GREY_LEVELS` evenly spaced greys (the CT) and :data:`COLOURS`
    colours chosen from its coloured pixels (the overlay), mapped without dithering.
    """
    from PIL import Image

    with Image.open(path) as im:
        rgb = im.convert("RGB")
    if rgb.width > MAX_WIDTH:
        h = round(rgb.height * MAX_WIDTH / rgb.width)
        rgb = rgb.resize((MAX_WIDTH, h), Image.Resampling.LANCZOS)
    arr = np.asarray(rgb, dtype=np.int16)
    coloured = (arr.max(axis=2) - arr.min(axis=2)) > 6
    if not coloured.any():
        out = rgb.convert("L")
    else:
        pixels = arr[coloured].astype(np.uint8).reshape(1, -1, 3)
        pal_img = Image.fromarray(pixels, "RGB").quantize(
            colors=COLOURS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
        )
        colours = (pal_img.getpalette() or [])[: 3 * COLOURS]
        greys = np.linspace(0, 255, GREY_LEVELS).round().astype(int)
        palette = [int(v) for g in greys for v in (g, g, g)] + list(colours)
        palette += [0] * (768 - len(palette))
        ref = Image.new("P", (1, 1))
        ref.putpalette(palette)
        out = rgb.quantize(palette=ref, dither=Image.Dither.NONE)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        out.save(tmp, format="PNG", optimize=True)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _shot(viewer: Any, path: Path, written: list[Path]) -> None:
    from ivcviewer._napari.launch import _write_png, screenshot

    _write_png(path, screenshot(viewer))
    written.append(path)


def render_phantom(out: Path, size: str, canvas: tuple[int, int]) -> list[Path]:
    """The phantom figures and the demo window (needs a display)."""
    import napari
    from napari.layers import Layer

    from ivcviewer._napari._viewer import prepare_viewer
    from ivcviewer._napari.demo import (
        MIP_LIMITS_OVERLAY,
        render_overlay_views,
        setup_case_viewer,
        view_points,
        window_screenshot,
    )
    from ivcviewer._napari.launch import add_volumes, set_view
    from ivcviewer._napari.layers import label_surfaces_layer_data
    from ivcviewer._napari.reader import load_volumes
    from ivcviewer.annotations import Landmarks
    from ivcviewer.io import load_labels
    from ivcviewer.phantom import cached_phantom
    from ivcviewer.phantom.output import CT_DIR, LABELS_FILE, LANDMARKS_FILE

    folder = cached_phantom(size)
    landmarks = Landmarks.load_json(folder / LANDMARKS_FILE)
    points = view_points(landmarks)
    written: list[Path] = []

    viewer = napari.Viewer(show=True, title="ivcviewer figures")
    try:
        prepare_viewer(viewer)
        ct = add_volumes(viewer, load_volumes([folder / CT_DIR]), report=False)[0]
        window = tuple(ct.contrast_limits)
        set_view(viewer, "axial", points["axial_renal_veins"], canvas)
        _shot(viewer, out / "phantom_axial_renal_veins.png", written)
        set_view(viewer, "coronal", points["coronal_ivc"], canvas)
        _shot(viewer, out / "phantom_coronal_ivc.png", written)

        labels, table = load_labels(folder / LABELS_FILE)
        # smooth surfaces over the CT's projection (the CT drawn without depth, so that the
        # projection never cuts into them); the IVC translucent and drawn last, so that the
        # tumour inside it shows
        for names, opacity in (
            (PHANTOM_3D_LABELS, 1.0),
            (("inferior_vena_cava",), PHANTOM_3D_IVC_OPACITY),
        ):
            sub = {
                table.value_of(n): {
                    "name": n,
                    "color": PHANTOM_3D_COLOURS.get(n, table[table.value_of(n)].rgba),
                }
                for n in names
            }
            for data in label_surfaces_layer_data(
                labels, sub, opacity=opacity, name_format="truth {name}"
            ):
                viewer.add_layer(Layer.create(*data))
        ct.blending = "translucent_no_depth"
        set_view(viewer, "3d", points["3d"], canvas)
        ct.contrast_limits = MIP_LIMITS_OVERLAY
        _shot(viewer, out / "phantom_3d.png", written)
        ct.contrast_limits = window
    finally:
        viewer.close()

    viewer = napari.Viewer(show=True, title="ivcviewer demo: case overlay on the case phantom")
    try:
        prepare_viewer(viewer)
        cv = setup_case_viewer(viewer, folder / CT_DIR, CASE, phantom_truth=folder, report=False)
        written += render_overlay_views(cv, out, "overlay_phantom", canvas, views=("3d",))
        written.append(window_screenshot(cv, out / "case_overlay_window.png", WINDOW_SIZE))
    finally:
        viewer.close()
    return written


def render_real_ct(out: Path, public_ct: Path, canvas: tuple[int, int]) -> list[Path]:
    """The overlay on TotalSegmentator's example CT (needs a display)."""
    import napari

    from ivcviewer._napari._viewer import prepare_viewer
    from ivcviewer._napari.demo import render_overlay_views, setup_case_viewer

    viewer = napari.Viewer(show=True, title="ivcviewer figures: real CT")
    try:
        prepare_viewer(viewer)
        cv = setup_case_viewer(
            viewer,
            public_ct / REAL_CT,
            CASE,
            labelmap=public_ct / REAL_LABELS,
            report=False,
            table=False,
        )
        cv.ct_layer.interpolation2d = "linear"  # 3 mm voxels: smooth the CT, not the labels
        return render_overlay_views(
            cv, out, "overlay_realct", canvas, views=("axial_renal_veins", "coronal_ivc")
        )
    finally:
        viewer.close()


def render(out: Path, size: str, public_ct: Path, canvas: tuple[int, int]) -> list[Path]:
    """Render every figure into ``out`` (needs a display); returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = render_phantom(out, size, canvas)
    if (public_ct / REAL_CT).is_file() and (public_ct / REAL_LABELS).is_file():
        written += render_real_ct(out, public_ct, canvas)
    else:
        print(
            f"skipped the real-CT figures: {public_ct / REAL_CT} not found",
            file=sys.stderr,
        )
    for p in written:
        optimise_png(p)
    return written


def main(argv: list[str] | None = None) -> int:
    """Parse arguments; render here with a display, else in a child process under Xvfb."""
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    p.add_argument("--size", default="standard", choices=("small", "standard"), help="phantom")
    p.add_argument("--public-ct", type=Path, default=DEFAULT_PUBLIC_CT, dest="public_ct",
                   help="folder of the public CT data (real-CT figures skipped without it)")
    p.add_argument("--canvas", type=int, default=720, help="square canvas size in pixels")
    args = p.parse_args(argv)
    from ivcviewer._napari._display import has_display, xvfb_display

    if has_display():
        for path in render(args.out, args.size, args.public_ct, (args.canvas, args.canvas)):
            print(path)
        return 0
    with xvfb_display(1600, 1200) as display:
        env = dict(os.environ, DISPLAY=display)
        env.pop("WAYLAND_DISPLAY", None)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--out", str(args.out)]
        cmd += ["--size", args.size, "--public-ct", str(args.public_ct)]
        cmd += ["--canvas", str(args.canvas)]
        return subprocess.run(cmd, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
