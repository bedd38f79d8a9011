"""How much an input may ask of the machine, checked before the work starts.

Every reader that can be told by a file to allocate, recurse or loop checks a :class:`Limits`
first: declared image sizes against a memory budget and against the file's own size, folder
walks against a depth and a file count, text documents (case files, landmarks, label tables)
against a byte size, a nesting depth and an alias count. The limits are an argument (``limits=``)
where a caller wants others; :func:`default_limits` reads the environment once per call, so a
user can raise the memory budget without code (``IVCVIEWER_MEMORY_BUDGET_MB``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import ResourceLimitError

#: Environment variable that sets the memory budget in MiB.
MEMORY_BUDGET_ENV = "IVCVIEWER_MEMORY_BUDGET_MB"

MIB = 1 << 20


def _physical_memory() -> int | None:
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        size = os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None
    if pages <= 0 or size <= 0:
        return None
    return int(pages) * int(size)


@dataclass(frozen=True)
class Limits:
    """What one input may ask for.

    Attributes
    ----------
    memory_budget_bytes
        Largest array one volume may allocate (its declared shape times its item size).
    max_walk_depth
        Deepest folder level a walk descends to below the folder given.
    max_walk_entries
        Most folder entries a walk looks at.
    max_text_bytes
        Largest case file, landmarks file or label table read as text.
    max_nesting
        Deepest nesting of lists and mappings in a YAML or JSON document.
    max_yaml_aliases
        Most alias references (``*name``) in one YAML document.
    max_centreline_points
        Most points of a landmark set's IVC centreline.
    max_quoted_chars
        Longest piece of an input quoted in a message (:func:`ivcviewer._text.quote`).
    """

    memory_budget_bytes: int = 8 << 30
    max_walk_depth: int = 32
    max_walk_entries: int = 200_000
    max_text_bytes: int = 16 * MIB
    max_nesting: int = 64
    max_yaml_aliases: int = 10_000
    max_centreline_points: int = 20_000
    max_quoted_chars: int = 120

    def check_allocation(self, nbytes: int, what: str, fix: str = "") -> None:
        """Refuse an allocation of ``nbytes`` over the memory budget.

        >>> try:
        ...     Limits(memory_budget_bytes=1 << 20).check_allocation(4 << 20, "a.nii: 2 MiB voxels")
        ... except ResourceLimitError as err:
        ...     print(str(err)[:69])
        a.nii: 2 MiB voxels needs 4.0 MiB, over the memory budget of 1.0 MiB.
        """
        if nbytes > self.memory_budget_bytes:
            raise ResourceLimitError(
                f"{what} needs {nbytes / MIB:,.1f} MiB, over the memory budget of "
                f"{self.memory_budget_bytes / MIB:,.1f} MiB. Fix: "
                + (fix or "check the file (its header may be damaged), or raise the budget with ")
                + ("" if fix else f"{MEMORY_BUDGET_ENV}.")
            )


def default_limits() -> Limits:
    """The limits of this machine: the memory budget from ``IVCVIEWER_MEMORY_BUDGET_MB`` when set,
    else half the physical memory (at most 8 GiB, at least 1 GiB).

    Raises
    ------
    ResourceLimitError
        The environment variable is set but is not a positive whole number.
    """
    text = os.environ.get(MEMORY_BUDGET_ENV, "").strip()
    if text:
        try:
            mb = int(text)
        except ValueError:
            mb = 0
        if mb <= 0:
            raise ResourceLimitError(
                f"{MEMORY_BUDGET_ENV}={text!r}: must be a positive whole number of MiB. Fix: "
                f"set it to, for example, 4096, or unset it."
            )
        return Limits(memory_budget_bytes=mb * MIB)
    phys = _physical_memory()
    budget = 8 << 30 if phys is None else min(8 << 30, max(1 << 30, phys // 2))
    return Limits(memory_budget_bytes=budget)
