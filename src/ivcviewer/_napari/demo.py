"""The teaching demo in napari: the case overlay on a CT, shown or rendered.

:func:`setup_case_viewer` puts a CT, the "Case overlay" widget (fitted from an anatomy source)
and the "Measurement table" (when available) into a viewer. :func:`render_overlay_views` renders
the overlay's standard views: axial at the renal-vein level, coronal through the IVC and an
anterior 3D view. :func:`open_demo` opens a window; :func:`render_demo` writes PNG files. Each
shows one CT with its anatomy source: the case phantom with its truth folder, or a CT with its
anatomy label map (the real CT of :mod:`ivcviewer.sample_data`); ``ivcviewer demo`` runs one
per CT.

The command line of this module (``python -m ivcviewer._napari.demo open|render ...``) is what
``ivcviewer demo`` runs in a child process, so the ``ivcviewer`` command itself never imports
napari. Without a display, ``render`` starts a private Xvfb and runs itself again under it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..annotations import Landmarks
from ..errors import AnatomyError, DisplayError, IvcviewerError
from ..report import ValidationMode
from ._display import has_display, run_module_on_display, xvfb_display

if TYPE_CHECKING:
    import napari
    from napari.layers import Image

    from .widgets.case_overlay import CaseOverlayWidget

#: File names of the rendered views (``<prefix>_<view>.png``).
VIEW_FILES: dict[str, str] = {
    "axial_renal_veins": "axial at the renal-vein level",
    "coronal_ivc": "coronal through the IVC",
    "3d": "anterior 3D view",
}

#: Default screenshot size (height, width) in pixels.
DEFAULT_SHOT: tuple[int, int] = (768, 768)

#: HU shown black to white in the 3D views (maximum intensity projection): bone, and the
#: contrast-filled vessels and kidneys faintly.
MIP_LIMITS_OVERLAY: tuple[float, float] = (120.0, 900.0)

#: A CT with pixels at least this coarse (mm) is shown with linear interpolation in 2D (the
#: findings and labels keep their voxels).
COARSE_PIXEL_MM = 2.0

#: Default window title of :func:`open_demo`.
DEFAULT_TITLE = "ivcviewer demo: case overlay on the case phantom"


@dataclass
class CaseViewer:
    """What :func:`setup_case_viewer` put into a viewer."""

    viewer: napari.Viewer
    ct_layer: Image
    overlay: CaseOverlayWidget
    table: Any = None


def setup_case_viewer(
    viewer: napari.Viewer,
    ct_path: str | os.PathLike[str],
    case_path: str | os.PathLike[str],
    *,
    phantom_truth: str | os.PathLike[str] | None = None,
    labelmap: str | os.PathLike[str] | None = None,
    labelmap_names: str | os.PathLike[str] | None = None,
    landmarks: str | os.PathLike[str] | None = None,
    report: bool = True,
    table: bool = True,
) -> CaseViewer:
    """Show a CT with the case overlay fitted from one anatomy source.

    Parameters
    ----------
    viewer
        A napari viewer.
    ct_path
        The CT (DICOM folder or file, or a volume file) holding one series.
    case_path
        The case file.
    phantom_truth, labelmap, labelmap_names, landmarks
        The anatomy source: a phantom's truth folder, a label map with structure names (and
        its names file), or a landmarks JSON file (exactly one).
    report
        Notify the CT's geometry report and dock the report widget.
    table
        Dock the measurement table (when the measurement widgets are installed).

    Raises
    ------
    IvcviewerError
        For unreadable inputs or a fit that fails.
    """
    from .launch import add_volumes
    from .reader import load_volumes
    from .widgets.case_overlay import AnatomySource, CaseOverlayWidget

    given = [s for s in (phantom_truth, labelmap, landmarks) if s is not None]
    if len(given) != 1:
        raise AnatomyError(
            "Give exactly one anatomy source (phantom truth folder, label map or landmarks "
            f"file), got {len(given)}."
        )
    volumes = load_volumes([ct_path], on_irregular=ValidationMode.RESAMPLE)
    if len(volumes) != 1:
        raise IvcviewerError(f"{ct_path}: holds {len(volumes)} series; give one series.")
    ct_layer = add_volumes(viewer, volumes, report=report)[0]
    overlay = _dock(viewer, "Case overlay", CaseOverlayWidget, "right")
    overlay.set_case(Path(case_path))
    overlay.set_ct_layer(ct_layer)
    if phantom_truth is not None:
        overlay.set_source(AnatomySource.PHANTOM_TRUTH, Path(phantom_truth))
    elif labelmap is not None:
        names = None if labelmap_names is None else Path(labelmap_names)
        overlay.set_source(AnatomySource.LABELMAP_FILE, Path(labelmap), names_path=names)
    elif landmarks is not None:
        overlay.set_source(AnatomySource.LANDMARKS_JSON, Path(landmarks))
    overlay.run()
    widget = None
    if table:
        widget = _dock_table(viewer, case_path, overlay, ct_layer)
    viewer.layers.selection.active = ct_layer
    return CaseViewer(viewer, ct_layer, overlay, widget)


def smooth_coarse_ct(case_viewer: CaseViewer) -> None:
    """Show a CT of coarse pixels (:data:`COARSE_PIXEL_MM` or more) with linear interpolation."""
    layer = case_viewer.ct_layer
    if min(float(v) for v in layer.scale[-2:]) >= COARSE_PIXEL_MM:
        layer.interpolation2d = "linear"


def _show_case(
    viewer: napari.Viewer,
    ct_path: str | os.PathLike[str],
    case_path: str | os.PathLike[str],
    phantom_truth: str | os.PathLike[str] | None,
    labelmap: str | os.PathLike[str] | None,
    labelmap_names: str | os.PathLike[str] | None,
    report: bool = True,
) -> CaseViewer:
    """Prepare ``viewer`` and show the demo's case in it (:func:`setup_case_viewer`), with a
    coarse CT smoothed."""
    from ._viewer import prepare_viewer

    prepare_viewer(viewer)
    cv = setup_case_viewer(
        viewer,
        ct_path,
        case_path,
        phantom_truth=phantom_truth,
        labelmap=labelmap,
        labelmap_names=labelmap_names,
        report=report,
    )
    smooth_coarse_ct(cv)
    return cv


def _dock(viewer: napari.Viewer, name: str, cls: type, area: str) -> Any:
    """Dock the plugin's widget ``name`` (the one its Plugins menu entry shows), else a new
    ``cls`` under that name."""
    from npe2 import PluginManager

    try:
        PluginManager.instance().get_manifest("ivcviewer")
        dock, widget = viewer.window.add_plugin_dock_widget("ivcviewer", name)
    except KeyError:
        dock = widget = None
    if isinstance(widget, cls):
        if area == "bottom" and dock is not None:
            from qtpy.QtCore import Qt

            viewer.window._qt_window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        return widget
    widget = cls(viewer)
    viewer.window.add_dock_widget(widget, name=name, area=area)
    return widget


def _dock_table(
    viewer: napari.Viewer, case_path: str | os.PathLike[str], overlay: Any, ct_layer: Any
) -> Any:
    """Dock the measurement table on the findings layer, or None when it is not installed."""
    try:
        from .widgets.measure_table import MeasurementTableWidget
    except ImportError:
        return None
    table = _dock(viewer, "Measurement table", MeasurementTableWidget, "bottom")
    table.set_case(Path(case_path))
    table.set_ct_layer(ct_layer)
    table.set_labels_layer(overlay.findings_layer)
    return table


def view_points(landmarks: Landmarks) -> dict[str, NDArray[np.float64]]:
    """The LPS points the standard views go through (the plan of
    :func:`ivcviewer.workflows.figures.case_figure_views`), by figure name."""
    from ..workflows.figures import case_figure_views

    return {v.name: np.asarray(v.point_lps, dtype=float) for v in case_figure_views(landmarks)}


def render_overlay_views(
    case_viewer: CaseViewer,
    out_dir: str | os.PathLike[str],
    prefix: str,
    size: tuple[int, int] = DEFAULT_SHOT,
    views: Sequence[str] = tuple(VIEW_FILES),
) -> list[Path]:
    """Render the overlay's standard views to ``<out_dir>/<prefix>_<view>.png``.

    2D views show the CT in its window with the findings and landmarks (named); the 3D view
    shows the CT as a maximum intensity projection (:data:`MIP_LIMITS_OVERLAY`) with the
    findings as smooth-shaded surfaces over it (the widget's **3D surfaces**; the Labels layer
    is hidden in 3D) and the landmarks as dots in front. The viewer's state is restored after.
    """
    from .launch import _write_png, screenshot, set_view
    from .widgets.case_overlay import ALL_FINDINGS

    viewer = case_viewer.viewer
    overlay = case_viewer.overlay
    if overlay.result is None:
        raise AnatomyError("The case overlay has not been fitted; nothing to render.")
    overlay.select_finding(ALL_FINDINGS)
    points = view_points(overlay.result.landmarks)
    ct = case_viewer.ct_layer
    window = tuple(ct.contrast_limits)
    marks = overlay.landmarks_layer
    marks_blending = "translucent" if marks is None else str(marks.blending)
    had_surfaces = overlay.surfaces_check.isChecked()
    out = Path(out_dir)
    written: list[Path] = []
    for view in views:
        if view not in VIEW_FILES:
            raise ValueError(
                f"Argument 'views' must hold names from {list(VIEW_FILES)}, got {view!r}."
            )
    try:
        for view in views:
            is_3d = view == "3d"
            if is_3d:
                overlay.set_surfaces(True)
            set_view(viewer, "3d" if is_3d else view.split("_")[0], points[view], size)
            ct.contrast_limits = MIP_LIMITS_OVERLAY if is_3d else window
            if marks is not None:
                marks.text.visible = not is_3d
                # in 3D the dots stay in front of the surfaces (drawn without depth)
                marks.blending = "translucent_no_depth" if is_3d else marks_blending
            target = out / f"{prefix}_{view}.png"
            _write_png(target, screenshot(viewer))
            os.chmod(target, 0o644)  # an ordinary output file (the temporary file was private)
            written.append(target)
    finally:
        ct.contrast_limits = window
        if marks is not None:
            marks.text.visible = True
            marks.blending = marks_blending
        if viewer.dims.ndisplay == 3:
            viewer.dims.ndisplay = 2
        overlay.set_surfaces(had_surfaces)
    return written


def window_screenshot(
    case_viewer: CaseViewer, path: Path, size: tuple[int, int] = (1000, 1500)
) -> Path:
    """The whole window (canvas and dock widgets) with the mass selected, written atomically.

    The canvas is freed from the fixed size of the views and the window set to ``size``
    (height, width; the docks may make it larger); the slices go to the mass's centre, and
    the status bar reads the CT there.
    """
    from qtpy.QtWidgets import QApplication

    from .launch import _write_png
    from .widgets.case_overlay import ALL_FINDINGS

    viewer = case_viewer.viewer
    canvas = viewer.window._qt_viewer.canvas.native
    canvas.setMinimumSize(0, 0)
    canvas.setMaximumSize(16777215, 16777215)
    viewer.window._qt_window.resize(size[1], size[0])
    QApplication.processEvents()
    viewer.dims.ndisplay = 2
    viewer.dims.order = (0, 1, 2)
    overlay = case_viewer.overlay
    overlay.select_finding("mass" if "mass" in overlay.finding_keys() else ALL_FINDINGS)
    viewer.reset_view()
    # the status bar reads the CT at the slices' point (not wherever an earlier view left
    # it); napari computes that text in a thread: give it a moment to arrive
    viewer.cursor.position = tuple(float(v) for v in viewer.dims.point)
    for _ in range(10):
        QApplication.processEvents()
        time.sleep(0.02)
    image = np.asarray(viewer.screenshot(canvas_only=False, flash=False))
    _write_png(path, image)
    os.chmod(path, 0o644)
    return path


def open_demo(
    ct_path: str | os.PathLike[str],
    case_path: str | os.PathLike[str],
    phantom_truth: str | os.PathLike[str] | None = None,
    *,
    labelmap: str | os.PathLike[str] | None = None,
    labelmap_names: str | os.PathLike[str] | None = None,
    title: str = DEFAULT_TITLE,
) -> None:
    """Open the demo in a napari window and run napari until it is closed.

    The anatomy comes from ``phantom_truth`` or from ``labelmap`` (with ``labelmap_names``), as
    for :func:`setup_case_viewer`.
    """
    import napari

    from .launch import set_view
    from .widgets.case_overlay import ALL_FINDINGS

    viewer = napari.Viewer(title=title)
    cv = _show_case(viewer, ct_path, case_path, phantom_truth, labelmap, labelmap_names)
    if cv.overlay.result is not None:
        cv.overlay.set_surfaces(True)  # the findings as smooth surfaces in 3D
        cv.overlay.select_finding(ALL_FINDINGS)
        set_view(viewer, "axial", view_points(cv.overlay.result.landmarks)["axial_renal_veins"])
    napari.run()


def render_demo(
    ct_path: str | os.PathLike[str],
    case_path: str | os.PathLike[str],
    phantom_truth: str | os.PathLike[str] | None,
    out_dir: str | os.PathLike[str],
    size: tuple[int, int] = DEFAULT_SHOT,
    prefix: str = "demo",
    *,
    labelmap: str | os.PathLike[str] | None = None,
    labelmap_names: str | os.PathLike[str] | None = None,
) -> list[Path]:
    """Render the demo's views (and the whole window) to PNG files; needs a display.

    The anatomy comes from ``phantom_truth`` or from ``labelmap`` (with ``labelmap_names``), as
    for :func:`setup_case_viewer`.

    Raises
    ------
    VolumeFormatError
        When ``out_dir`` is, or lies inside, the folder of an input (checked before any window
        opens; see :func:`demo_inputs`).
    """
    from .launch import check_output_folder

    check_output_folder(
        out_dir, demo_inputs(ct_path, case_path, phantom_truth, labelmap, labelmap_names)
    )
    import napari

    viewer = napari.Viewer(show=True, title="ivcviewer demo")
    try:
        cv = _show_case(
            viewer, ct_path, case_path, phantom_truth, labelmap, labelmap_names, report=False
        )
        written = render_overlay_views(cv, out_dir, prefix, size)
        written.append(window_screenshot(cv, Path(out_dir) / f"{prefix}_window.png"))
    finally:
        viewer.close()
    return written


def demo_inputs(
    ct_path: str | os.PathLike[str],
    case_path: str | os.PathLike[str],
    phantom_truth: str | os.PathLike[str] | None = None,
    labelmap: str | os.PathLike[str] | None = None,
    labelmap_names: str | os.PathLike[str] | None = None,
) -> list[Path]:
    """The inputs whose folders the demo never writes into (as ``ivcviewer overlay``).

    The CT (a DICOM folder or a volume file), the case file, and the phantom's truth folder or
    the anatomy label map and its names file.

    >>> [p.name for p in demo_inputs("ph/ct", "case.yaml", "ph")]
    ['ct', 'case.yaml', 'landmarks.json']
    >>> [p.name for p in demo_inputs("ct.nii.gz", "case.yaml", labelmap="seg.nii.gz")]
    ['ct.nii.gz', 'case.yaml', 'seg.nii.gz']
    """
    inputs = [Path(ct_path), Path(case_path)]
    if phantom_truth is not None:
        inputs.append(Path(phantom_truth) / "landmarks.json")
    inputs.extend(Path(p) for p in (labelmap, labelmap_names) if p is not None)
    return inputs


# ---------------------------------------------------------------------------------------------
# command line (run by `ivcviewer demo` in a child process)
# ---------------------------------------------------------------------------------------------


def _size(text: str) -> tuple[int, int]:
    from .launch import _size as parse

    return parse(text)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m ivcviewer._napari.demo",
        description="Open the case-overlay demo in napari, or render its views to PNG files.",
    )
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("open", "render"):
        s = sub.add_parser(name)
        s.add_argument("--ct", required=True, help="the CT (DICOM folder or volume file)")
        s.add_argument("--case", required=True, help="case file")
        source = s.add_mutually_exclusive_group(required=True)
        source.add_argument(
            "--phantom-truth", dest="phantom_truth", help="the phantom's truth folder"
        )
        source.add_argument(
            "--anatomy", metavar="LABELMAP", help="anatomy label map with structure names"
        )
        s.add_argument(
            "--anatomy-names",
            metavar="JSON",
            dest="anatomy_names",
            help="label table of --anatomy; default: <stem>_labels.json beside it",
        )
        s.add_argument(
            "-v", "--verbose", action="store_true", help="log progress (and child tracebacks)"
        )
        if name == "open":
            s.add_argument("--title", default=DEFAULT_TITLE, help="window title")
        if name == "render":
            s.add_argument("--out", required=True, help="folder for the PNG files")
            s.add_argument("--size", type=_size, default=DEFAULT_SHOT, help="HEIGHTxWIDTH")
            s.add_argument("--prefix", default="demo", help="file name prefix")
    return p


def render_in_child(
    ct_path: str | os.PathLike[str],
    case_path: str | os.PathLike[str],
    phantom_truth: str | os.PathLike[str] | None,
    out_dir: str | os.PathLike[str],
    size: tuple[int, int] = DEFAULT_SHOT,
    *,
    labelmap: str | os.PathLike[str] | None = None,
    labelmap_names: str | os.PathLike[str] | None = None,
    prefix: str = "demo",
) -> list[Path]:
    """Render the demo under a private Xvfb in a child process; returns the files written.

    The output folder is checked (as by :func:`render_demo`) before Xvfb starts.
    """
    from .launch import check_output_folder

    check_output_folder(
        out_dir, demo_inputs(ct_path, case_path, phantom_truth, labelmap, labelmap_names)
    )
    args = [
        "render",
        "--ct",
        os.fspath(ct_path),
        "--case",
        os.fspath(case_path),
        *_anatomy_args(phantom_truth, labelmap, labelmap_names),
        "--out",
        os.fspath(out_dir),
        "--size",
        f"{size[0]}x{size[1]}",
        "--prefix",
        prefix,
    ]
    with xvfb_display() as display:
        return run_module_on_display(
            "ivcviewer._napari.demo", args, display, "Rendering the demo under Xvfb"
        )


def _anatomy_args(
    phantom_truth: str | os.PathLike[str] | None,
    labelmap: str | os.PathLike[str] | None,
    labelmap_names: str | os.PathLike[str] | None,
) -> list[str]:
    """The anatomy options of this module's command line.

    >>> _anatomy_args(None, "seg.nii.gz", "names.json")
    ['--anatomy', 'seg.nii.gz', '--anatomy-names', 'names.json']
    """
    if phantom_truth is not None:
        return ["--phantom-truth", os.fspath(phantom_truth)]
    if labelmap is None:
        raise AnatomyError("Give the phantom's truth folder or an anatomy label map, got neither.")
    names = [] if labelmap_names is None else ["--anatomy-names", os.fspath(labelmap_names)]
    return ["--anatomy", os.fspath(labelmap), *names]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``open`` (blocks until the window closes) or ``render`` (prints the
    written paths as a JSON list).

    Exit status 2 with one line on stderr for input errors (ivcviewer's own errors and file
    errors), 3 for display errors and a failed renderer child process. Any other exception is
    a fault of the program and propagates with its traceback (exit status 1); the parent
    command reports it as one line.
    """
    from .._child import run_as_child
    from .launch import configure_logging

    args = _parser().parse_args(argv)
    configure_logging(args.verbose)

    anatomy = {"labelmap": args.anatomy, "labelmap_names": args.anatomy_names}

    def action() -> list[Path] | None:
        if args.anatomy_names and not args.anatomy:
            raise AnatomyError(
                "--anatomy-names needs --anatomy (it names the values of that label map); "
                "remove it or give --anatomy LABELMAP."
            )
        if args.command == "open":
            if not has_display():
                raise DisplayError(
                    "No display to open a window on (DISPLAY is unset); use 'render' (or "
                    "'ivcviewer demo --no-window')."
                )
            open_demo(args.ct, args.case, args.phantom_truth, title=args.title, **anatomy)
            return None
        if has_display():
            return render_demo(
                args.ct,
                args.case,
                args.phantom_truth,
                args.out,
                args.size,
                args.prefix,
                **anatomy,
            )
        return render_in_child(
            args.ct,
            args.case,
            args.phantom_truth,
            args.out,
            args.size,
            prefix=args.prefix,
            **anatomy,
        )

    return run_as_child(action, f"{args.command} {args.ct}")


if __name__ == "__main__":
    sys.exit(main())
