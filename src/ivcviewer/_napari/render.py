"""Figures of a case fitted on any CT, rendered by napari: what ``ivcviewer render`` runs.

:func:`render_case` fits the case (:func:`ivcviewer.workflows.fit_overlay`, the fit of
``ivcviewer overlay``) and renders, in a shown napari viewer, the views of
:func:`ivcviewer.workflows.figures.case_figure_views`: axial at the renal veins, coronal and
sagittal through the IVC (head up, the patient's left on the right of the screen) and an
anterior 3D view. Each figure is the canvas (the CT, the findings and napari's scale bar in mm)
with a legend beside it (the view's title and the findings' names in the colours of the layer);
a one-page panel of the four is written as PNG and PDF. The files are written as one output
set (:data:`ivcviewer.workflows.figures.RENDER_SET`): into a temporary folder, then swapped
into ``--out``.

The command line of this module (``python -m ivcviewer._napari.render ...``) is what
``ivcviewer render`` runs in a child process; without a display it starts a private Xvfb and
runs itself again under it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .._atomic import output_set
from ..report import ValidationMode
from ..workflows.figures import (
    PANEL_FILES,
    RENDER_SET,
    VIEW_TITLES,
    RenderInputs,
    case_figure_views,
    fit_case,
)
from ._display import has_display, run_module_on_display, xvfb_display

if TYPE_CHECKING:
    import napari
    from PIL import Image as PILImage

    from ..annotations.overlay import OverlayResult
    from ..volume import Volume

#: Default canvas size (height, width) in pixels of each view.
DEFAULT_CANVAS: tuple[int, int] = (640, 640)

#: HU shown black to white in the 3D view (a maximum intensity projection): the body's outline
#: faint, bone and contrast-filled vessels bright.
MIP_LIMITS: tuple[float, float] = (-400.0, 1400.0)

#: A CT with pixels at least this coarse (mm) is shown with linear interpolation in 2D.
COARSE_PIXEL_MM = 2.0

#: Legend width as a fraction of the canvas width, and its colours.
LEGEND_FRACTION = 0.42
LEGEND_BACKGROUND = (24, 24, 24)
LEGEND_TEXT = (235, 235, 235)

#: Width of the panel page in pixels (the PDF page is this at :data:`PANEL_DPI`).
PANEL_WIDTH = 2000
PANEL_DPI = 200


# ---------------------------------------------------------------------------------------------
# the figures
# ---------------------------------------------------------------------------------------------


def legend_entries(labels_layer: Any, result: OverlayResult) -> list[tuple[str, tuple[int, ...]]]:
    """The findings drawn, as (name, RGB colour of the layer), in label order."""
    drawn = {int(v) for v in np.unique(np.asarray(result.labels.array)) if v}
    entries = []
    for region in result.regions:
        if region.value in drawn:
            rgba = np.asarray(labels_layer.get_color(region.value), dtype=float).ravel()
            entries.append((region.name, tuple(int(round(c * 255)) for c in rgba[:3])))
    return entries


def _font(size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.load_default(size=max(8, size))


def with_legend(
    canvas: NDArray[Any], title: str, entries: Sequence[tuple[str, tuple[int, ...]]]
) -> PILImage.Image:
    """The canvas with a legend strip on its right: the title, then a swatch and name each."""
    from PIL import Image, ImageDraw

    shot = Image.fromarray(np.ascontiguousarray(canvas)).convert("RGB")
    h, w = shot.height, shot.width
    strip = int(w * LEGEND_FRACTION)
    out = Image.new("RGB", (w + strip, h), LEGEND_BACKGROUND)
    out.paste(shot, (0, 0))
    draw = ImageDraw.Draw(out)
    text = max(12, h // 34)
    font = _font(text)
    x, y = w + text, text
    for line in _wrap(draw, title, _font(int(text * 1.15)), strip - 2 * text):
        draw.text((x, y), line, fill=LEGEND_TEXT, font=_font(int(text * 1.15)))
        y += int(text * 1.5)
    y += text
    indent = int(text * 1.6)
    for name, rgb in entries:
        draw.rectangle((x, y, x + text, y + text), fill=tuple(rgb), outline=LEGEND_TEXT)
        for line in _wrap(draw, name, font, strip - 2 * text - indent):
            draw.text((x + indent, y - text // 8), line, fill=LEGEND_TEXT, font=font)
            y += int(text * 1.3)
        y += int(text * 0.6)
    return out


def _wrap(draw: Any, text: str, font: Any, width: int) -> list[str]:
    """``text`` broken at spaces into lines at most ``width`` pixels wide (a longer word
    stands alone)."""
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def compose_panel(figures: Sequence[PILImage.Image], heading: str) -> PILImage.Image:
    """The figures on one page, two per row, under a heading."""
    from PIL import Image, ImageDraw

    cell_w = PANEL_WIDTH // 2
    scaled = [
        f.resize((cell_w, round(f.height * cell_w / f.width)), Image.Resampling.LANCZOS)
        for f in figures
    ]
    cell_h = max(f.height for f in scaled)
    head = 70
    rows = (len(scaled) + 1) // 2
    page = Image.new("RGB", (PANEL_WIDTH, head + rows * cell_h), (255, 255, 255))
    ImageDraw.Draw(page).text((20, 18), heading, fill=(0, 0, 0), font=_font(32))
    for i, fig in enumerate(scaled):
        page.paste(fig, ((i % 2) * cell_w, head + (i // 2) * cell_h))
    return page


def _save(image: PILImage.Image, path: Path, **kwargs: Any) -> Path:
    from .._atomic import atomic_file

    with atomic_file(path, suffix=path.suffix) as tmp:
        image.save(tmp, **kwargs)
    return path


def _show_3d(viewer: napari.Viewer, layers: dict[str, Any], on: bool, window: Any) -> None:
    """Switch the layers between the 2D look and the 3D one (surfaces over a projection)."""
    layers["findings"].visible = not on
    for surface in layers["surfaces"]:
        surface.visible = on
    ct = layers["ct"]
    ct.contrast_limits = MIP_LIMITS if on else window
    ct.blending = "translucent_no_depth" if on else "translucent"


def scale_bar(viewer: napari.Viewer) -> Any:
    """The viewer's scale bar overlay (napari >= 0.9 keeps it on the canvas)."""
    canvas = getattr(viewer, "canvas", None)
    overlays = getattr(canvas, "overlays", None)
    bar = getattr(overlays, "scale_bar", None)
    return bar if bar is not None else viewer.scale_bar


def render_views(
    viewer: napari.Viewer,
    ct: Volume,
    result: OverlayResult,
    folder: Path,
    canvas: tuple[int, int] = DEFAULT_CANVAS,
) -> list[PILImage.Image]:
    """Render every view of the fitted case into ``folder`` (``<view>.png``); the figures."""
    from napari.layers import Layer

    from .launch import add_volumes, screenshot, set_view
    from .widgets.case_overlay.layer_data import (
        findings_layer_data,
        findings_surfaces_layer_data,
    )

    ct_layer = add_volumes(viewer, [ct], report=False)[0]
    if min(float(v) for v in ct_layer.scale[-2:]) >= COARSE_PIXEL_MM:
        ct_layer.interpolation2d = "linear"  # coarse pixels: smooth the CT, not the findings
    findings = viewer.add_layer(Layer.create(*findings_layer_data(result)))
    surfaces = [viewer.add_layer(Layer.create(*d)) for d in findings_surfaces_layer_data(result)]
    layers = {"ct": ct_layer, "findings": findings, "surfaces": surfaces}
    bar = scale_bar(viewer)
    bar.visible = True  # in mm: the layers' units (``layers.image_layer_data``)
    bar.box = True
    entries = legend_entries(findings, result)
    window = tuple(ct_layer.contrast_limits)
    figures = []
    for view in case_figure_views(result.landmarks):
        _show_3d(viewer, layers, view.view == "3d", window)
        set_view(viewer, view.view, view.point_lps, canvas)
        figure = with_legend(screenshot(viewer), VIEW_TITLES[view.name], entries)
        _save(figure, folder / f"{view.name}.png", format="PNG")
        figures.append(figure)
    return figures


def render_case(
    inputs: RenderInputs,
    out: str | os.PathLike[str],
    *,
    force: bool = False,
    canvas: tuple[int, int] = DEFAULT_CANVAS,
) -> list[Path]:
    """Fit the case and write its figure set into ``out`` (needs a display); the paths.

    Raises
    ------
    IvcviewerError
        For unreadable inputs, a fit that draws nothing, or an output folder that holds an
        input or other files (without ``force``; checked before the CT is read).
    """
    import napari

    from ..workflows.figures import check_render_output
    from ._viewer import prepare_viewer

    target = Path(out)
    check_render_output(target, inputs.files(), force=force)
    ct, result = fit_case(inputs)
    heading = f"{result.case.case.id} on {'/'.join(Path(inputs.ct).parts[-2:])}"
    with output_set(target, RENDER_SET, force=force, label=f"--out {target}") as folder:
        viewer = napari.Viewer(show=True, title="ivcviewer render")
        try:
            prepare_viewer(viewer)
            figures = render_views(viewer, ct, result, folder, canvas)
        finally:
            viewer.close()
        panel = compose_panel(figures, heading)
        _save(panel, folder / PANEL_FILES[0], format="PNG")
        _save(panel, folder / PANEL_FILES[1], format="PDF", resolution=PANEL_DPI)
        names = sorted(p.name for p in folder.iterdir() if p.suffix in (".png", ".pdf"))
    return [target / n for n in names]


# ---------------------------------------------------------------------------------------------
# command line (run by `ivcviewer render` in a child process)
# ---------------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    from .launch import _size

    p = argparse.ArgumentParser(
        prog="python -m ivcviewer._napari.render",
        description="Fit a case on a CT and render its figures (PNG and a PDF panel).",
    )
    p.add_argument("ct", help="the CT: DICOM folder or file, or a volume file")
    p.add_argument("--case", required=True, help="case file")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--anatomy", help="anatomy label map, DICOM SEG or RTSTRUCT")
    source.add_argument("--landmarks", help="landmarks JSON file")
    source.add_argument("--phantom-truth", dest="phantom_truth", help="phantom truth folder")
    p.add_argument("--anatomy-names", dest="anatomy_names", help="label table of --anatomy")
    p.add_argument("--series", default=None, help="series of a DICOM folder")
    p.add_argument(
        "--on-irregular",
        default=ValidationMode.RAISE.value,
        choices=[m.value for m in ValidationMode],
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--force", action="store_true", help="write into a folder with other files")
    p.add_argument("--canvas", type=_size, default=DEFAULT_CANVAS, help="HEIGHTxWIDTH per view")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: render, and print the written paths as a JSON list (exit statuses as
    :func:`ivcviewer._child.run_as_child`)."""
    from .._child import run_as_child
    from .launch import configure_logging

    args = _parser().parse_args(argv)
    configure_logging(args.verbose)
    inputs = RenderInputs(
        args.ct,
        args.case,
        args.anatomy,
        args.anatomy_names,
        args.landmarks,
        args.phantom_truth,
        args.series,
        args.on_irregular,
    )

    def action() -> list[Path]:
        if has_display():
            return render_case(inputs, args.out, force=args.force, canvas=args.canvas)
        child = [
            *inputs.args(),
            "--out",
            args.out,
            "--canvas",
            f"{args.canvas[0]}x{args.canvas[1]}",
        ]
        if args.force:
            child.append("--force")
        with xvfb_display() as display:
            return run_module_on_display(
                "ivcviewer._napari.render", child, display, "Rendering the figures under Xvfb"
            )

    return run_as_child(action, f"render {args.ct}")


if __name__ == "__main__":
    sys.exit(main())
