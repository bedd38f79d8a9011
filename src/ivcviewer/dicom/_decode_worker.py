"""Decoding helper processes: compressed frames decoded on other cores.

pydicom's pixel decoder plugins (pylibjpeg's openjpeg, libjpeg, rle) hold Python's GIL, so
threads do not run them in parallel; the loader uses these processes for the transfer syntaxes
it does not decode on threads (JPEG 2000 and HTJ2K go to imagecodecs, which releases the GIL).
:class:`DecodeWorker` starts ``python -m ivcviewer.dicom._decode_worker``, a plain child
process that reads batches of ``(path, frames)`` on stdin and writes the decoded stored values
on stdout. Unlike :mod:`multiprocessing`, it never re-imports the caller's ``__main__``
script, so it is safe from scripts without a ``__main__`` guard and beside GUI threads.
Messages are length-prefixed pickles between this package and its own child.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

_HEADER = 8


class WorkerGone(RuntimeError):
    """The helper process could not be started or stopped answering."""


def _write_message(stream: IO[bytes], obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(_HEADER, "little"))
    stream.write(data)
    stream.flush()


def _read_exact(stream: IO[bytes], n: int) -> bytes:
    chunks = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _read_message(stream: IO[bytes]) -> Any:
    size = int.from_bytes(_read_exact(stream, _HEADER), "little")
    return pickle.loads(_read_exact(stream, size))  # noqa: S301 - our own child's output


class DecodeWorker:
    """One helper process; :meth:`decode` sends a batch and waits for its frames."""

    def __init__(self) -> None:
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (package_root, env.get("PYTHONPATH", "")) if p
        )
        try:
            self._proc: subprocess.Popen[bytes] = subprocess.Popen(
                [sys.executable, "-m", "ivcviewer.dicom._decode_worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
            )
        except OSError as exc:
            raise WorkerGone(f"cannot start a decoding process: {exc}") from exc

    def decode(self, batch: Sequence[tuple[str, Sequence[int]]]) -> Any:
        """``("ok", [frames per file])`` or ``("error", message)`` for one batch."""
        stdin, stdout = self._proc.stdin, self._proc.stdout
        if stdin is None or stdout is None:
            raise WorkerGone("the decoding process has no pipes")
        try:
            _write_message(stdin, list(batch))
            return _read_message(stdout)
        except (OSError, EOFError, pickle.UnpicklingError) as exc:
            raise WorkerGone(f"the decoding process stopped: {exc!r}") from exc

    def close(self) -> None:
        """Ask the process to finish (end of input), then make sure it is gone."""
        try:
            if self._proc.stdin is not None:
                self._proc.stdin.close()
            self._proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self._proc.kill()
            self._proc.wait()
        finally:
            if self._proc.stdout is not None:
                self._proc.stdout.close()

    def kill(self) -> None:
        """Stop the process now."""
        self._proc.kill()
        self._proc.wait()
        for stream in (self._proc.stdin, self._proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


def main() -> int:
    """Serve batches from stdin until it closes."""
    from ..errors import DicomSeriesError
    from .pixels import decode_batch

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            batch = _read_message(stdin)
        except EOFError:
            return 0
        try:
            reply: tuple[str, Any] = ("ok", decode_batch(batch))
        except DicomSeriesError as exc:
            reply = ("error", str(exc))
        # anything else ends this process; the parent then decodes in-process and raises it
        _write_message(stdout, reply)


if __name__ == "__main__":
    sys.exit(main())
