"""Spec kinds as types: the base class every kind derives from, and the kind registry.

A spec is still its JSON object (``distill2rules.spec/1``): :class:`Spec` *is* a ``dict``, so
``spec["terms"]`` and ``json.dumps(spec)`` keep working, but its class says which kind it is and
owns what differs between kinds: evaluation (also on integer-coded rows, the vectorised path
SHAP needs), size, validation and how a calibration folds into the parameters.

Readers that render a spec (ONNX, rule card, reason codes, attribution) dispatch on the class
through one :class:`KindTable` each instead of comparing ``spec["kind"]`` strings. A new kind is
one module with a ``Spec`` subclass decorated with :func:`register_kind`, plus one entry in
each renderer's table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np

from distill2rules.errors import SpecError
from distill2rules.spec._special import validate_specials

__all__ = ["KindTable", "Spec", "kind_class", "kinds", "register_kind", "typed"]

_REGISTRY: dict[str, type[Spec]] = {}


class Spec(dict):  # type: ignore[type-arg]
    """A fitted student as plain data; subclasses are the spec kinds.

    Construct a kind from a mapping with :func:`typed`. Methods never mutate the spec: those
    that change parameters (:meth:`scaled`, :meth:`shifted`) return a new one.
    """

    kind: ClassVar[str] = ""

    # ------------------------------------------------------------------ evaluation
    def outputs(self, num: np.ndarray, cat: np.ndarray) -> dict[str, np.ndarray]:
        """Kind-specific outputs on prepared tensors: ``probabilities`` plus ``scores`` /
        ``contributions`` / ``rule`` (see :func:`distill2rules.spec.evaluate`)."""
        raise NotImplementedError

    def evaluate(
        self,
        X: Any = None,
        *,
        numeric: np.ndarray | None = None,
        categorical: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """:func:`distill2rules.spec.evaluate` of this spec."""
        from distill2rules.spec._evaluate import evaluate  # lazy: cycle (_evaluate imports _kinds)

        return evaluate(self, X, numeric=numeric, categorical=categorical)

    def evaluate_codes(
        self, codes: np.ndarray, vocab: Mapping[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """:meth:`outputs` on integer-coded rows.

        Column ``j`` of ``codes`` indexes ``vocab[c]`` for the ``j``-th input ``c`` (numeric
        inputs first, then categorical, in ``spec["inputs"]`` order); numeric vocabularies hold
        numbers, categorical ones canonical strings (:func:`to_category_strings`). Kinds
        override this with a vectorised path (categorical parts computed once per vocabulary
        entry); this default decodes the rows and evaluates them.
        """
        num, cat = self._decode(codes, vocab)
        return self.outputs(num, cat)

    def _decode(
        self, codes: np.ndarray, vocab: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """The prepared ``(numeric, categorical)`` tensors of coded rows."""
        num_cols, cat_cols = self.input_columns()
        codes = np.asarray(codes).astype(np.int64)
        cat = np.empty((len(codes), len(cat_cols)), dtype=object)
        for j, c in enumerate(cat_cols):
            cat[:, j] = vocab[c][codes[:, len(num_cols) + j]]
        return self._decode_numeric(codes, vocab), cat

    def _decode_numeric(self, codes: np.ndarray, vocab: Mapping[str, np.ndarray]) -> np.ndarray:
        num_cols, _ = self.input_columns()
        num = np.empty((len(codes), len(num_cols)), dtype=np.float32)
        for j, c in enumerate(num_cols):
            num[:, j] = vocab[c][np.asarray(codes[:, j]).astype(np.int64)]
        return num

    def _vocab_matrix(self, c: str, vocab: Mapping[str, np.ndarray]) -> np.ndarray:
        """A categorical tensor with one row per vocabulary entry of ``c`` (other columns ``""``)."""
        _, cat_cols = self.input_columns()
        mat = np.full((len(vocab[c]), len(cat_cols)), "", dtype=object)
        mat[:, cat_cols.index(c)] = vocab[c]
        return mat

    def input_columns(self) -> tuple[list[str], list[str]]:
        """``(numeric, categorical)`` input column names."""
        return list(self["inputs"].get("numeric", [])), list(self["inputs"].get("categorical", []))

    # ------------------------------------------------------------------ size
    def n_parameters(self) -> int:
        """Learned numbers (the size behind PRR and ``--sizes`` pilots)."""
        raise NotImplementedError

    def complexity(self) -> dict[str, Any]:
        """Human-facing size (terms / rules / conditions / hidden units) and ``parameters``."""
        raise NotImplementedError

    # ------------------------------------------------------------------ calibration
    def scaled(self, a: float) -> Spec:
        """A copy whose scores are multiplied by ``a`` (temperature scaling folded in)."""
        raise NotImplementedError

    def shifted(self, b: float) -> Spec:
        """A copy of a binary spec whose log-odds are shifted by ``b`` (Platt's intercept)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ validation
    def check(self) -> None:
        """Kind-specific structural checks (raise :class:`SpecError`); the common ones run in
        :func:`distill2rules.spec.validate` first."""

    def check_specials(self) -> None:
        validate_specials(self, None)


S = TypeVar("S", bound=type[Spec])


def register_kind(cls: S) -> S:
    """Class decorator: make ``cls`` the class of specs whose ``kind`` is ``cls.kind``."""
    if not cls.kind:
        raise ValueError(f"{cls.__name__} must set a non-empty 'kind'.")
    if cls.kind in _REGISTRY and _REGISTRY[cls.kind] is not cls:
        raise ValueError(
            f"spec kind {cls.kind!r} is already registered ({_REGISTRY[cls.kind].__name__})."
        )
    _REGISTRY[cls.kind] = cls
    return cls


def kinds() -> tuple[str, ...]:
    """The registered kind names, in registration order."""
    return tuple(_REGISTRY)


def kind_class(spec: Mapping[str, Any] | str) -> type[Spec]:
    """The class of a spec (or of a kind name); :class:`SpecError` for an unknown kind."""
    if isinstance(spec, Spec):
        return type(spec)
    kind = (
        spec if isinstance(spec, str) else spec.get("kind") if isinstance(spec, Mapping) else None
    )
    cls = _REGISTRY.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise SpecError(f"unknown spec kind {kind!r}; expected one of {', '.join(_REGISTRY)}.")
    return cls


def typed(spec: Mapping[str, Any]) -> Spec:
    """``spec`` as an instance of its kind's class (itself when it already is one; otherwise
    a shallow copy: mutate the returned object, not the mapping passed in)."""
    cls = kind_class(spec)
    if type(spec) is cls:
        assert isinstance(spec, Spec)
        return spec
    return cls(spec)


T = TypeVar("T")


class KindTable(Generic[T]):
    """One renderer's dispatch table: an entry per spec kind class.

    >>> BUILDERS: KindTable[Callable[..., Any]] = KindTable("ONNX builder")
    >>> @BUILDERS.register(AdditiveSpec)          # doctest: +SKIP
    ... def build_additive(g, spec): ...
    >>> BUILDERS.of(spec)(g, spec)                # doctest: +SKIP

    Entries are usually functions (``register`` as a decorator) but may be any value
    (``add``). Lookup follows the class's MRO, so a subclass of a kind inherits its entries.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._table: dict[type[Spec], T] = {}

    def add(self, cls: type[Spec], entry: T) -> T:
        if not (isinstance(cls, type) and issubclass(cls, Spec)):
            raise TypeError(f"{self.name} entries are keyed by a Spec subclass, got {cls!r}.")
        self._table[cls] = entry
        return entry

    def register(self, cls: type[Spec]) -> Callable[[T], T]:
        def deco(entry: T) -> T:
            return self.add(cls, entry)

        return deco

    def of(self, spec: Mapping[str, Any] | type[Spec]) -> T:
        cls = spec if isinstance(spec, type) else kind_class(spec)
        for c in cls.__mro__:
            fn = self._table.get(c)
            if fn is not None:
                return fn
        raise SpecError(f"no {self.name} for spec kind {cls.kind!r}.")

    def get(self, spec: Mapping[str, Any] | type[Spec], default: Any = None) -> Any:
        try:
            return self.of(spec)
        except SpecError:
            return default

    def __contains__(self, cls: object) -> bool:
        return cls in self._table

    def __iter__(self) -> Iterator[type[Spec]]:
        return iter(self._table)
