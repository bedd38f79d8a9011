"""Render the figures of docs/measurement-tools.md with a shown napari viewer.

    .venv/bin/python scripts/render_measure_figures.py [--out docs/images] [--size standard]

Without a screen it starts a private Xvfb and renders in a child process that uses it (the
same pattern as ``ivcviewer._napari.launch``). The data are the built-in phantom: its CT, and a
label map holding the case's findings (the mass, the intravascular tumour) plus a copy of the
mass shrunk by 10% and moved into the left flank, so that the table shows a failing row beside
the passing one. Every file is written atomically (temporary file, then rename).

Figures: ``measure_ruler.png`` (rulers in mm, one across slices), ``measure_bidirectional.png``
(the mass's long and short axes), ``measure_probe.png`` (the status bar with the HU probe),
``measure_table.png`` and ``measure_toolbox.png`` (the dock widgets).
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
CANVAS = (640, 640)

#: Label values of the figure's label map.
MASS, TUMOUR, SHRUNK = 1, 2, 3


def _save_png(image: Any, path: Path) -> None:
    """Save a QPixmap, or an RGB(A) uint8 array, as PNG atomically (readable by all)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        if isinstance(image, np.ndarray):
            from PIL import Image

            Image.fromarray(np.ascontiguousarray(image)).save(tmp, format="PNG")
        elif not image.save(tmp, "PNG"):
            raise OSError(f"could not write {tmp}")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _figure_labels(phantom: Any) -> tuple[Any, dict[int, str]]:
    """The findings' label map, with a 10%-smaller copy of the mass in the left flank."""
    from scipy import ndimage

    from ivcviewer.volume import Volume

    mass = phantom.mask("mass")
    out = np.zeros(mass.shape, np.uint8)
    out[mass] = MASS
    out[phantom.mask("intravascular_tumour")] = TUMOUR
    centre = np.array(ndimage.center_of_mass(mass))
    spacing = phantom.labels.spacing
    shift = np.array([0.0, 0.0, 150.0 / spacing[2]])  # 150 mm towards the patient's left
    matrix = np.eye(3) / 0.9
    offset = centre - matrix @ (centre + shift)
    shrunk = ndimage.affine_transform(mass.astype(np.uint8), matrix, offset=offset, order=0)
    out[(shrunk > 0) & (out == 0)] = SHRUNK
    names = {MASS: "mass", TUMOUR: "intravascular_tumour", SHRUNK: "mass shrunk 10%"}
    return Volume(out, phantom.labels.affine), names


def _case_colours() -> dict[int, str]:
    """The case file's colours of the findings (the shrunk copy shares the mass's)."""
    from ivcviewer.annotations import default_case_path, load_case

    case = load_case(default_case_path())
    mass, tumour = case.finding("mass").colour, case.finding("intravascular_tumour").colour
    return {MASS: str(mass), TUMOUR: str(tumour), SHRUNK: str(mass)}


def render(out_dir: Path, size: str) -> list[Path]:
    """Render every figure into ``out_dir`` (needs a display); returns the paths."""
    import napari
    from napari.layers import Layer
    from qtpy.QtGui import QCursor
    from qtpy.QtWidgets import QApplication

    from ivcviewer import geometry
    from ivcviewer._napari import measure_tools as mt
    from ivcviewer._napari._viewer import camera
    from ivcviewer._napari.launch import screenshot, set_view
    from ivcviewer._napari.layers import image_layer_data, labels_layer_data
    from ivcviewer._napari.measure_report import RULER
    from ivcviewer._napari.widgets.measure_table import MeasurementTableWidget
    from ivcviewer._napari.widgets.measure_toolbox import MeasureToolboxWidget
    from ivcviewer.annotations import default_case_path
    from ivcviewer.phantom import build_phantom

    phantom = build_phantom(size)
    labels_vol, names = _figure_labels(phantom)
    written: list[Path] = []
    viewer = napari.Viewer(show=True)
    try:
        ct = viewer.add_layer(Layer.create(*image_layer_data(phantom.ct, name="phantom CT")))
        viewer.add_layer(
            Layer.create(
                *labels_layer_data(
                    labels_vol, names, colors=_case_colours(), name="findings", opacity=0.35
                )
            )
        )
        toolbox = MeasureToolboxWidget(viewer)
        table = MeasurementTableWidget(viewer)
        viewer.window.add_dock_widget(toolbox, name="Measurement tools", area="right")
        viewer.window.add_dock_widget(table, name="Measurement table", area="bottom")
        table.set_case(default_case_path())
        table.assign_finding(SHRUNK, "mass")

        mass = next(r.region for r in table.report.regions if r.region.label == MASS)
        centre = mass.centroid_lps
        set_view(viewer, "axial", point_lps=centre, size=CANVAS)

        def zoom_on(point_lps: np.ndarray, field_mm: float) -> None:
            world = geometry.lps_to_napari(point_lps)
            camera(viewer).center = tuple(float(v) for v in world)
            camera(viewer).zoom = CANVAS[1] / field_mm
            QApplication.processEvents()

        # rulers: one across the mass on this slice, one from 4 slices below to 4 slices above
        ruler = mt.ensure_tool_layer(viewer, RULER)
        e = mass.extents_mm
        dz = 4 * float(phantom.ct.spacing[0])
        a = centre + np.array([-e["lr"] / 2, 0.0, 0.0])
        b = centre + np.array([e["lr"] / 2, 0.0, 0.0])
        mt.add_line_lps(ruler, a, b)
        front = centre + np.array([0.0, -e["ap"] / 2 - 10.0, 0.0])
        mt.add_line_lps(ruler, front + [-30.0, 0.0, -dz], front + [30.0, -25.0, dz])
        mt.jump_to_lps(viewer, centre)
        viewer.layers.selection.active = ruler
        ruler.mode = "pan_zoom"
        zoom_on(centre, 220.0)
        target = out_dir / "measure_ruler.png"
        _save_png(screenshot(viewer), target)
        written.append(target)

        # the mass's RECIST axes, on their section
        table.show_region_axes(MASS)
        mt.jump_to_lps(
            viewer, (mass.recist.long_axis.start_lps + mass.recist.long_axis.end_lps) / 2
        )
        zoom_on(centre, 220.0)
        target = out_dir / "measure_bidirectional.png"
        _save_png(screenshot(viewer), target)
        written.append(target)

        # HU probe: the cursor on the mass centre (the X pointer parked off the window, so that
        # no real mouse move changes the cursor before the status bar is captured)
        QCursor.setPos(0, 0)
        QApplication.processEvents()
        viewer.layers.selection.active = ct
        point = geometry.lps_to_napari(centre)
        mt.jump_to_lps(viewer, centre)
        viewer.mouse_over_canvas = True
        viewer.cursor.position = tuple(float(v) for v in point)
        viewer.update_status_from_cursor()
        bar = viewer.window._qt_window.statusBar()
        target = out_dir / "measure_probe.png"
        _save_png(bar.grab(), target)
        written.append(target)

        table.refresh()
        table.setFixedSize(1320, 330)
        QApplication.processEvents()
        target = out_dir / "measure_table.png"
        _save_png(table.grab(), target)
        written.append(target)
        toolbox.setFixedSize(360, 330)
        QApplication.processEvents()
        target = out_dir / "measure_toolbox.png"
        _save_png(toolbox.grab(), target)
        written.append(target)
    finally:
        viewer.close()
    return written


def main(argv: list[str] | None = None) -> int:
    """Parse arguments; render here with a display, else in a child process under Xvfb."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    p.add_argument("--size", default="standard", choices=("small", "standard"), help="phantom")
    args = p.parse_args(argv)
    from ivcviewer._napari._display import has_display, xvfb_display

    if has_display():
        for path in render(args.out, args.size):
            print(path)
        return 0
    with xvfb_display() as display:
        env = dict(os.environ, DISPLAY=display)
        env.pop("WAYLAND_DISPLAY", None)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--out", str(args.out)]
        return subprocess.run(cmd + ["--size", args.size], env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
