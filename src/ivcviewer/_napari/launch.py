"""Open CT in a napari window, or render views of it to PNG files (with or without a screen).

* :func:`open_in_viewer` reads the paths first (so that a bad path fails before any window
  opens), then shows the series in a napari viewer and runs the event loop.
* :func:`render_screenshots` renders named views (``axial``, ``coronal``, ``sagittal``, ``3d``)
  of each series with a shown viewer. Without a screen it starts a private Xvfb and renders in
  a child process (``python -m ivcviewer._napari.launch render ...``) whose Qt application
  lives and dies with that X server.

The command line of this module (``python -m ivcviewer._napari.launch open|render ...``) lets
other parts of the program use napari without importing it.

Views follow the radiological convention: axial seen from the feet (anterior up, the patient's
left on the right of the screen), coronal seen from the front (head up, the patient's left on
the right), sagittal seen from the patient's left (head up, anterior on the left), and ``3d``
an anterior view of the volume rendering, head up.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._atomic import atomic_file
from .._child import run_as_child
from ..errors import IvcviewerError
from ..io.formats import check_output_path, path_kind, volume_format, volume_stem
from ..report import ValidationMode
from ..volume import Volume
from ..widget_models.views import MIP_LIMITS_3D, VIEW_NAMES
from ._display import has_display, run_module_on_display, xvfb_display
from ._viewer import prepare_viewer
from .layers import image_layer_data, report_summary_text
from .reader import DEFAULT_ON_IRREGULAR, load_volumes, read_layer_data
from .views import apply_view

if TYPE_CHECKING:
    import napari
    from napari.layers import Layer

#: The views :func:`set_view` knows (:data:`ivcviewer.widget_models.views.VIEW_NAMES`).
VIEWS: tuple[str, ...] = VIEW_NAMES


#: Default screenshot size (height, width) in pixels.
DEFAULT_SIZE: tuple[int, int] = (768, 768)

_log = logging.getLogger(__name__)


def show_report(viewer: napari.Viewer, volumes: Sequence[Volume], names: Sequence[str]) -> None:
    """Notify the geometry report of ``volumes`` and dock the "Geometry report" widget."""
    from napari.utils.notifications import show_info, show_warning

    from .widgets.geometry_report import dock_geometry_report

    text = "\n".join(report_summary_text(v, n) for v, n in zip(volumes, names, strict=True))
    (show_warning if any(v.report.warnings for v in volumes) else show_info)(text)
    dock_geometry_report(viewer)


def add_volumes(
    viewer: napari.Viewer, volumes: Sequence[Volume], *, report: bool = True
) -> list[Layer]:
    """Add one Image layer per volume (see :func:`layers.image_layer_data`)."""
    from napari.layers import Layer

    added = [viewer.add_layer(Layer.create(*image_layer_data(v))) for v in volumes]
    if report and added:
        show_report(viewer, volumes, [layer.name for layer in added])
    return added


def open_in_viewer(
    paths: Sequence[str | os.PathLike[str]],
    series_uid: str | None = None,
    on_irregular: ValidationMode = DEFAULT_ON_IRREGULAR,
) -> None:
    """Show the series at ``paths`` in a napari window and run napari until it is closed.

    A volume file with a label table beside it opens as a Labels layer with named regions.

    Raises
    ------
    IvcviewerError
        When the paths hold no readable series (raised before any window opens).
    FileNotFoundError
        When a path does not exist.
    """
    import napari
    from napari.layers import Layer

    layer_data, volumes = read_layer_data(paths, series_uid=series_uid, on_irregular=on_irregular)
    from .views.drag import bind_view_keys

    viewer = napari.Viewer()
    prepare_viewer(viewer)
    bind_view_keys(viewer)
    images = []
    for data in layer_data:
        layer = viewer.add_layer(Layer.create(*data))
        if data[2] == "image":
            images.append(layer.name)
    if volumes:
        show_report(viewer, volumes, images)
    napari.run()


def set_view(
    viewer: napari.Viewer,
    view: str,
    point_lps: ArrayLike | None = None,
    size: tuple[int, int] | None = None,
) -> None:
    """Set dims, camera and slice position for a named view.

    Parameters
    ----------
    viewer
        A viewer holding ivcviewer layers (world axes ``(z, y, x)`` mm).
    view
        One of :data:`VIEWS`.
    point_lps
        The LPS point whose slices are shown (default: the centre of all layers).
    size
        Canvas ``(height, width)`` in pixels for a following :func:`screenshot`.

    Raises
    ------
    ValueError
        For an unknown view name.
    """
    if view not in VIEWS:
        raise ValueError(f"Argument 'view' must be one of {VIEWS}, got {view!r}.")
    prepare_viewer(viewer)
    if size is not None:
        set_canvas_size(viewer, size)
    apply_view(viewer, view, point_lps)


def _slug(text: str) -> str:
    """A file-name-safe version of a layer name.

    >>> _slug("CT abdomen 2.5mm / venous"), _slug("example_ct.nii.gz")
    ('ct_abdomen_2.5mm_venous', 'example_ct')
    """
    if volume_format(text.strip()) is not None:  # a file name: drop .nii.gz, .nrrd, ...
        text = volume_stem(text.strip())
    s = re.sub(r"[^A-Za-z0-9.-]+", "_", text.strip()).strip("_.").lower()
    return s or "series"


def check_output_folder(
    out_dir: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]]
) -> Path:
    """Refuse an output folder for PNG files that is, or lies inside, an input's folder.

    An input file's folder counts as an input folder (as for every output of ivcviewer), so
    rendering never writes beside, or into, the data it shows.

    Returns
    -------
    Path
        ``out_dir`` resolved.

    Raises
    ------
    VolumeFormatError
        When ``out_dir`` is an input folder or below one.
    """
    return check_output_path(Path(out_dir) / "view.png", inputs, suffixes=(".png",)).parent


def _check_views(views: Sequence[str]) -> None:
    for view in views:
        if view not in VIEWS:
            raise IvcviewerError(
                f"Argument 'views' must hold names from {VIEWS}, got {view!r}. "
                "Fix: choose views from that list."
            )


def _write_png(path: Path, image: NDArray[Any]) -> None:
    """Write an RGB(A) uint8 image atomically (temporary file beside it, then rename)."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path, suffix=".png") as tmp:
        Image.fromarray(np.ascontiguousarray(image)).save(tmp, format="PNG")


def set_canvas_size(viewer: napari.Viewer, size: tuple[int, int]) -> None:
    """Fix the canvas at ``(height, width)`` pixels (before the camera is fitted).

    napari's ``screenshot(size=...)`` stretches the image instead of widening the view, and a
    plain resize of the canvas does not survive the window's next layout pass; a fixed size
    does (the window grows or shrinks around it).
    """
    from qtpy.QtWidgets import QApplication

    native = viewer.window._qt_viewer.canvas.native
    native.setFixedSize(int(size[1]), int(size[0]))
    QApplication.processEvents()


def screenshot(viewer: napari.Viewer) -> NDArray[Any]:
    """The canvas as an ``(height, width, 4)`` uint8 array (requires a shown viewer)."""
    return np.asarray(viewer.screenshot(canvas_only=True, flash=False))


def render_volumes(
    volumes: Sequence[Volume],
    out_dir: str | os.PathLike[str],
    views: Sequence[str] = ("axial", "coronal", "3d"),
    size: tuple[int, int] = DEFAULT_SIZE,
    point_lps: ArrayLike | None = None,
    inputs: Iterable[str | os.PathLike[str]] = (),
) -> list[Path]:
    """Render ``views`` of each volume with a shown viewer in this process (needs a display).

    Files are ``<out_dir>/<series name>_<view>.png`` (``series name`` made file-name safe,
    numbered when several series share it). 2D views use the series window; the ``3d`` view
    of CT is a maximum intensity projection shown with :data:`MIP_LIMITS_3D`. Returns the
    paths written, in order.

    ``out_dir`` may not be (or lie inside) the folder of any input: the volumes' source files
    or the further ``inputs`` (see :func:`check_output_folder`); this is checked before any
    window opens.
    """
    _check_views(views)
    sources = [f for v in volumes for f in v.metadata.source_files]
    check_output_folder(out_dir, [*sources, *inputs])
    import napari

    out = Path(out_dir)
    written: list[Path] = []
    viewer = napari.Viewer(show=True)
    try:
        prepare_viewer(viewer)
        used: set[str] = set()
        for volume in volumes:
            viewer.layers.clear()
            layer = add_volumes(viewer, [volume], report=False)[0]
            stem = _slug(layer.name)
            k = 2
            while stem in used:
                stem, k = f"{_slug(layer.name)}_{k}", k + 1
            used.add(stem)
            window_2d = tuple(layer.contrast_limits)
            for view in views:
                set_view(viewer, view, point_lps, size)
                is_ct = layer.metadata.get("modality", "CT") == "CT"
                layer.contrast_limits = MIP_LIMITS_3D if view == "3d" and is_ct else window_2d
                target = out / f"{stem}_{view}.png"
                _write_png(target, screenshot(viewer))
                written.append(target)
    finally:
        viewer.close()
    return written


def render_screenshots(
    paths: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    views: Sequence[str] = ("axial", "coronal", "3d"),
    series_uid: str | None = None,
    on_irregular: ValidationMode = DEFAULT_ON_IRREGULAR,
    size: tuple[int, int] = DEFAULT_SIZE,
) -> list[Path]:
    """Render views of the series at ``paths`` to PNG files, with or without a screen.

    With a display (``DISPLAY`` or ``WAYLAND_DISPLAY`` set) it renders in this process.
    Without one it starts a private Xvfb, renders in a child process using it, and stops it.

    Parameters
    ----------
    paths
        Inputs accepted by :func:`ivcviewer.io.open_path`.
    out_dir
        Folder for the PNG files (created if needed).
    views
        Names from :data:`VIEWS`.
    series_uid, on_irregular
        Passed to the loader.
    size
        Screenshot ``(height, width)`` in pixels.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    IvcviewerError
        When the inputs cannot be read, a view is unknown, or ``out_dir`` is inside an input
        folder (all checked before any window opens or Xvfb starts).
    DisplayError
        When there is no display and Xvfb is missing, or the renderer fails.
    """
    _check_views(views)
    check_output_folder(out_dir, paths)
    if has_display():
        volumes = load_volumes(paths, series_uid=series_uid, on_irregular=on_irregular)
        return render_volumes(volumes, out_dir, views, size, inputs=paths)
    for p in paths:
        path_kind(p)  # a missing or unknown input fails here, before Xvfb starts
    args = ["render", "--out", os.fspath(out_dir), "--views", ",".join(views)]
    args += ["--size", f"{size[0]}x{size[1]}", "--on-irregular", ValidationMode(on_irregular).value]
    if series_uid:
        args += ["--series-uid", series_uid]
    args += [os.fspath(p) for p in paths]
    with xvfb_display() as display:
        return run_module_on_display(
            "ivcviewer._napari.launch", args, display, "Rendering under Xvfb"
        )


def _size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+)x(\d+)", text.strip())
    if not m or int(m.group(1)) < 16 or int(m.group(2)) < 16:
        raise argparse.ArgumentTypeError(f"size must be HEIGHTxWIDTH pixels (>= 16), got {text!r}")
    return (int(m.group(1)), int(m.group(2)))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m ivcviewer._napari.launch",
        description="Open CT in napari, or render views of it to PNG files.",
    )
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("open", "render"):
        s = sub.add_parser(name)
        s.add_argument("paths", nargs="+", help="DICOM folder/file, DICOMDIR or volume file")
        s.add_argument("--series-uid", default=None, help="read only this series")
        s.add_argument(
            "--on-irregular",
            default=DEFAULT_ON_IRREGULAR.value,
            choices=[m.value for m in ValidationMode],
            help="what to do with irregular stacks",
        )
        s.add_argument(
            "-v", "--verbose", action="store_true", help="log progress (and child tracebacks)"
        )
        if name == "render":
            s.add_argument("--out", required=True, help="folder for the PNG files")
            s.add_argument("--views", default="axial,coronal,3d", help=f"from {VIEWS}")
            s.add_argument("--size", type=_size, default=DEFAULT_SIZE, help="HEIGHTxWIDTH")
    return p


def configure_logging(verbose: bool) -> None:
    """Log to stderr as the ``ivcviewer`` command does: INFO with ``--verbose``, else WARNING."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="ivcviewer: %(message)s"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``open`` or ``render`` (prints the written paths as a JSON list).

    Exit status 2 with one line on stderr for input errors (ivcviewer's own errors and file
    errors), 3 for display errors and a failed renderer child process. Any other exception is
    a fault of the program and propagates with its traceback (exit status 1); the parent
    command reports it as one line.
    """
    args = _parser().parse_args(argv)
    configure_logging(args.verbose)
    mode = ValidationMode(args.on_irregular)

    def action() -> list[Path] | None:
        if args.command == "open":
            open_in_viewer(args.paths, args.series_uid, mode)
            return None
        views = [v.strip() for v in args.views.split(",") if v.strip()]
        # without a display this starts Xvfb and runs this command again in a child process
        return render_screenshots(args.paths, args.out, views, args.series_uid, mode, args.size)

    return run_as_child(action, f"{args.command} {args.paths[0]}")


if __name__ == "__main__":
    sys.exit(main())
