"""The ``layer.metadata`` entries that ivcviewer's widgets write and read, as typed records.

A napari layer's ``metadata`` is a plain dict; two records give its ivcviewer entries one
spelling for every writer and reader:

- :class:`CaseLayerInfo`: the case a layer shows (the case file, its id, label value ->
  finding id, which of the Case overlay's layers it is). The Case overlay widget writes it on
  the layers it adds; the measurement table reads it, so a fitted overlay is compared with its
  own case without another click.
- :class:`VolumeLayerInfo`: the Volume behind an Image or Labels layer (the displayed, canonical
  grid) with the affine of the array as loaded and the reordering between the two
  (:meth:`ivcviewer.volume.Volume.to_canonical`); written by
  :func:`ivcviewer._napari.layers.image_layer_data` and ``labels_layer_data``.

Qt-free and napari-free: records in, dicts out.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import geometry
from ..annotations.overlay import OverlayResult
from ..volume import Volume

#: Which of the Case overlay's layers a layer is (the key existed before the record).
OVERLAY_KEY = "ivcviewer_case_overlay"
#: The case file the layer shows (a path).
CASE_PATH_KEY = "case_path"
#: The case's id.
CASE_ID_KEY = "case_id"
#: Label value -> finding id.
LABEL_FINDINGS_KEY = "label_findings"
#: An older spelling of :data:`LABEL_FINDINGS_KEY`, still read.
FINDING_IDS_KEY = "finding_ids"

#: The displayed (canonical) Volume; not serialisable.
VOLUME_KEY = "ivcviewer_volume"
#: Affine of the layer's data indices ``(slice, row, col, 1)`` to LPS mm.
AFFINE_KEY = "affine_lps"
#: Affine of the array as loaded (before the canonical reordering).
SOURCE_AFFINE_KEY = "source_affine_lps"
#: The canonical reordering (:func:`ivcviewer.geometry.canonical_axes`).
ORDER_KEY = "canonical_order"
FLIPS_KEY = "canonical_flips"


class OverlayLayerKind(str, enum.Enum):
    """The layers the Case overlay widget adds."""

    FINDINGS = "findings"
    LANDMARKS = "landmarks"
    SURFACE = "surface"
    CLICKED = "clicked"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class CaseLayerInfo:
    """The case a layer shows.

    Attributes
    ----------
    kind
        Which Case overlay layer it is (None: a layer someone else tagged with a case).
    case_path
        The case file (empty when unknown).
    case_id
        The case's id (empty when unknown).
    label_findings
        Label value -> finding id of the layer's regions.

    Examples
    --------
    >>> info = CaseLayerInfo(OverlayLayerKind.FINDINGS, "case.yaml", "c1", {1: "mass"})
    >>> md = info.to_metadata()
    >>> md["ivcviewer_case_overlay"], md["label_findings"]
    ('findings', {1: 'mass'})
    >>> CaseLayerInfo.from_metadata(md) == info
    True
    >>> CaseLayerInfo.from_metadata({"finding_ids": {"2": "tumour"}}).label_findings
    {2: 'tumour'}
    >>> CaseLayerInfo.from_metadata({"modality": "CT"}) is None
    True
    """

    kind: OverlayLayerKind | None = None
    case_path: str = ""
    case_id: str = ""
    label_findings: dict[int, str] = field(default_factory=dict)

    @classmethod
    def of_result(cls, result: OverlayResult, kind: OverlayLayerKind) -> CaseLayerInfo:
        """The record of a layer showing a fitted overlay."""
        return cls(
            kind,
            str(result.case.path),
            result.case.case.id,
            {int(r.value): str(r.finding_id) for r in result.regions},
        )

    def to_metadata(self) -> dict[str, Any]:
        """The ``layer.metadata`` entries (merge them into the layer's own)."""
        out: dict[str, Any] = {
            CASE_PATH_KEY: self.case_path,
            CASE_ID_KEY: self.case_id,
            LABEL_FINDINGS_KEY: dict(self.label_findings),
        }
        if self.kind is not None:
            out[OVERLAY_KEY] = self.kind.value
        return out

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> CaseLayerInfo | None:
        """The record of a layer's metadata; None when it names no case."""
        keys = (OVERLAY_KEY, CASE_PATH_KEY, CASE_ID_KEY, LABEL_FINDINGS_KEY, FINDING_IDS_KEY)
        if not any(k in metadata for k in keys):
            return None
        kind = metadata.get(OVERLAY_KEY)
        findings = metadata.get(LABEL_FINDINGS_KEY, metadata.get(FINDING_IDS_KEY))
        return cls(
            OverlayLayerKind(kind) if kind in {k.value for k in OverlayLayerKind} else None,
            str(metadata.get(CASE_PATH_KEY) or ""),
            str(metadata.get(CASE_ID_KEY) or ""),
            {int(k): str(v) for k, v in findings.items()} if isinstance(findings, Mapping) else {},
        )


@dataclass(frozen=True)
class VolumeLayerInfo:
    """The Volume an Image or Labels layer displays, and how it was reordered for display.

    Attributes
    ----------
    volume
        The displayed Volume (canonical axes, :meth:`~ivcviewer.volume.Volume.to_canonical`).
    source_affine_lps
        The affine of the array as loaded.
    order, flips
        The reordering from the loaded array to the displayed one
        (:func:`ivcviewer.geometry.canonical_axes`).

    Examples
    --------
    >>> v = Volume(np.arange(24).reshape(2, 3, 4), np.diag([-2.0, 1.0, 1.0, 1.0]))
    >>> info = VolumeLayerInfo.of_volume(v)
    >>> info.order, info.flips, info.volume.shape
    ((2, 1, 0), (False, False, True), (4, 3, 2))
    >>> bool(np.array_equal(info.to_source_array(info.volume.array), v.array))
    True
    >>> VolumeLayerInfo.from_metadata(info.to_metadata()).order
    (2, 1, 0)
    """

    volume: Volume
    source_affine_lps: NDArray[np.float64]
    order: tuple[int, int, int] = (0, 1, 2)
    flips: tuple[bool, bool, bool] = (False, False, False)

    @classmethod
    def of_volume(cls, volume: Volume, canonical: Volume | None = None) -> VolumeLayerInfo:
        """The record of a layer displaying ``volume`` (as loaded) on its canonical grid."""
        order, flips = geometry.canonical_axes(volume.affine)
        shown = volume.to_canonical() if canonical is None else canonical
        return cls(shown, np.asarray(volume.affine, dtype=float).copy(), order, flips)

    @property
    def affine_lps(self) -> NDArray[np.float64]:
        """The affine of the displayed grid (layer data index -> LPS mm)."""
        return self.volume.affine

    def to_source_array(self, array: NDArray[Any]) -> NDArray[Any]:
        """An array on the displayed grid put back on the grid of the array as loaded."""
        arr = np.asarray(array)
        axes = tuple(i for i, f in enumerate(self.flips) if f)
        if axes:
            arr = np.flip(arr, axes)
        return arr.transpose(np.argsort(self.order))

    def to_metadata(self) -> dict[str, Any]:
        """The ``layer.metadata`` entries (merge them into the layer's own)."""
        return {
            AFFINE_KEY: self.volume.affine.copy(),
            SOURCE_AFFINE_KEY: self.source_affine_lps.copy(),
            ORDER_KEY: tuple(self.order),
            FLIPS_KEY: tuple(self.flips),
            VOLUME_KEY: self.volume,
        }

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> VolumeLayerInfo | None:
        """The record of a layer's metadata; None when it carries no Volume."""
        vol = metadata.get(VOLUME_KEY)
        if not isinstance(vol, Volume):
            return None
        src = metadata.get(SOURCE_AFFINE_KEY)
        order = tuple(int(v) for v in metadata.get(ORDER_KEY, (0, 1, 2)))
        flips = tuple(bool(v) for v in metadata.get(FLIPS_KEY, (False, False, False)))
        return cls(
            vol,
            vol.affine.copy() if src is None else np.asarray(src, dtype=float),
            (order[0], order[1], order[2]),
            (flips[0], flips[1], flips[2]),
        )


def layer_volume(metadata: Mapping[str, Any]) -> Volume | None:
    """The displayed (canonical) Volume stored in a layer's metadata, if any."""
    info = VolumeLayerInfo.from_metadata(metadata)
    return None if info is None else info.volume
