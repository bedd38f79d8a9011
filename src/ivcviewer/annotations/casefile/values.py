"""Field types of the case-file models: the checks of single YAML values, and of mappings.

Each type is ``Annotated[T, BeforeValidator(check)]``: the check sees the raw YAML value, raises
:class:`~.problems.SchemaProblem` with the project's wording when it breaks the schema and
returns the value the model stores (stripped text, an upper-case colour, a vocabulary enum
member, a float). :class:`FileModel` is the base of the model dataclasses: it checks that a
part of the file is a mapping with known keys before its fields are validated.

Examples
--------
>>> check_text("  Retroperitoneal mass ")
'Retroperitoneal mass'
>>> check_colour("#e6553a")
'#E6553A'
>>> check_kind("mass"), check_mayo_level(0)
('mass', '0')
>>> check_kind("tumor")
Traceback (most recent call last):
...
ivcviewer.annotations.casefile.problems.SchemaProblem: is not a known finding kind (known: \
mass, intravascular_tumour, thrombus, lesion, lymph_node, vessel, organ, landmark, clinical), \
got 'tumor'. Fix: use one of them
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, ValidationInfo, model_validator
from pydantic.fields import FieldInfo

from .. import vocabulary as voc
from ..anatomy.reference_names import ALL_DIRECTIONS, BadReference, parse_reference
from .problems import REFERENCE, SchemaProblem

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_COLOUR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
_DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")

_E = TypeVar("_E", bound=voc.VocabularyEnum)
_T = TypeVar("_T")


# --------------------------------------------------------------------------- text and names


def check_text(value: Any) -> str:
    """A non-empty text, stripped."""
    if not isinstance(value, str) or not value.strip():
        raise SchemaProblem("must be a non-empty text", "write it as text (quote it)", value)
    return value.strip()


def check_ident(value: Any) -> str:
    """An identifier: lower-case letters, digits and ``_``, starting with a letter."""
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise SchemaProblem(
            "must be an identifier (lower-case letters, digits and '_', starting with a letter)",
            "write it like 'intravascular_tumour'",
            value,
        )
    return value


def check_doi(value: Any) -> str:
    """A bare DOI ``10.<registrant>/<suffix>``."""
    doi = check_text(value)
    if not _DOI_RE.match(doi):
        raise SchemaProblem(
            "must be a DOI '10.<registrant>/<suffix>'",
            "write the bare DOI, for example '10.37549/AR-D-24-0011' (no 'doi:' prefix)",
            doi,
        )
    return doi


def check_colour(value: Any) -> str:
    """An RGB hex colour ``#RRGGBB``, in upper case."""
    if not isinstance(value, str) or not _COLOUR_RE.match(value):
        raise SchemaProblem(
            "must be an RGB hex colour '#RRGGBB'",
            "write it like '#E6553A' (quoted, with the '#')",
            value,
        )
    return value.upper()


def declared_structures(info: ValidationInfo | None) -> tuple[str, ...]:
    """The structure names a case file declares under ``structures`` (validation context)."""
    context = info.context if info is not None and isinstance(info.context, dict) else {}
    names = context.get("structures", ())
    return tuple(n for n in names if isinstance(n, str))


def check_structure(value: Any, info: ValidationInfo) -> str:
    """A structure name or group pattern (:func:`~..vocabulary.is_known_structure`), or a
    name the case file declares under ``structures``."""
    if isinstance(value, str) and value in declared_structures(info):
        return value
    if not isinstance(value, str) or not voc.is_known_structure(value):
        hint = voc.closest(str(value), voc.STRUCTURES)
        fix = f"use {hint!r}" if hint else "use a TotalSegmentator class name"
        raise SchemaProblem(
            "is not a known structure name (TotalSegmentator class names such as "
            "'inferior_vena_cava', 'iliopsoas_right', 'kidney_left', a group such as "
            "'vertebrae_*', or a name listed under the case file's 'structures')",
            f"{fix} (the list is in {REFERENCE})",
            value,
        )
    return value


def _reference_check(point_only: bool) -> Callable[[Any, ValidationInfo], str]:
    what = "point reference" if point_only else "reference"

    def check(value: Any, info: ValidationInfo) -> str:
        if not isinstance(value, str):
            raise SchemaProblem(
                f"must be a {what} (text)", "write it like 'kidney_right.centroid'", value
            )
        try:
            ref = parse_reference(value, declared_structures(info))
        except BadReference as err:
            raise SchemaProblem(
                f"is not a {what}: {err.problem}",
                err.fix + f" (the grammar is in {REFERENCE})",
                value,
            ) from None
        if point_only and not ref.is_point:
            raise SchemaProblem(
                "is a centreline, not a point",
                "name a point (a level, a centroid, an extreme)",
                value,
            )
        return value

    check.__doc__ = (
        f"A {what}: a landmark of the vocabulary or a structure reference "
        "(:mod:`~..anatomy.reference_names`)."
    )
    return check


check_landmark = _reference_check(point_only=False)
check_point_landmark = _reference_check(point_only=True)


def check_directions(value: Any) -> tuple[str, ...]:
    """One direction, or a list of up to three that are combined (``[superior, medial]``).

    Whether they combine (not opposite, medial and lateral only on a structure of one side) is
    checked by the placement, which knows the structure.
    """
    items = value if isinstance(value, list) else [value]
    if not 1 <= len(items) <= 3:
        raise SchemaProblem(
            "must be one direction or a list of one to three",
            "write for example 'superior' or '[superior, medial]'",
            value,
        )
    out = tuple(check_direction(v) for v in items)
    if len(set(out)) != len(out):
        raise SchemaProblem("repeats a direction", "name each direction once", value)
    return out  # opposite ones are refused with the structure they apply to (Placement)


def check_direction(value: Any) -> str:
    """A patient direction (:data:`~..anatomy.reference_names.ALL_DIRECTIONS`)."""
    if not isinstance(value, str) or value not in ALL_DIRECTIONS:
        hint = voc.closest(str(value), ALL_DIRECTIONS)
        raise SchemaProblem(
            f"is not a direction (known: {', '.join(ALL_DIRECTIONS)})",
            f"use {hint!r}" if hint else "use one of them",
            value,
        )
    return value


# --------------------------------------------------------------------------- vocabularies


def _choice(vocabulary: type[_E], what: str) -> Callable[[Any], _E]:
    """The check of a value of ``vocabulary`` (an integer stands for its digits: Mayo ``0``)."""
    names = [str(m.value) for m in vocabulary]

    def check(value: Any) -> _E:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or value not in names:
            hint = voc.closest(str(value), names)
            fix = f"use {hint!r}" if hint else "use one of them"
            raise SchemaProblem(f"is not a known {what} (known: {', '.join(names)})", fix, value)
        return vocabulary(value)

    check.__doc__ = f"A {what} (:class:`~..vocabulary.{vocabulary.__name__}`)."
    return check


check_kind = _choice(voc.FindingKind, "finding kind")
check_relation_rule = _choice(voc.RelationRule, "rule")
check_placement_rule = _choice(voc.PlacementRule, "placement rule")
check_side = _choice(voc.Side, "side")
check_shape = _choice(voc.SolidShape, "shape")
check_occlusion = _choice(voc.Occlusion, "occlusion")
check_mayo_level = _choice(voc.MayoLevel, "Mayo level")
check_ivc_segment = _choice(voc.IvcSegment, "IVC segment")


def check_unit(value: Any) -> voc.LengthUnit:
    """A length unit of :class:`~..vocabulary.LengthUnit`."""
    if not isinstance(value, str) or value not in voc.UNITS_MM:
        raise SchemaProblem(
            f"is not an allowed length unit (allowed: {', '.join(voc.UNITS_MM)})",
            "write 'cm' or 'mm' (convert other units first)",
            value,
        )
    return voc.LengthUnit(value)


def check_axis(value: Any) -> voc.Axis:
    """An axis code of :class:`~..vocabulary.Axis`."""
    if not isinstance(value, str) or value not in voc.AXES:
        raise SchemaProblem(
            "is not an axis code (lr: left-right, ap: antero-posterior, cc: cranio-caudal)",
            "use 'lr', 'ap' or 'cc'",
            value,
        )
    return voc.Axis(value)


# --------------------------------------------------------------------------- numbers


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def number_in(lo: float, hi: float) -> Callable[[Any], float]:
    """The check of a plain number in ``[lo, hi]``."""

    def check(value: Any) -> float:
        if not _is_number(value):
            raise SchemaProblem("must be a number", "write a plain number (no unit)", value)
        if value < lo or value > hi:
            raise SchemaProblem(
                f"must lie in [{lo}, {hi}]", "give a value inside that range", value
            )
        return float(value)

    check.__doc__ = f"A plain number in [{lo}, {hi}]."
    return check


def check_figure(value: Any) -> float:
    """A reported figure: a positive number."""
    if not _is_number(value) or value <= 0:
        raise SchemaProblem(
            "must be a positive number",
            "write the figure as a plain number and its unit in 'unit'",
            value,
        )
    return float(value)


def check_bool(value: Any) -> bool:
    """``true`` or ``false`` (not ``1``, not ``'yes'``)."""
    if not isinstance(value, bool):
        raise SchemaProblem("must be true or false", "write true or false", value)
    return value


def check_label_value(value: Any) -> int:
    """A label value: an integer 1-255."""
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 255:
        raise SchemaProblem(
            "must be an integer 1-255",
            "give a unique label value, or remove it to number findings in order",
            value,
        )
    return value


def check_schema_version(value: Any) -> int:
    """A schema version this package reads (:data:`~..vocabulary.SUPPORTED_SCHEMA_VERSIONS`)."""
    if isinstance(value, bool) or value not in voc.SUPPORTED_SCHEMA_VERSIONS:
        raise SchemaProblem(
            "is not a schema version this ivcviewer reads (supported: "
            f"{', '.join(map(str, voc.SUPPORTED_SCHEMA_VERSIONS))})",
            "convert the file to the current schema (docs/case-file.md) or upgrade ivcviewer",
            value,
        )
    return int(value)


# --------------------------------------------------------------------------- lists


def check_list(value: Any) -> list[Any]:
    """A YAML list (items are checked by the item type)."""
    if not isinstance(value, list):
        raise SchemaProblem("must be a list", "write it as '[a, b]' or '- ' lines", value)
    return value


def check_figures(value: Any) -> list[Any]:
    """The figures of a measurement: a list of 1 to 3 items."""
    figures = check_list(value)
    if not 1 <= len(figures) <= 3:
        raise SchemaProblem("must hold 1 to 3 numbers", "list the reported figures", figures)
    return figures


def check_through(value: Any) -> list[Any]:
    """The landmarks a placement runs through: a list of 1 or 2 items."""
    points = check_list(value)
    if not 1 <= len(points) <= 2:
        raise SchemaProblem(
            "must list one or two landmarks (an ellipse of given size passes through at most "
            "two chosen points)",
            "list the vessel point and the origin point",
            points,
        )
    return points


# --------------------------------------------------------------------------- field types
# Vocabulary fields hold enum members, except the placement's rule and side: the fit also builds
# placements (from the relations), with no side (""), so those two fields are plain text.

Text = Annotated[str, BeforeValidator(check_text)]
Ident = Annotated[str, BeforeValidator(check_ident)]
Doi = Annotated[str, BeforeValidator(check_doi)]
Colour = Annotated[str, BeforeValidator(check_colour)]
StructureName = Annotated[str, BeforeValidator(check_structure)]
LandmarkName = Annotated[str, BeforeValidator(check_landmark)]
PointLandmarkName = Annotated[str, BeforeValidator(check_point_landmark)]
Kind = Annotated[voc.FindingKind, BeforeValidator(check_kind)]
RuleName = Annotated[voc.RelationRule, BeforeValidator(check_relation_rule)]
PlacementRuleName = Annotated[str, BeforeValidator(check_placement_rule)]
SideName = Annotated[str, BeforeValidator(check_side)]
DirectionName = Annotated[str, BeforeValidator(check_direction)]
Directions = Annotated[tuple[str, ...], BeforeValidator(check_directions)]
ShapeName = Annotated[voc.SolidShape, BeforeValidator(check_shape)]
OcclusionDegree = Annotated[voc.Occlusion, BeforeValidator(check_occlusion)]
Mayo = Annotated[voc.MayoLevel, BeforeValidator(check_mayo_level)]
Segment = Annotated[voc.IvcSegment, BeforeValidator(check_ivc_segment)]
Unit = Annotated[voc.LengthUnit, BeforeValidator(check_unit)]
AxisCode = Annotated[voc.Axis, BeforeValidator(check_axis)]
Figure = Annotated[float, BeforeValidator(check_figure)]
Figures = Annotated[tuple[Figure, ...], BeforeValidator(check_figures)]
Flag = Annotated[bool, BeforeValidator(check_bool)]
LabelValue = Annotated[int, BeforeValidator(check_label_value)]
SchemaVersion = Annotated[int, BeforeValidator(check_schema_version)]
MarginMm = Annotated[float, BeforeValidator(number_in(0.0, 100.0))]
Fraction = Annotated[float, BeforeValidator(number_in(0.0, 1.0))]
OffsetMm = Annotated[float, BeforeValidator(number_in(-500.0, 500.0))]
DepthMm = Annotated[float, BeforeValidator(number_in(-50.0, 50.0))]
GapMm = Annotated[float, BeforeValidator(number_in(-50.0, 200.0))]
RelativePosition = Annotated[float, BeforeValidator(number_in(-3.0, 3.0))]
#: A YAML list of items of one type, stored as a tuple.
ListOf = Annotated[tuple[_T, ...], BeforeValidator(check_list)]


# --------------------------------------------------------------------------- mappings


_FILE_KEYS: dict[type, dict[str, str]] = {}


def file_keys(cls: type) -> dict[str, str]:
    """Key in the file -> field name, for each field of the dataclass ``cls``.

    A field's key is its pydantic alias (``Annotated[..., Field(alias=...)]``) or its name.
    """
    if cls not in _FILE_KEYS:
        hints = typing.get_type_hints(cls, include_extras=True)
        out: dict[str, str] = {}
        for f in dataclasses.fields(cls):
            aliases = [
                m.alias
                for m in getattr(hints[f.name], "__metadata__", ())
                if isinstance(m, FieldInfo) and m.alias
            ]
            out[aliases[0] if aliases else f.name] = f.name
        _FILE_KEYS[cls] = out
    return _FILE_KEYS[cls]


class FileModel:
    """Base of the case-file dataclasses: a part of the file is a mapping of known keys.

    Before the fields of a subclass are validated, its part of the file must be a mapping
    whose keys are all fields (a typo gets a 'did you mean'); a key set to null counts as
    absent. :meth:`check_part` then sees these entries as written, for the rules that depend
    on which keys are present; it returns the entries to validate.
    """

    #: Fields that are not read from the file (a subclass sets them in :meth:`check_part`).
    NOT_IN_FILE: typing.ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _from_file(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, cls):
            return data
        if not isinstance(data, dict):
            raise SchemaProblem(
                "must be a mapping of keys to values", "write it as 'key: value' lines", data
            )
        allowed = set(file_keys(cls)) - cls.NOT_IN_FILE
        for key in data:
            if key not in allowed:
                hint = voc.closest(str(key), allowed)
                did = f"rename it to {hint!r}" if hint else "remove it"
                raise SchemaProblem(
                    f"is not a field of this schema (allowed: {', '.join(sorted(allowed))})",
                    f"{did} (the reference is {REFERENCE})",
                    at=(str(key),),
                )
        return cls.check_part(data, info)

    @classmethod
    def check_part(cls, written: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """The entries to validate, from the entries as written (null ones included)."""
        return present(written)


def present(written: dict[str, Any]) -> dict[str, Any]:
    """The entries that are set (a key written with a null value counts as absent)."""
    return {k: v for k, v in written.items() if v is not None}
