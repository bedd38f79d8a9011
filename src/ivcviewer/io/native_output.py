"""What a native library prints to the process's stdout and stderr, caught instead of shown.

SimpleITK's MetaImage and NRRD readers print their complaints ("DimSize required and not
defined.") straight to the C++ streams, past Python's warnings and logging. While a read runs,
file descriptors 1 and 2 point at a temporary file; afterwards the text is given back, so that
the caller can put it into its own message or warning.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator


class Captured:
    """The text a native call printed (filled when the ``with`` block ends)."""

    text: str = ""

    def first_line(self, n: int = 160) -> str:
        """The first non-empty line, cut to ``n`` characters.

        >>> c = Captured(); c.text = "\\nDimSize required and not defined.\\nMET_Read Failed\\n"
        >>> c.first_line()
        'DimSize required and not defined.'
        """
        for line in self.text.splitlines():
            if line.strip():
                return line.strip()[:n]
        return ""


@contextlib.contextmanager
def native_output() -> Iterator[Captured]:
    """Send file descriptors 1 and 2 to a temporary file for the ``with`` block."""
    captured = Captured()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        saved = (os.dup(1), os.dup(2))
    except OSError:  # no descriptors to redirect (an embedded interpreter): read as is
        yield captured
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            sink.seek(0)
            captured.text = sink.read(64 * 1024).decode("utf-8", "replace")
