"""Score plain records with an exported student: numpy + onnxruntime + the standard library.

:class:`Scorer` reads everything it needs from the graph's metadata (the ``"scorer"`` object
:func:`distill2rules.exporters.to_onnx` writes: input order and dtypes, category code tables,
classes, adverse class, reason references), keeps one ``InferenceSession`` and preallocated
input buffers, validates each record and turns the graph's ``contributions`` / ``rule`` outputs
into decisions and ranked reasons. No pandas, no spec evaluator: this module imports numpy,
onnxruntime and the standard library only, so it works in the core install and on an edge CPU.

Examples
--------
>>> from distill2rules import Scorer                                 # doctest: +SKIP
>>> scorer = Scorer.load("runs/adult_ebm")                          # doctest: +SKIP
>>> scorer.score({"age": 39, "workclass": "Private", ...})         # doctest: +SKIP
{'decision': '<=50K', 'probability': 0.93, ...}
>>> scorer.explain(record)["reasons"][0]["text"]                    # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import math
import operator
import os
import re
import struct
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from distill2rules.conditions import Condition
from distill2rules.errors import ArtifactError, SchemaError, SpecError

__all__ = ["RecordError", "Scorer", "Scores"]

#: text cells that mean "missing" in a numeric field (as the spec evaluator reads them)
NUMERIC_MISSING = frozenset({"", "?", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "-", "."})
#: a number's text as ``distill2rules predict`` reads it (pandas): ASCII digits with an optional
#: sign, decimal point and exponent, or inf / infinity in any case (after stripping whitespace);
#: not what float() alone also takes ("1_000", "NAN", "+nan", non-ASCII digits)
_NUMBER_TEXT = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?i:inf(?:inity)?))"
)
#: smallest impact that counts as a reason: contributions come out of the graph as float32
#: (~1e-7 relative), so smaller differences from a reference are rounding, not a push
_EPS = 1e-6
_LOGIT_CLIP = 1e-12
F32_MAX = float(np.finfo(np.float32).max)
_CACHE_SIZE = 4096  # texts of (term, value) pairs kept for the next records
#: file names ``Scorer.load(DIR)`` looks for, fastest graph first
GRAPH_FILES = ("student.codes.onnx", "student.onnx")
#: records :meth:`Scorer.prepare` converts together (their dicts and values stay in cache)
BLOCK = 512
#: rows per graph call in :meth:`Scorer.score_many`, by kind (others: the whole batch at once;
#: tree-ensemble graphs were fastest that way, an MLP's layers in blocks of ~2k rows)
_RUN_ROWS = {"mlp": 2048}
#: texts memoised per categorical column beyond its code table (bounds a server's memory)
_MEMO_SIZE = 4096


class RecordError(SchemaError):
    """A record cannot be scored: unknown or missing fields, or a value of the wrong type.

    ``field`` names the offending field (None for a whole-record problem) and ``row`` the
    record's position in a batch (None for a single record). A ``ValueError``.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        row: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.field = field
        self.row = row
        where = "" if row is None else f"record {row}: "
        super().__init__(where + message, hint=hint)


# ----------------------------------------------------------------------------- values


def _number(value: Any, field: str, row: int | None) -> float:
    """A numeric field as float (NaN = missing), as the spec evaluator reads it.

    Numbers of any type float() takes without parsing text (int, float, numpy scalars, Decimal,
    Fraction, 0-d arrays: what :meth:`Scorer.prepare`'s fast path takes; ±inf beyond float
    range), and bytes holding UTF-8 text, read as text is."""
    if value is None:
        return math.nan
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, str):
        text = value.strip()
        if _NUMBER_TEXT.fullmatch(text):
            return float(text)
        if text in NUMERIC_MISSING:
            return math.nan
        raise _not_a_number(field, row, repr(value))
    if isinstance(value, bytes):  # as pandas reads a bytes cell: its UTF-8 text
        try:
            return _number(value.decode("utf-8"), field, row)
        except (UnicodeDecodeError, RecordError):
            raise _not_a_number(field, row, repr(value)) from None
    kind = type(value)
    if hasattr(kind, "__float__") or hasattr(kind, "__index__"):
        # int, float, numpy scalars, Decimal, Fraction, numpy bools, 0-d arrays
        held = _held_number(value)
        if held is not None:
            return held
    raise _not_a_number(field, row, f"{type(value).__name__} {value!r:.60}")


def _not_a_number(field: str, row: int | None, shown: str) -> RecordError:
    return RecordError(
        f"field '{field}' should be a number, got {shown}.",
        field=field,
        row=row,
        hint="Send a number, or null when it is missing.",
    )


def _held_number(value: Any) -> float | None:
    """``float(value)`` of a number-like object (±inf beyond float range); None if it holds none
    (``Decimal('sNaN')``, an array of several values)."""
    try:
        return float(value)
    except OverflowError:  # an int (a JSON number of 309+ digits) or Fraction beyond float range
        try:
            return math.inf if value > 0 else -math.inf
        except Exception:  # noqa: BLE001 - an odd type's comparison: no number
            return None
    except (TypeError, ValueError, ArithmeticError):
        return None


def category_string(value: Any, field: str = "?", row: int | None = None) -> str:
    """A categorical field's canonical string (``""`` = missing), as the spec evaluator makes it:
    integers and integral floats without ``.0``, other floats by ``repr``, strings stripped."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if math.isnan(f):
            return ""
        return str(int(f)) if f.is_integer() else repr(f)
    raise RecordError(
        f"field '{field}' should be a category (text or number), got {type(value).__name__} "
        f"{value!r:.60}.",
        field=field,
        row=row,
        hint="Send text, a number, or null when it is missing.",
    )


def _f32_display(x: float) -> float | None:
    """A float32 value as the shortest float that prints like it; None for NaN."""
    if math.isnan(x):
        return None
    return float(str(np.float32(x)))


def _fmt_num(x: Any) -> str:
    if x is None:
        return "missing"
    f = float(x)
    if math.isnan(f):
        return "missing"
    if math.isinf(f):
        return "∞" if f > 0 else "-∞"
    if f.is_integer() and abs(f) < 1e15:
        return str(int(f))
    return f"{f:.6g}"


def _fmt_value(x: Any) -> str:
    if x is None or x == "":
        return "missing"
    if isinstance(x, str):
        return f"'{x}'"
    return _fmt_num(x)


def _special_label(table: Any, feature: str, v: Any) -> str | None:
    """The label of ``v`` if it is a declared special value of ``feature`` (metadata ``special_values``)."""
    if not table or v is None or isinstance(v, str):
        return None
    from distill2rules.spec import special_label  # lazy: keeps `import scoring` numpy + ort only

    return special_label({"special_values": table}, feature, v)


def _as_float(v: Any) -> float:
    if v is None:
        return math.nan
    if isinstance(v, str):
        return {"inf": math.inf, "-inf": -math.inf}.get(v.strip().lower(), math.nan)
    return float(v)


# ----------------------------------------------------------------------------- results


@dataclass
class Scores:
    """Decisions for a batch of records (:meth:`Scorer.score_many`).

    ``label`` int64 [N] (index into ``classes``), ``probabilities`` float32 [N, K];
    ``scores[i]`` is the same dict :meth:`Scorer.score` returns.
    """

    classes: list[Any]
    label: np.ndarray
    probabilities: np.ndarray
    adverse_index: int | None = None

    def __len__(self) -> int:
        return int(self.label.shape[0])

    @property
    def decision(self) -> list[Any]:
        """The decided class of every record."""
        classes = self.classes
        return [classes[k] for k in self.label.tolist()]

    @property
    def probability(self) -> np.ndarray:
        """Probability of each record's decision, float32 [N]."""
        return self.probabilities[np.arange(len(self)), self.label]

    def __getitem__(self, i: int) -> dict[str, Any]:
        return _score_dict(
            self.classes, int(self.label[i]), self.probabilities[i].tolist(), self.adverse_index
        )

    def __iter__(self):  # type: ignore[no-untyped-def]
        for i in range(len(self)):
            yield self[i]

    def to_list(self) -> list[dict[str, Any]]:
        """One :meth:`Scorer.score` dict per record."""
        classes, adverse = self.classes, self.adverse_index
        return [
            _score_dict(classes, k, p, adverse)
            for k, p in zip(self.label.tolist(), self.probabilities.tolist())
        ]


def _score_dict(
    classes: list[Any], k: int, probs: list[float], adverse: int | None
) -> dict[str, Any]:
    return {
        "decision": classes[k],
        "probability": probs[k],
        "probabilities": {str(c): p for c, p in zip(classes, probs)},
        "adverse": None if adverse is None else k == adverse,
    }


# ----------------------------------------------------------------------------- the scorer


class Scorer:
    """Decisions and reasons for plain records from an exported student graph.

    Build it with :meth:`load`. Thread-safe: one ``InferenceSession`` is shared, each thread
    gets its own input buffers.

    Parameters
    ----------
    model : bytes or str or path-like
        The ONNX graph (serialized bytes or a ``.onnx`` file) written by
        :func:`distill2rules.exporters.to_onnx` (any input mode: ``tensors``, ``columns``,
        ``codes``).
    extra : {"error", "ignore"}, default "error"
        What to do with record fields the model does not read.
    threads : int, default 1
        onnxruntime intra-op threads (1 is fastest for single records).

    Attributes
    ----------
    columns : list of str
        The fields a record must carry (numeric first, then categorical).
    classes : list
        Class labels; ``decision`` is one of them.
    adverse_class : class label or None
        The adverse (declined) class, when the model states or implies one.
    kind : str
        ``additive``, ``rule_list`` or ``mlp``.
    metadata : dict
        The graph's ``"scorer"`` metadata.
    """

    def __init__(
        self,
        model: bytes | str | os.PathLike[str],
        *,
        extra: str = "error",
        threads: int = 1,
        path: str | None = None,
    ) -> None:
        if extra not in ("error", "ignore"):
            raise SchemaError(f"extra must be 'error' or 'ignore', got {extra!r}.")
        self._sess = _open_session(model, threads, path)
        self.path = path
        self.extra = extra
        props = dict(self._sess.get_modelmeta().custom_metadata_map)
        self._props = props
        self.metadata = _scorer_metadata(props)
        m = self.metadata
        self.kind: str = m["kind"]
        self.inputs: str = m.get("inputs", "tensors")
        self.classes: list[Any] = list(m["classes"])
        self.adverse_index: int | None = m.get("adverse_index")
        self._protected = set(
            m.get("protected") or []
        )  # never cited (fair-lending guard, as explain)
        self.adverse_class: Any = (
            None if self.adverse_index is None else self.classes[self.adverse_index]
        )
        self.num_cols: list[str] = list(m.get("numeric", []))
        self.cat_cols: list[str] = list(m.get("categorical", []))
        self.columns: list[str] = self.num_cols + self.cat_cols
        self._colset = frozenset(self.columns)
        self._num_pos = {c: j for j, c in enumerate(self.num_cols)}
        self.labels: dict[str, str] = dict(m.get("feature_labels") or {})
        self.special_values = m.get("special_values")
        self.decision_threshold = m.get("decision_threshold", m.get("threshold"))
        self._codes = any(f.get("dtype") == "int64" for f in m.get("feeds", []))
        self._category_tables(m.get("categories") or {})
        self._cat_items = [
            (operator.itemgetter(c), lk.get) for c, lk in zip(self.cat_cols, self._lookups)
        ]
        self._get_num = _getter(self.num_cols)
        self._get_cat = _getter(self.cat_cols)
        self._cat_index = np.arange(len(self.cat_cols))
        self._feeds = _feed_layout(m, self.num_cols, self.cat_cols)
        outs = [o.name for o in self._sess.get_outputs()]
        self._score_outputs = ["probabilities", "label"]
        self._explain_outputs = self._score_outputs + [
            o for o in ("contributions", "rule") if o in outs
        ]
        self._local = threading.local()
        # onnxruntime's Python wrapper re-validates the feed names on every call (~2 µs a row);
        # the feeds here are built from the graph's own input list, so call the session directly
        inner = getattr(self._sess, "_sess", None)
        self._run = (
            (lambda names, feeds: inner.run(names, feeds, None))
            if inner is not None
            else self._sess.run
        )
        self._prepare_reasons()

    # ------------------------------------------------------------------ construction

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], *, extra: str = "error", threads: int = 1
    ) -> Scorer:
        """A scorer for ``student.onnx``, or for an artifact directory.

        A directory uses ``student.codes.onnx`` when present (``distill2rules export DIR
        --inputs codes``; no string conversion in the graph), else ``student.onnx``, and checks
        the file's sha256 against the artifact's ``manifest.json``. A ``.onnx`` file is checked
        the same way when a ``manifest.json`` beside it lists it (as ``serve`` does); a bare
        graph, with no manifest beside it or not listed in it, is loaded as it is.
        """
        p = Path(path)
        if p.is_dir():
            graph = next((p / n for n in GRAPH_FILES if (p / n).is_file()), None)
            if graph is None:
                raise ArtifactError(
                    f"{p} holds no student.onnx.",
                    hint="Run `distill2rules export DIR --format onnx` (or fit with --onnx).",
                )
            data = graph.read_bytes()
            _check_manifest(p, graph.name, data)
        elif p.is_file():
            data = p.read_bytes()
            _check_manifest(p.parent, p.name, data, listed_only=True)
        else:
            raise ArtifactError(f"no such model file or artifact directory: {p}.")
        return cls(data, extra=extra, threads=threads, path=str(p))

    def _category_tables(self, tables: Mapping[str, Sequence[Any]]) -> None:
        """Per categorical column: the text -> code (or canonical string) table, the unseen
        code, and the lookup the batch path reads (the table plus None as missing)."""
        self._tables: list[dict[str, Any]] = []
        self._unseen: list[Any] = []
        for c in self.cat_cols:
            cats = [str(s) for s in tables.get(c, [])]
            if self._codes:
                t: dict[str, Any] = {s: i + 1 for i, s in enumerate(cats)}
                t[""] = 0
                self._unseen.append(len(cats) + 1)
            else:  # string graphs: the canonical string objects themselves (one object per value)
                t = {s: s for s in cats}
                t[""] = ""
                self._unseen.append(None)
            self._tables.append(t)
        # per categorical column, the code table plus None (missing) and a bounded memo of the
        # other texts seen (padded or unseen categories: a tree or rule list's table holds only
        # the categories its conditions name, so most values of a column can be "unseen"); a
        # text's code never changes, so the memo is exact; only ``str`` keys are memoised
        # (1 == 1.0 == True hash alike but are different categories)
        self._lookups: list[dict[Any, Any]] = []
        for t in self._tables:
            lk: dict[Any, Any] = dict(t)
            lk[None] = t[""]
            self._lookups.append(lk)
        self._memo_cap = [len(lk) + _MEMO_SIZE for lk in self._lookups]
        # codes graphs, batch path: one lookup for every column at once. ``_gid`` numbers each
        # distinct key of all the columns' lookups (id 0: not known), ``_code_of[j, id]`` is its
        # code in column j (-1: not in that column's lookup), so a block's categorical cells are
        # one dict lookup each in one C pass, then one numpy gather (see :meth:`_codes_block`)
        self._gid: dict[Any, int] = {}
        for lk in self._lookups if self._codes else ():
            for key in lk:
                self._gid.setdefault(key, len(self._gid) + 1)
        self._code_of = np.full((len(self.cat_cols), len(self._gid) + 1), -1, dtype=np.int64)
        for j, lk in enumerate(self._lookups if self._codes else ()):
            for key, code in lk.items():
                self._code_of[j, self._gid[key]] = code
        self._gid_lock = threading.Lock()

    def _prepare_reasons(self) -> None:
        m = self.metadata
        self._logistic = m.get("link") == "logistic"
        self._ppl = float(m.get("points_per_logodds", 20.0 / math.log(2.0)))
        self._terms = []
        for t, term in enumerate(m.get("terms") or []):
            refs = [_as_float(v) for v in term.get("reference") or []]
            self._terms.append(
                (
                    t,
                    str(term["name"]),
                    list(term.get("features", [])),
                    refs,
                    list(term.get("reference_text") or [""] * len(refs)),
                )
            )
        self._rules = list(m.get("rules") or [])
        self._default_rule = m.get("default") or {
            "name": "default",
            "text": "ELSE",
            "decision": None,
        }
        n_classes = len(self.classes)
        self._shown_cache: dict[Any, tuple[Any, str]] = {}
        self._term_info = [
            (name, tuple(feats), tuple(self.labels.get(f, f) for f in feats), texts)
            for _, name, feats, _, texts in self._terms
        ]
        adverse = self.adverse_index
        self._tails = [
            "worse than best value "
            if adverse is not None and k == adverse
            else "better than worst value "
            if self._logistic
            else None
            for k in range(n_classes)
        ]
        self._refs = [
            [refs[k] if k < len(refs) else 0.0 for _, _, _, refs, _ in self._terms]
            for k in range(n_classes)
        ]
        occl = m.get("occlusion") or {}
        self._occlusion = [(f, v) for f, v in occl.items() if f in self._colset]
        # MLP explain runs ONE batch: row 0 the record, row 1 + i the record with feature i set to
        # its reference; these flat indices scatter the references into the [1 + d, ...] buffers
        n_occl = len(self._occlusion)
        num_at = [
            (
                (1 + i) * len(self.num_cols) + self._num_pos[f],
                math.nan if v is None else _as_float(v),
            )
            for i, (f, v) in enumerate(self._occlusion)
            if f in self._num_pos
        ]
        cat_at = [
            (1 + i) * len(self.cat_cols) + self.cat_cols.index(f)
            for i, (f, _) in enumerate(self._occlusion)
            if f not in self._num_pos
        ]
        self._occl_num = (
            (
                np.asarray([a for a, _ in num_at], dtype=np.intp),
                np.asarray([b for _, b in num_at], dtype=np.float32),
            )
            if num_at
            else None
        )
        self._occl_cat = np.asarray(cat_at, dtype=np.intp) if cat_at else None
        self._occl_rows = 1 + n_occl
        self._occl_text = [(f, self.labels.get(f, f), _fmt_value(v)) for f, v in self._occlusion]
        self._prepare_rules()
        # how this kind's reasons come out of the graph (the scorer has no spec classes: the
        # kind is the graph's metadata); additive and rule-list graphs need their extra output,
        # an MLP graph its occlusion references
        explainer, occludes = _EXPLAINERS.get(self.kind, (None, False))
        usable = bool(self._occlusion) if occludes else len(self._explain_outputs) > 2
        self._explainer = (explainer, occludes) if usable else (None, False)

    # ------------------------------------------------------------------ inputs

    def _buffers(self, n: int, purpose: str = "row") -> dict[str, Any]:
        """This thread's preallocated [n, d] buffers (n = 1: single records; n > 1: occlusion)."""
        local = self._local
        cache = getattr(local, "bufs", None)
        if cache is None:
            cache = local.bufs = {}
        bufs = cache.get((purpose, n))
        if bufs is None:
            bufs = cache[(purpose, n)] = self._allocate(n)
        return bufs

    def _allocate(self, n: int) -> dict[str, Any]:
        """Input buffers for ``n`` rows and, for graphs without string inputs, an ``IOBinding``
        that binds them and preallocated outputs once (no per-call tensor wrapping or output
        allocation: ~8 µs of a ~18 µs single-row call in a probe)."""
        num = np.zeros((n, len(self.num_cols)), dtype=np.float32)
        cat = (
            np.zeros((n, len(self.cat_cols)), dtype=np.int64)
            if self._codes
            else np.full((n, len(self.cat_cols)), "", dtype=object)
        )
        bufs: dict[str, Any] = {
            "num": num,
            "cat": cat,
            "feeds": self._feeds(num, cat),
            "binding": None,
            "num_flat": num.reshape(-1),
            "cat_flat": cat.reshape(-1),
        }
        if self._codes or not self.cat_cols:
            try:
                bufs["binding"], bufs["outs"] = self._bind(bufs["feeds"])
            except Exception:  # noqa: BLE001 - an onnxruntime without IOBinding: plain run()
                bufs["binding"] = None
        return bufs

    def _bind(self, feeds: Mapping[str, np.ndarray]) -> tuple[Any, list[np.ndarray]]:
        sample = self._sess.run(self._explain_outputs, feeds)  # output shapes and dtypes for n rows
        outs = [np.empty_like(a) for a in sample]
        binding = self._sess.io_binding()
        for name, arr in feeds.items():
            binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(arr))
        for name, arr in zip(self._explain_outputs, outs):
            binding.bind_ortvalue_output(name, ort.OrtValue.ortvalue_from_numpy(arr))
        inner, raw = getattr(self._sess, "_sess", None), getattr(binding, "_iobinding", None)
        if inner is not None and raw is not None:
            run = lambda: inner.run_with_iobinding(raw, None)
        else:
            run = lambda: self._sess.run_with_iobinding(binding)
        run()
        return run, outs

    def _check_fields(self, record: Any, row: int | None) -> None:
        """Raise the one clear error for a record whose fields do not match (slow path)."""
        if not isinstance(record, Mapping):
            raise RecordError(
                f"a record must be a JSON object / mapping of field -> value, got "
                f"{type(record).__name__}.",
                row=row,
            )
        missing = [c for c in self.columns if c not in record]
        if missing:
            raise RecordError(
                f"missing field(s): {', '.join(map(repr, missing[:5]))}"
                f"{' ...' if len(missing) > 5 else ''}.",
                field=missing[0],
                row=row,
                hint="Send every field the model reads (null for a missing value).",
            )
        if self.extra == "error":
            unknown = [str(k) for k in record if k not in self._colset]
            if unknown:
                raise RecordError(
                    f"unknown field(s): {', '.join(map(repr, unknown[:5]))}"
                    f"{' ...' if len(unknown) > 5 else ''}; the model reads "
                    f"{', '.join(self.columns[:12])}{' ...' if len(self.columns) > 12 else ''}.",
                    field=unknown[0],
                    row=row,
                    hint="Drop them, or load the scorer with extra='ignore'.",
                )

    def _fill(
        self,
        record: Mapping[str, Any],
        num: np.ndarray,
        cat: np.ndarray,
        i: int | slice = 0,
        row: int | None = None,
    ) -> None:
        """Write one record into row ``i`` (or the rows of a slice) of the buffers (validated;
        fast path first)."""
        try:
            if self.extra == "error" and len(record) != len(self.columns):
                raise LookupError
            nums = [record[c] for c in self.num_cols]
            cats = [record[c] for c in self.cat_cols]
        except Exception:
            self._check_fields(record, row)
            raise  # pragma: no cover - _check_fields always raises here
        wide = False  # a value float32 cannot hold (or NaN): assign under errstate, no warning
        for j, v in enumerate(nums):
            c = v.__class__
            if c is float or c is int:
                if not -F32_MAX <= v <= F32_MAX:
                    wide = True
                    if c is int:  # numpy cannot take an int beyond float64: it is ±inf
                        nums[j] = _number(v, self.num_cols[j], row)
            else:
                nums[j] = _number(v, self.num_cols[j], row)
                wide = True
        if nums:
            if wide:
                with np.errstate(over="ignore"):
                    num[i] = nums
            else:
                num[i] = nums
        if cats:
            lookups = self._lookups
            for j, v in enumerate(cats):
                try:
                    code = lookups[j].get(v)
                except TypeError:  # unhashable
                    code = None
                if code is None:
                    code = self._category_code(j, v, row)
                cats[j] = code
            cat[i] = cats

    def _category_code(self, j: int, v: Any, row: int | None) -> Any:
        """Code (codes graphs) or canonical string of a value the lookup did not hold: converted
        as the spec evaluator does (naming a bad value), then memoised when it is a text."""
        s = category_string(v, self.cat_cols[j], row)
        lk = self._lookups[j]
        code = lk.get(s, self._unseen[j] if self._codes else s)
        if v.__class__ is str and len(lk) < self._memo_cap[j]:
            lk[v] = code
            if self._codes:
                self._remember(j, v, code)
        return code

    def _remember(self, j: int, v: str, code: int) -> None:
        """Add a memoised text's code to the all-columns lookup of the batch path.

        Readers take ``_code_of`` once per block, so a concurrent grow or write at worst sends
        a cell down the per-value path again (-1), never to a wrong code; the lock only keeps
        two threads from giving two texts one id."""
        with self._gid_lock:
            g = self._gid.get(v)
            if g is None:
                g = len(self._gid) + 1
                table = self._code_of
                if g >= table.shape[1]:  # grow by doubling (bounded by the memo caps)
                    grown = np.full((table.shape[0], 2 * table.shape[1]), -1, dtype=np.int64)
                    grown[:, : table.shape[1]] = table
                    self._code_of = table = grown
                table[j, g] = code
                self._gid[v] = g  # published last: a reader that sees the id sees the code
            else:
                self._code_of[j, g] = code

    # ------------------------------------------------------------------ scoring

    def _run_one(
        self, record: Mapping[str, Any], outputs: list[str]
    ) -> tuple[dict[str, Any], list[Any]]:
        bufs = self._buffers(1)
        self._fill(record, bufs["num"], bufs["cat"])
        if bufs["binding"] is not None:  # outputs land in this thread's preallocated arrays
            bufs["binding"]()
            return bufs, bufs["outs"]
        return bufs, self._run(outputs, bufs["feeds"])

    def score(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Decision for one record.

        Returns
        -------
        dict
            ``decision`` (a class label), ``probability`` (of the decision), ``probabilities``
            (class -> probability) and ``adverse`` (whether the decision is the adverse class;
            None when the model has none).

        Raises
        ------
        RecordError
            Unknown or missing fields (``extra="error"``), or a value of the wrong type.
        """
        _, outs = self._run_one(record, self._score_outputs)
        probs, label = outs[0], outs[1]
        return _score_dict(self.classes, int(label[0]), probs[0].tolist(), self.adverse_index)

    def score_many(self, records: Sequence[Mapping[str, Any]]) -> Scores:
        """Decisions for many records in one graph call (column-wise conversion).

        Returns
        -------
        Scores
            ``label`` / ``probabilities`` arrays; ``to_list()`` gives one :meth:`score` dict each.
        """
        records = _record_list(records)
        num, cat = self.prepare(records)
        rows = _RUN_ROWS.get(self.kind, 0)
        if not rows or len(num) <= rows:
            probs, label = self._run(self._score_outputs, self._feeds(num, cat))
        else:  # an MLP's activations for a whole large batch outgrow the CPU cache
            parts = [
                self._run(self._score_outputs, self._feeds(num[i : i + rows], cat[i : i + rows]))
                for i in range(0, len(num), rows)
            ]
            probs = np.concatenate([p[0] for p in parts])
            label = np.concatenate([p[1] for p in parts])
        return Scores(self.classes, label, probs, self.adverse_index)

    def prepare(self, records: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """The graph's input tensors for ``records``: float32 [N, d_num] and codes / strings [N, d_cat].

        In C, block by block (a block's dicts and values stay in the CPU cache): the numeric
        fields of every record are read by one ``itemgetter`` call per record and chained into
        one ``struct.pack`` (numbers only; ``np.fromiter`` would parse text); a block with a
        missing (None) number retries its column with NaN in place. The categorical fields are
        read the same way and, for a codes graph, each cell looked up once in one dict over every
        column's keys (its code tables, None as missing, and a bounded memo of the other texts
        seen), then a numpy gather picks each column's code; a strings graph maps column by
        column. Only the cells that fast path cannot take (text in a numeric field, numbers or
        unhashable values in a categorical one, texts not yet seen) go through the per-value
        path, which names a bad one.
        """
        records = _record_list(records)
        n = len(records)
        num = np.empty((n, len(self.num_cols)), dtype=np.float32)
        cat = np.empty((n, len(self.cat_cols)), dtype=np.int64 if self._codes else object)
        if not n:
            return num, cat
        if self.extra == "error":
            try:
                fits = set(map(len, records)) == {len(self.columns)}
            except TypeError:  # a record without a length: not a mapping
                fits = False
            if not fits:
                for i, r in enumerate(records):
                    self._check_fields(r, i)
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # values beyond float32 become ±inf
                for start in range(0, n, BLOCK):
                    block = records[start : start + BLOCK]
                    self._prepare_block(
                        block,
                        start,
                        num[start : start + len(block)],
                        cat[start : start + len(block)],
                    )
        except (
            LookupError,
            TypeError,
            AttributeError,
        ):  # not a mapping, or a missing field: say which record
            for i, r in enumerate(records):
                self._check_fields(r, i)
            raise
        return num, cat

    def _numbers_slow(
        self, block: Sequence[Mapping[str, Any]], start: int, num: np.ndarray
    ) -> None:
        """Numeric columns one by one; a column the fast path cannot take goes per value, naming
        a bad one."""
        for j, values in enumerate(zip(*map(self._get_num, block))):
            fmt = f"{len(values)}d"
            try:
                num[:, j] = np.frombuffer(struct.pack(fmt, *values), np.float64)
                continue
            except (TypeError, ValueError, OverflowError, struct.error):
                pass
            try:  # missing values (None) are NaN, as _number reads them: still one C call
                filled = [math.nan if v is None else v for v in values]
                num[:, j] = np.frombuffer(struct.pack(fmt, *filled), np.float64)
            except (TypeError, ValueError, OverflowError, struct.error):
                name = self.num_cols[j]
                num[:, j] = [_number(v, name, start + i) for i, v in enumerate(values)]

    def _prepare_block(
        self, block: Sequence[Mapping[str, Any]], start: int, num: np.ndarray, cat: np.ndarray
    ) -> None:
        """Fill ``num`` / ``cat`` (views of one block's rows) from ``block`` (see :meth:`prepare`)."""
        m = len(block)
        d_num = len(self.num_cols)
        if d_num:  # one C pass: each dict's numbers as a tuple, all chained into one array
            try:  # struct takes numbers only: text goes per value (np.fromiter parses "1_000")
                num[:] = np.frombuffer(
                    struct.pack(f"{m * d_num}d", *chain.from_iterable(map(self._get_num, block))),
                    np.float64,
                ).reshape(m, d_num)
            except (TypeError, ValueError, OverflowError, struct.error):  # text, odd: per column
                self._numbers_slow(block, start, num)
        if not self.cat_cols:
            return
        codes = self._codes
        if codes and self._codes_block(block, start, cat):
            return
        dtype = np.int64 if codes else object
        miss = -1 if codes else None
        for j, (get, lookup) in enumerate(self._cat_items):
            # column by column, straight from the dicts into the codes: no tuple per record
            # (10k tuples of strings cost more than the lookups, mostly in the garbage collector)
            try:
                col = np.fromiter(map(lookup, map(get, block), repeat(miss)), dtype, m)
            except TypeError:  # an unhashable value somewhere (a list, a dict): per value below
                col = np.full(m, miss, dtype=dtype)
            todo = (
                np.flatnonzero(col < 0).tolist()
                if codes
                else [i for i, v in enumerate(col.tolist()) if v is None]
            )
            for i in todo:  # not in the lookup: convert (names a bad value), then memoise
                col[i] = self._category_code(j, get(block[i]), start + i)
            cat[:, j] = col

    def _codes_block(self, block: Sequence[Mapping[str, Any]], start: int, cat: np.ndarray) -> bool:
        """Codes graphs: every categorical cell of the block in one C pass (``itemgetter`` per
        record, one dict lookup per cell into :attr:`_gid`), then one gather from
        :attr:`_code_of`; cells neither held go through :meth:`_category_code`. False when a
        value is unhashable (the column-by-column path then names it)."""
        m, d = cat.shape
        table = self._code_of
        try:
            ids = np.fromiter(
                map(self._gid.get, chain.from_iterable(map(self._get_cat, block)), repeat(0)),
                np.int64,
                m * d,
            ).reshape(m, d)
        except TypeError:  # a list, a dict...: per column, naming the value
            return False
        out = table[self._cat_index, ids]
        for flat in np.flatnonzero(out < 0).tolist():
            i, j = divmod(flat, d)
            out[i, j] = self._category_code(j, block[i][self.cat_cols[j]], start + i)
        cat[:] = out
        return True

    # ------------------------------------------------------------------ explaining

    def explain(self, record: Mapping[str, Any], top: int = 4) -> dict[str, Any]:
        """Decision, probability and the top reasons for one record, from the graph's outputs.

        Additive students: terms ranked by how far their ``contributions`` output moves the
        score toward the decision compared with the term's reference (the reason codes of
        ``distill2rules explain``, reference "best"). Rule lists: the conditions of the rule the
        ``rule`` output names (for the default rule: why the rules with another outcome did not
        apply). MLPs: occlusion (each feature set to its reference, one batched graph call).

        Returns
        -------
        dict
            The :meth:`score` keys plus ``reasons`` (each: ``rank``, ``term``, ``features``,
            ``value``, ``impact``, ``text``, ...) and, for rule lists, ``rule``.
        """
        top = max(_whole(top), 1)
        explainer, occlude = self._explainer
        bufs, outs = (
            self._run_occlusion(record) if occlude else self._run_one(record, self._explain_outputs)
        )
        bufs["record"] = record
        probs, label = outs[0], outs[1]
        k = int(label[0])
        p = probs[0].tolist()
        res = _score_dict(self.classes, k, p, self.adverse_index)
        if explainer is None:  # a graph without the outputs reasons are read from
            res["reasons"] = []
        else:
            explainer(self, outs, k, bufs, top, res)
        return res

    def _shown_get(self, key: Any) -> Any:
        """The cached (value, text) of a reason's key, or None; a key holding an unhashable
        value (a 0-d array in a numeric field) is never cached."""
        try:
            return self._shown_cache.get(key)
        except TypeError:
            return None

    def _shown_put(self, key: Any, hit: Any) -> Any:
        """Cache ``hit`` under ``key`` (bounded: cleared when full; unhashable keys skipped)."""
        cache = self._shown_cache
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        try:
            cache[key] = hit
        except TypeError:
            pass
        return hit

    def _explain_additive(
        self, outs: list[Any], k: int, bufs: dict[str, Any], top: int, res: dict[str, Any]
    ) -> None:
        res["reasons"] = self._additive_reasons(outs[2][0].tolist(), k, bufs, top)

    def _explain_rule_list(
        self, outs: list[Any], k: int, bufs: dict[str, Any], top: int, res: dict[str, Any]
    ) -> None:
        res["rule"], res["reasons"] = self._rule_reasons(int(outs[2][0]), k, bufs, top)

    def _explain_mlp(
        self, outs: list[Any], k: int, bufs: dict[str, Any], top: int, res: dict[str, Any]
    ) -> None:
        res["reasons"] = self._mlp_reasons(outs[0], k, bufs, top)

    def _run_occlusion(self, record: Mapping[str, Any]) -> tuple[dict[str, Any], list[Any]]:
        """One graph call for an MLP's decision and its occlusion: row 0 is the record, row
        ``1 + i`` the record with occluded feature ``i`` set to its reference."""
        bufs = self._buffers(self._occl_rows, "occlusion")
        num, cat = bufs["num"], bufs["cat"]
        self._fill(record, num, cat, slice(None))  # the record into every row, then the references
        if self._occl_num is not None:  # flat views: one scatter each (np.put costs ~8x more)
            bufs["num_flat"][self._occl_num[0]] = self._occl_num[1]
        if self._occl_cat is not None:
            bufs["cat_flat"][self._occl_cat] = 0 if self._codes else ""
        if bufs["binding"] is not None:
            bufs["binding"]()
            return bufs, bufs["outs"]
        return bufs, self._run(self._explain_outputs, bufs["feeds"])

    def _value(
        self, feature: str, bufs: Mapping[str, Any], record: Mapping[str, Any] | None = None
    ) -> Any:
        """The record's (prepared) value of ``feature``: float32 number, category string, or None."""
        if record is None:
            record = bufs["record"]
        if feature in self._num_pos:
            raw = record[feature]
            if raw.__class__ is float:  # as sent (the graph saw its float32)
                return None if math.isnan(raw) else raw
            if raw.__class__ is int and -F32_MAX <= raw <= F32_MAX:
                return raw
            return _f32_display(float(bufs["num"][0, self._num_pos[feature]]))
        s = category_string(record[feature], feature)
        return None if s == "" else s

    def _additive_reasons(
        self, contrib: list[float], k: int, bufs: Mapping[str, Any], top: int
    ) -> list[dict[str, Any]]:
        refs = self._refs[k]
        if self._logistic and k == 0:  # contributions are log-odds of classes[1]
            sign = -1.0
            cands = [(r + c, t) for t, (c, r) in enumerate(zip(contrib, refs)) if -c - r > _EPS]
        else:
            sign = 1.0
            cands = [(r - c, t) for t, (c, r) in enumerate(zip(contrib, refs)) if c - r > _EPS]
        if self._protected:
            cands = [x for x in cands if not self._protected & set(self._term_info[x[1]][1])]
        if not cands:
            return []
        cands.sort()  # by -impact, then term index (as distill2rules explain)
        tail = self._tails[k]
        ppl = self._ppl if self._logistic else None
        record = bufs["record"]
        out = []
        for rank, (neg, t) in enumerate(cands[:top], 1):
            name, feats, shown_labels, texts = self._term_info[t]
            impact = -neg
            if len(feats) == 1:
                raw = record[feats[0]]
                key: Any = (t, raw.__class__, raw)
            else:
                key = (t, *((record[f].__class__, record[f]) for f in feats))
            hit = self._shown_get(key)
            if hit is None:  # the value's text, formatted once per (term, value) seen
                if len(feats) == 1:
                    value = self._value(feats[0], bufs, record)
                    shown = f"{shown_labels[0]} is {self._shown(feats[0], value)}"
                else:
                    value = {f: self._value(f, bufs, record) for f in feats}
                    shown = " and ".join(
                        f"{lb} is {self._shown(f, v)}"
                        for lb, (f, v) in zip(shown_labels, value.items())
                    )
                hit = self._shown_put(key, (value, shown))
            value, shown = hit
            if isinstance(value, dict):
                value = dict(value)
            amount = (
                f"{impact:.2f} score units"
                if ppl is None
                else f"{impact:.2f} log-odds, {impact * ppl:.0f} points"
            )
            if tail is None:
                text = f"{shown} (favours '{self.classes[k]}' by {amount} over {texts[k]})"
            else:
                text = f"{shown} ({tail}{texts[k]} by {amount})"
            out.append(
                {
                    "rank": rank,
                    "term": name,
                    "term_index": t,
                    "features": list(feats),
                    "value": value,
                    "reference": texts[k],
                    "contribution": sign * contrib[t],
                    "impact": impact,
                    "points": None if ppl is None else impact * ppl,
                    "text": text,
                }
            )
        return out

    def _value_shown(
        self, feature: str, bufs: Mapping[str, Any], record: Mapping[str, Any]
    ) -> tuple[Any, str]:
        """The record's value of ``feature`` and its text, formatted once per value seen."""
        raw = record[feature]
        key = (feature, raw.__class__, raw)
        hit = self._shown_get(key)
        if hit is None:
            value = self._value(feature, bufs, record)
            hit = self._shown_put(key, (value, self._shown(feature, value)))
        return hit

    def _shown(self, feature: str, v: Any) -> str:
        """A value as shown: a special value by its label ('no record'), never the code."""
        label = _special_label(self.special_values, feature, v)
        return f"'{label}'" if label is not None else _fmt_value(v)

    def _prepare_rules(self) -> None:
        """Per rule: (name, decision, conditions); each condition ``(feature, check, text, label,
        numeric position)`` with ``check`` the shared :class:`~distill2rules.conditions.Condition`."""
        specials = self.special_values or {}
        self._rule_conds = []
        for rule in self._rules:
            conds = []
            for c in rule.get("conditions", []):
                f = c["feature"]
                j = self._num_pos.get(f)
                codes = [float(k) for k in specials.get(f, {})] if j is not None else []
                conds.append((f, Condition(c, codes), c.get("text", ""), self.labels.get(f, f), j))
            self._rule_conds.append((rule.get("name", ""), rule.get("decision"), conds))
        self._rule_support = _rule_support(self._props, self._rules)

    def _rule_reasons(
        self, fired: int, k: int, bufs: Mapping[str, Any], top: int
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        is_default = fired >= len(self._rules)
        rule = self._default_rule if is_default else self._rules[fired]
        info = {
            "index": fired,
            "name": rule.get("name", "default"),
            "is_default": is_default,
            "text": rule.get("text", ""),
        }
        record = bufs["record"]
        reasons: list[Any] = []
        if not is_default:
            for cond in self._rule_conds[fired][2]:
                if cond[0] in self._protected or len(reasons) >= top:
                    continue  # protected characteristics are never cited (as explain)
                v, shown = self._value_shown(cond[0], bufs, record)
                reasons.append(
                    {
                        "rank": len(reasons) + 1,
                        "term": info["name"],
                        "features": [cond[0]],
                        "value": v,
                        "condition": cond[2],
                        "impact": None,
                        "points": None,
                        "text": f"{cond[2]} ({cond[3]} is {shown})",
                    }
                )
            return info, reasons
        # the default rule decided: the failed conditions of the nearest rules that would have
        # decided otherwise (fewest failed conditions, then larger support, then rule order),
        # one reason per feature: the reason codes of `distill2rules explain`
        x32 = bufs["num"][0].tolist()
        checked: dict[str, Any] = {}  # feature -> its value as the conditions check it
        nearest = []
        for r, (name, decision, conds) in enumerate(self._rule_conds):
            if decision == k:
                continue  # a rule pointing the same way is no reason
            failed = []
            for c in conds:
                f, check, _, _, j = c
                v = checked.get(f, checked)
                if v is checked:
                    v = checked[f] = x32[j] if j is not None else category_string(record[f], f)
                if not check(v):
                    failed.append(c)
            if failed:
                nearest.append((len(failed), -self._rule_support[r], r, name, failed))
        nearest.sort(key=lambda d: d[:3])
        seen: set[str] = set()
        for _, _, _, name, failed in nearest:
            for cond in failed:
                f = cond[0]
                if f in seen or f in self._protected:
                    continue  # one reason per feature; a protected one is never cited
                seen.add(f)
                v, shown = self._value_shown(f, bufs, record)
                reasons.append(
                    {
                        "rank": len(reasons) + 1,
                        "term": name,
                        "features": [f],
                        "value": v,
                        "condition": cond[2],
                        "impact": None,
                        "points": None,
                        "text": f"{name} does not apply: {cond[3]} is {shown}, not {cond[2]}",
                    }
                )
                if len(reasons) >= top:
                    return info, reasons
        return info, reasons

    def _mlp_reasons(
        self, probs: np.ndarray, k: int, bufs: Mapping[str, Any], top: int
    ) -> list[dict[str, Any]]:
        """Occlusion reasons from :meth:`_run_occlusion`'s probabilities: how far setting each
        feature to its reference moves the log-odds of the decided class ``k``."""
        col = probs[:, k].tolist()
        lo, hi = _LOGIT_CLIP, 1 - _LOGIT_CLIP
        if min(col) < lo or max(col) > hi:  # rare: a probability at 0 or 1 in float32
            col = [lo if p < lo else min(p, hi) for p in col]
        # logit is increasing: the most pushing feature is the one whose occlusion leaves the
        # lowest probability (ties by feature order); only the few reasons shown take logs
        order = sorted(range(len(col) - 1), key=col[1:].__getitem__)
        base = math.log(col[0]) - math.log1p(-col[0])
        record = bufs["record"]
        klass = self.classes[k]
        out: list[dict[str, Any]] = []
        for i in order:
            q = col[1 + i]
            imp = base - (math.log(q) - math.log1p(-q))
            if imp <= _EPS or len(out) >= top:
                break
            f, label, ref = self._occl_text[i]
            if f in self._protected:
                continue
            raw = record[f]
            key = (f, raw.__class__, raw)
            hit = self._shown_get(key)
            if hit is None:  # the value and its text, once per (feature, value) seen
                v = self._value(f, bufs, record)
                hit = self._shown_put(key, (v, f"{label} is {self._shown(f, v)}"))
            out.append(
                {
                    "rank": len(out) + 1,
                    "term": f,
                    "features": [f],
                    "value": hit[0],
                    "reference": ref,
                    "impact": imp,
                    "points": None,
                    "text": f"{hit[1]} (occlusion: moves the log-odds of '{klass}' by {imp:.2f} vs {ref})",
                }
            )
        return out

    # ------------------------------------------------------------------ description

    def graph_metadata(self) -> dict[str, str]:
        """The graph's raw metadata properties (``spec``, ``scorer``, ``classes``, ...)."""
        return dict(self._props)

    def schema(self) -> dict[str, Any]:
        """The record a caller must send: fields with their kind and known categories."""
        cats = self.metadata.get("categories") or {}
        fields: list[dict[str, Any]] = [
            {"name": c, "type": "number", "label": self.labels.get(c, c)} for c in self.num_cols
        ]
        fields += [
            {
                "name": c,
                "type": "category",
                "label": self.labels.get(c, c),
                "categories": list(cats.get(c, [])),
            }
            for c in self.cat_cols
        ]
        return {
            "fields": fields,
            "classes": self.classes,
            "adverse_class": self.adverse_class,
            "extra_fields": self.extra,
        }

    def __repr__(self) -> str:
        return (
            f"Scorer({self.metadata.get('model') or self.kind}, {len(self.columns)} fields, inputs={self.inputs!r}, "
            f"classes={self.classes!r})"
        )


def _open_session(
    model: bytes | str | os.PathLike[str], threads: int, path: str | None
) -> ort.InferenceSession:
    """One sequential CPU session (``threads`` intra-op threads); a graph onnxruntime cannot load
    is a :class:`SpecError` naming the file."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(threads)
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    source = model if isinstance(model, (bytes, bytearray)) else os.fspath(model)
    try:
        return ort.InferenceSession(source, sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own Fail / InvalidGraph types
        raise SpecError(
            f"cannot load the ONNX graph {path or ''}: {str(exc).splitlines()[0][:200]}",
            hint="Pass a student.onnx written by distill2rules.",
        ) from None


# spec kind -> (the Scorer method that reads its reasons off the graph's outputs, whether the
# decision's call carries the occlusion rows)
_EXPLAINERS: dict[str, tuple[Callable[..., None], bool]] = {
    "additive": (Scorer._explain_additive, False),
    "rule_list": (Scorer._explain_rule_list, False),
    "mlp": (Scorer._explain_mlp, True),
}


def _getter(columns: Sequence[str]) -> Any:
    """``fn(record) -> tuple`` of the record's values of ``columns`` (one C call per record)."""
    if not columns:
        return lambda r: ()
    if len(columns) == 1:
        only = columns[0]
        return lambda r: (r[only],)
    return operator.itemgetter(*columns)


def _feed_layout(m: Mapping[str, Any], num_cols: list[str], cat_cols: list[str]) -> Any:
    """``fn(num, cat) -> feeds`` for the graph's input mode (views of the two buffers)."""
    feeds = m.get("feeds")
    if not feeds:  # graphs from before the "scorer" metadata: derive from the input mode
        mode = m.get("inputs", "tensors")
        feeds = (
            [{"name": c, "columns": [c]} for c in num_cols + cat_cols]
            if mode == "columns"
            else ([{"name": "numeric", "columns": num_cols}] if num_cols or not cat_cols else [])
            + ([{"name": "categorical", "columns": cat_cols}] if cat_cols else [])
        )
    plan: list[tuple[Any, str, int | None]] = []
    for f in feeds:
        cols = list(f.get("columns", []))
        if cols == num_cols and f["name"] in ("numeric",) or (not cols and f["name"] == "numeric"):
            plan.append((f["name"], "num", None))
        elif cols == cat_cols and f["name"] == "categorical":
            plan.append((f["name"], "cat", None))
        elif len(cols) == 1 and cols[0] in num_cols:
            plan.append((f["name"], "num", num_cols.index(cols[0])))
        elif len(cols) == 1 and cols[0] in cat_cols:
            plan.append((f["name"], "cat", cat_cols.index(cols[0])))
        else:
            raise SpecError(
                f"the graph input {f['name']!r} carries columns this scorer cannot lay out: {cols}."
            )

    def make(num: np.ndarray, cat: np.ndarray) -> dict[str, np.ndarray]:
        src = {"num": num, "cat": cat}
        return {
            name: src[which] if j is None else src[which][:, j : j + 1] for name, which, j in plan
        }

    return make


def _scorer_metadata(props: Mapping[str, str]) -> dict[str, Any]:
    """The graph's ``"scorer"`` object; rebuilt from the stored spec for older graphs."""
    if "scorer" in props:
        try:
            meta = json.loads(props["scorer"])
        except json.JSONDecodeError:
            raise SpecError(
                "the graph's 'scorer' metadata is not valid JSON.",
                hint="Re-export it with `distill2rules export DIR --format onnx`.",
            ) from None
    elif "spec" in props:
        from distill2rules.exporters import scorer_metadata  # lazy: older graphs only
        from distill2rules.spec import from_json  # lazy: as above

        meta = scorer_metadata(from_json(props["spec"]), props.get("inputs", "tensors"))
    else:
        raise SpecError(
            "this ONNX graph has no distill2rules metadata ('scorer' / 'spec').",
            hint="Export the student with distill2rules (to_onnx / `distill2rules export`).",
        )
    for key in ("kind", "classes"):
        if key not in meta:
            raise SpecError(
                f"the graph's 'scorer' metadata lacks {key!r}.",
                hint="Re-export it with `distill2rules export DIR --format onnx`.",
            )
    if "model" not in meta and "model" in props:
        meta["model"] = props["model"]
    return meta


def _check_manifest(art_dir: Path, name: str, data: bytes, *, listed_only: bool = False) -> None:
    """The graph file must match its sha256 in the artifact's manifest (when there is one);
    ``listed_only``: a file the manifest does not list is a bare graph, not an error."""
    manifest = art_dir / "manifest.json"
    if not manifest.is_file():
        return
    try:
        files = json.loads(manifest.read_text(encoding="utf-8")).get("files", {})
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        raise ArtifactError(f"{manifest} is not valid JSON; the artifact is corrupted.") from None
    digest = files.get(name) if isinstance(files, dict) else None
    if digest is None and listed_only:
        return
    if digest is None:
        raise ArtifactError(
            f"{art_dir / name} is not listed in the artifact's manifest; refusing to serve it.",
            hint="Write it with `distill2rules export DIR` (which updates the manifest).",
        )
    if hashlib.sha256(data).hexdigest() != digest:
        raise ArtifactError(
            f"{art_dir / name} does not match its sha256 in the manifest (modified or corrupted).",
            hint="Re-export it, or run `distill2rules verify DIR`.",
        )


def load(path: str | os.PathLike[str], **kw: Any) -> Scorer:
    """Shorthand for :meth:`Scorer.load`."""
    return Scorer.load(path, **kw)


def _rule_support(props: Mapping[str, str], rules: Sequence[Mapping[str, Any]]) -> list[float]:
    """Each rule's training support (ranks the nearest rules of a default-rule decision, as
    ``distill2rules explain`` does): from the spec the graph carries, else 0."""
    try:
        spec_rules = json.loads(props["spec"]).get("rules") or []
    except (KeyError, TypeError, ValueError, AttributeError):
        spec_rules = []
    if len(spec_rules) != len(rules):
        return [0.0] * len(rules)
    return [float(r.get("support") or 0) for r in spec_rules]


def _record_list(records: Any) -> Sequence[Any]:
    """``records`` as a list or tuple; a single record, text or a non-iterable is a
    :class:`RecordError` (not a confusing complaint about its first key or character)."""
    if isinstance(records, (list, tuple)):
        return records
    if isinstance(records, Mapping):
        raise RecordError(
            "score_many takes a list of records, got one record (a mapping); use score() for "
            "a single record, or wrap it in a list."
        )
    if records is None or isinstance(records, (str, bytes, bytearray)):
        raise RecordError(f"score_many takes a list of records, got {type(records).__name__}.")
    try:
        return list(records)
    except TypeError:
        raise RecordError(
            f"score_many takes a list of records, got {type(records).__name__}."
        ) from None


def _whole(top: Any) -> int:
    """``top`` (reasons per record) as an int; anything but a whole number is a ValueError."""
    if isinstance(top, (int, np.integer)) and not isinstance(top, bool):
        return int(top)
    raise SchemaError(f"top must be a whole number (reasons per record), got {top!r}.")


def _iter_records(obj: Any) -> Iterable[Mapping[str, Any]]:  # pragma: no cover - helper for callers
    return obj if isinstance(obj, list) else [obj]
