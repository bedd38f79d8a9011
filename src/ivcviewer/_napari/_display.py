"""A screen for Qt: is there one, and a private Xvfb server when there is not.

napari renders only in a *shown* window with a real OpenGL context. On a machine without a
screen, an X server from Xvfb (with Mesa's software OpenGL) provides one;
``QT_QPA_PLATFORM=offscreen`` does not (napari cannot create an OpenGL context with it).
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from .._child import child_paths
from ..errors import DisplayError

#: Seconds to wait for Xvfb to announce its display number.
XVFB_START_TIMEOUT_S = 20.0


def has_display(environ: Mapping[str, str] | None = None) -> bool:
    """Whether an X11 or Wayland display is configured in ``environ`` (default ``os.environ``).

    >>> has_display({"DISPLAY": ":1"}), has_display({})
    (True, False)
    """
    env = os.environ if environ is None else environ
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def xvfb_path() -> str | None:
    """The ``Xvfb`` executable, or None when it is not installed."""
    return shutil.which("Xvfb")


@contextmanager
def xvfb_display(width: int = 1280, height: int = 1024, depth: int = 24) -> Iterator[str]:
    """Run a private Xvfb server for the duration of the block; yields its ``DISPLAY``.

    Xvfb picks a free display number itself (``-displayfd``) and is stopped (by its process
    id) on exit. The caller decides where to use the display (for example in a child
    process's environment); ``os.environ`` is not changed.

    Raises
    ------
    DisplayError
        When Xvfb is not installed or does not start.
    """
    exe = xvfb_path()
    if exe is None:
        raise DisplayError(
            "No display (DISPLAY is unset) and Xvfb is not installed: install it "
            "(Debian: apt-get install xvfb) or run with a screen."
        )
    read_fd, write_fd = os.pipe()
    cmd = [
        exe,
        "-displayfd",
        str(write_fd),
        "-screen",
        "0",
        f"{width}x{height}x{depth}",
        "-nolisten",
        "tcp",
    ]
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        cmd,
        pass_fds=(write_fd,),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    os.close(write_fd)
    try:
        ready, _, _ = select.select([read_fd], [], [], XVFB_START_TIMEOUT_S)
        number = os.read(read_fd, 64).decode().strip() if ready else ""
        if not number:
            proc.kill()
            proc.wait()
            log.seek(0)
            err = log.read().decode(errors="replace").strip()
            raise DisplayError(
                f"Xvfb ({exe}) did not start within {XVFB_START_TIMEOUT_S:.0f} s"
                + (f": {err.splitlines()[-1]}" if err else ".")
            )
        yield f":{number}"
    finally:
        os.close(read_fd)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def run_module_on_display(module: str, args: Sequence[str], display: str, what: str) -> list[Path]:
    """Run ``python -m module args`` on the X display ``display``; the files the child wrote.

    The child gets this process's environment with ``DISPLAY`` set (and no Wayland display);
    ``what`` names the step in error messages (see :func:`ivcviewer._child.child_paths`).
    """
    env = dict(os.environ, DISPLAY=display)
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return child_paths(proc, what)
