"""Run one idc-index download in a child process (so that a cancel can stop it at once).

``python -m ivcviewer.public._idc_child SERIES_UID FOLDER`` downloads the instances of one
series, flat, into FOLDER. idc-index only logs a failed download: the parent checks the files.
"""

from __future__ import annotations

import logging
import sys


def main(argv: list[str]) -> int:
    """Download series ``argv[0]`` into folder ``argv[1]``."""
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    from idc_index import IDCClient

    IDCClient().download_from_selection(
        downloadDir=argv[1],
        seriesInstanceUID=[argv[0]],
        dirTemplate=None,
        quiet=True,
        show_progress_bar=False,
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
