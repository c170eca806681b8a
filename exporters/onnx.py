"""Export a student spec to an ONNX graph (numpy + onnx only).

The graph reproduces :func:`distill2rules.spec.evaluate` exactly: same bins, same missing
and unseen handling, float64 score arithmetic, float32 outputs. See ``docs/onnx.md`` for the
contract (inputs, outputs, metadata).

Examples
--------
>>> from distill2rules.exporters.onnx import to_onnx, onnx_feeds   # doctest: +SKIP
>>> model = to_onnx(spec)                                           # doctest: +SKIP
>>> import onnxruntime as ort                                       # doctest: +SKIP
>>> sess = ort.InferenceSession(model.SerializeToString())          # doctest: +SKIP
>>> proba, label, contrib = sess.run(None, onnx_feeds(model, df))   # doctest: +SKIP
"""

# This module is ``distill2rules.exporters.onnx``; absolute imports keep ``import onnx`` on
# the real package. ``onnx`` itself is imported lazily so ``import distill2rules.exporters``
# stays fast.
from __future__ import annotations

import dataclasses
import functools
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from distill2rules import __version__
from distill2rules.errors import ConfigError, SchemaError, SpecError
from distill2rules.exporters._onnx_check import (
    ParityReport,
    adversarial_inputs,
    assert_onnx_parity,
    check_onnx_parity,
)
from distill2rules.exporters._scorer_meta import METADATA_KEY, column_categories, scorer_metadata
from distill2rules.spec import (
    AdditiveSpec,
    KindTable,
    MLPSpec,
    RuleListSpec,
    from_json,
    jsonable,
    prepare_inputs,
    to_json,
    validate,
)

if TYPE_CHECKING:  # pragma: no cover
    import onnx as onnx_pkg

__all__ = [
    "INPUT_MODES",
    "IR_VERSION",
    "ML_OPSET",
    "OPSETS",
    "ParityReport",
    "adversarial_inputs",
    "as_spec",
    "assert_onnx_parity",
    "check_onnx_parity",
    "onnx_feeds",
    "onnx_files",
    "save_onnx",
    "to_onnx",
]

INPUT_MODES = ("tensors", "columns", "codes")
OPSETS = range(13, 22)  # default-domain opsets this exporter emits valid graphs for
IR_VERSION = 10  # onnxruntime 1.31 reads IR <= 13; onnx >= 1.16 makes IR 10 by default
ML_OPSET = 3  # ai.onnx.ml: TreeEnsembleRegressor-3, LabelEncoder-2
OUTPUT_NAMES = ("probabilities", "label", "contributions", "rule")


def _check_columns(spec: Mapping[str, Any], inputs: str) -> tuple[list[str], list[str]]:
    num = [str(c) for c in spec["inputs"].get("numeric", [])]
    cat = [str(c) for c in spec["inputs"].get("categorical", [])]
    names = num + cat
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:
        raise SpecError(f"input column(s) listed twice in the spec: {', '.join(dup)}.")
    if inputs == "columns":
        clash = [c for c in names if c in OUTPUT_NAMES or c == ""]
        if clash:
            raise SpecError(
                f"column name(s) {clash} cannot name an ONNX input next to the outputs.",
                hint="Export with inputs='tensors'.",
            )
    return num, cat


def _wire_inputs(
    g: Any,
    num: list[str],
    cat: list[str],
    inputs: str,
    tables: Mapping[str, list[str]] | None = None,
) -> None:
    """Declare the graph inputs and set ``g.numeric`` / ``g.categorical`` tensors.

    ``inputs="codes"``: ``categorical`` is int64 ``[N, d_cat]`` holding each column's code in
    ``tables[column]`` (see :mod:`._scorer_meta`); builders then read codes, never strings.
    """
    from onnx import helper

    from distill2rules.exporters._onnx_graph import FLOAT, STRING  # lazy: pulls onnx

    has_num = bool(num) or not cat  # an input-less spec still needs a batch dimension
    if inputs == "codes":
        from distill2rules.exporters._onnx_trees import wire_codes  # lazy: pulls onnx

        assert tables is not None, "inputs='codes' needs the category tables"
        if has_num:
            g.inputs.append(helper.make_tensor_value_info("numeric", FLOAT, ["N", len(num)]))
            g.numeric = "numeric"
        if cat:
            wire_codes(g, "categorical", [tables[c] for c in cat])
        return
    if inputs == "tensors":
        if has_num:
            g.inputs.append(helper.make_tensor_value_info("numeric", FLOAT, ["N", len(num)]))
            g.numeric = "numeric"
        if cat:
            g.inputs.append(helper.make_tensor_value_info("categorical", STRING, ["N", len(cat)]))
            g.categorical = "categorical"
        return
    for cols, elem, attr in ((num, FLOAT, "numeric"), (cat, STRING, "categorical")):
        for c in cols:
            g.inputs.append(helper.make_tensor_value_info(c, elem, ["N", 1]))
        if cols:
            setattr(g, attr, g.op("Concat", cols, axis=1))
    if not num and not cat:
        g.inputs.append(helper.make_tensor_value_info("numeric", FLOAT, ["N", 0]))
        g.numeric = "numeric"


def _metadata(
    spec: Mapping[str, Any], num: list[str], cat: list[str], inputs: str
) -> dict[str, str]:
    meta = {
        "producer": json.dumps({"name": "distill2rules", "version": __version__}),
        "format": str(spec.get("format", "")),
        "kind": spec["kind"],
        "model": str(spec.get("model", "")),
        "inputs": inputs,
        "numeric_columns": json.dumps(num),
        "categorical_columns": json.dumps(cat),
        "classes": json.dumps(jsonable(list(spec["classes"]))),
        "spec": to_json(spec),
    }
    if spec.get("special_values"):  # codes that are levels, with their labels (docs/onnx.md)
        meta["special_values"] = json.dumps(spec["special_values"], sort_keys=True)
    meta.update(_kinds().of(spec).metadata(spec))
    meta[METADATA_KEY] = json.dumps(scorer_metadata(spec, inputs), allow_nan=False)
    return meta


def to_onnx(spec: Any, *, inputs: str = "tensors", opset: int = 18) -> onnx_pkg.ModelProto:
    """Build the ONNX graph of a student spec.

    Parameters
    ----------
    spec : dict, fitted student or DistillResult
        A valid ``distill2rules.spec/1`` spec (``additive``, ``rule_list`` or ``mlp``), or an
        object that has one: a fitted student (``to_spec()``) or a ``distill``/``load`` result.
    inputs : {"tensors", "columns", "codes"}, default "tensors"
        ``"tensors"``: inputs ``numeric`` float32 ``[N, d_num]`` and (only when the spec reads
        categorical columns) ``categorical`` string ``[N, d_cat]``; ``numeric`` is omitted when
        the spec has categorical columns only. ``"columns"``: one ``[N, 1]`` input per raw
        column, named as the column. ``"codes"``: as ``"tensors"`` but ``categorical`` is int64
        ``[N, d_cat]``: per column ``0`` = missing, ``i`` = the i-th category of its code
        table (metadata ``"scorer"`` → ``"categories"``), ``n + 1`` = unseen; no string
        reaches the graph.
    opset : int, default 18
        Default-domain opset (13 to 21). ``ai.onnx.ml`` opset 3 is used for trees and label
        encoders; the IR version is 10.

    Returns
    -------
    onnx.ModelProto
        Outputs ``probabilities`` float32 ``[N, K]``, ``label`` int64 ``[N]`` and
        ``contributions`` float32 ``[N, n_terms]`` (additive) or ``rule`` int64 ``[N]``
        (rule list). Metadata: ``numeric_columns``, ``categorical_columns``, ``classes``,
        ``spec``, ``term_names`` / ``rule_names``, ``producer``, ``kind``, ``inputs`` and
        ``scorer`` (one JSON object for :class:`distill2rules.Scorer`: feeds, code tables,
        adverse class, reason references).

    Raises
    ------
    SpecError
        If the spec is malformed or uses something the graph cannot express.
    ConfigError
        If ``inputs`` or ``opset`` is not supported.
    """
    import onnx
    from onnx import helper

    from distill2rules.exporters._onnx_graph import ML_DOMAIN, Graph  # lazy: pulls onnx

    spec = as_spec(spec)
    if inputs not in INPUT_MODES:
        raise ConfigError(f"inputs must be 'tensors', 'columns' or 'codes', got {inputs!r}.")
    if opset not in OPSETS:
        raise ConfigError(f"opset must be in {OPSETS.start}..{OPSETS.stop - 1}, got {opset!r}.")
    validate(spec)
    num, cat = _check_columns(spec, inputs)
    reserved = list(OUTPUT_NAMES) + ["numeric", "categorical"] + num + cat
    g = Graph(reserved)
    _wire_inputs(g, num, cat, inputs, column_categories(spec))
    outputs = _kinds().of(spec).build(g, spec)
    for name, elem, width in outputs:
        shape: list[str | int] = ["N"] if width < 0 else ["N", width]
        g.outputs.append(helper.make_tensor_value_info(name, elem, shape))
    graph = helper.make_graph(
        g.nodes, f"distill2rules_{spec['kind']}", g.inputs, g.outputs, g.initializers
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset), helper.make_opsetid(ML_DOMAIN, ML_OPSET)],
        ir_version=IR_VERSION,
        producer_name="distill2rules",
        producer_version=__version__,
        doc_string=f"distill2rules {spec['kind']} student ({spec.get('model', '?')}); "
        "see docs/onnx.md.",
    )
    helper.set_model_props(model, _metadata(spec, num, cat, inputs))
    onnx.checker.check_model(model, full_check=True)
    return model


def as_spec(obj: Any) -> Mapping[str, Any]:
    """The spec of ``obj``: a spec mapping itself, a fitted student (``to_spec()``) or a result (``.spec``)."""
    if isinstance(obj, Mapping):
        return obj
    if callable(getattr(obj, "to_spec", None)):
        return obj.to_spec()
    if isinstance(getattr(obj, "spec", None), Mapping):
        return obj.spec
    raise SpecError(
        f"to_onnx needs a student spec or a fitted student, got a {type(obj).__name__}.",
        hint="Pass student.spec_, a fitted distill2rules student, or the result of distill().",
    )


def save_onnx(
    spec: Mapping[str, Any],
    path: str | os.PathLike[str],
    *,
    inputs: str = "tensors",
    opset: int = 18,
) -> Path:
    """Build the ONNX graph of ``spec`` and write it to ``path`` atomically.

    Parameters
    ----------
    spec : dict
        The student spec.
    path : str or path-like
        Destination ``.onnx`` file; its directory must exist.
    inputs, opset
        As in :func:`to_onnx`.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    model = to_onnx(spec, inputs=inputs, opset=opset)
    dest = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(model.SerializeToString())
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


#: the artifact file of each ONNX input layout (``inputs=``)
ONNX_FILE_NAMES = {
    "tensors": "student.onnx",
    "columns": "student.columns.onnx",
    "codes": "student.codes.onnx",
}


def onnx_files(spec: Mapping[str, Any], *, inputs: str = "tensors", **_: Any) -> dict[str, bytes]:
    """The ``onnx`` exporter's artifact file: ``{"student.onnx": graph bytes}`` (deterministic
    serialisation; ``student.columns.onnx`` / ``student.codes.onnx`` for the other layouts)."""
    return {
        ONNX_FILE_NAMES[inputs]: to_onnx(spec, inputs=inputs).SerializeToString(deterministic=True)
    }


def onnx_feeds(
    model_or_spec: Any, X: Any = None, *, numeric: Any = None, categorical: Any = None
) -> dict[str, np.ndarray]:
    """The ``InferenceSession.run`` input dict for raw rows.

    Parameters
    ----------
    model_or_spec : onnx.ModelProto, dict, str or path-like
        An exported model (its metadata tells the columns and input mode), a model file, or a
        spec (then the ``"tensors"`` input mode is assumed).
    X : pandas.DataFrame or mapping of columns, optional
        Raw rows; canonicalised like the Python student (``prepare_inputs``).
    numeric, categorical : array-like, optional
        Already prepared tensors (``float32 [N, d_num]`` / ``str [N, d_cat]``) instead of ``X``;
        for an ``inputs="codes"`` graph, strings are turned into codes (integer arrays pass as
        codes).

    Returns
    -------
    dict of str to numpy.ndarray
        Exactly the inputs the graph declares.
    """
    spec, mode = _spec_and_mode(model_or_spec)
    num_cols = list(spec["inputs"].get("numeric", []))
    cat_cols = list(spec["inputs"].get("categorical", []))
    if X is not None:
        numeric, categorical = prepare_inputs(spec, X)
    if numeric is None and categorical is None:
        raise SchemaError("onnx_feeds needs rows: pass X, or the numeric/categorical tensors.")
    n = len(numeric) if numeric is not None else len(categorical)
    num = np.asarray(numeric if numeric is not None else np.empty((n, 0)), dtype=np.float32)
    num = num.reshape(n, -1)
    given_codes = categorical is not None and np.asarray(categorical).dtype.kind in "iu"
    cat: np.ndarray = np.asarray(
        categorical if categorical is not None else np.empty((n, 0)),
        dtype=np.int64 if given_codes else object,
    )
    cat = cat.reshape(n, -1)
    if num.shape[1] != len(num_cols) or cat.shape[1] != len(cat_cols):
        raise SchemaError(
            f"got {num.shape[1]} numeric and {cat.shape[1]} categorical column(s); the model reads "
            f"{len(num_cols)} and {len(cat_cols)}."
        )
    if mode == "codes" and cat_cols and not given_codes:
        tables = column_categories(spec)
        codes = np.empty(cat.shape, dtype=np.int64)
        for j, c in enumerate(cat_cols):
            lookup = {s: i + 1 for i, s in enumerate(tables[c])}
            lookup[""] = 0
            unseen = len(tables[c]) + 1
            codes[:, j] = [lookup.get(v, unseen) for v in cat[:, j]]
        cat = codes
    if mode == "columns":
        feeds: dict[str, np.ndarray] = {c: num[:, [j]] for j, c in enumerate(num_cols)}
        feeds.update({c: cat[:, [j]] for j, c in enumerate(cat_cols)})
        if not num_cols and not cat_cols:
            feeds["numeric"] = num
        return feeds
    feeds = {}
    if num_cols or not cat_cols:
        feeds["numeric"] = num
    if cat_cols:
        feeds["categorical"] = cat
    return feeds


def _spec_and_mode(obj: Any) -> tuple[Mapping[str, Any], str]:
    if isinstance(obj, Mapping):
        return obj, "tensors"
    if isinstance(obj, (str, os.PathLike)):
        import onnx

        obj = onnx.load(os.fspath(obj))
    props = {p.key: p.value for p in getattr(obj, "metadata_props", [])}
    if "spec" not in props:
        raise SpecError(
            "this ONNX model has no distill2rules 'spec' metadata.",
            hint="Export it with distill2rules.exporters.to_onnx.",
        )
    return from_json(props["spec"]), props.get("inputs", "tensors")


# ----------------------------------------------------------------------------- per-kind table


@dataclasses.dataclass(frozen=True)
class _OnnxKind:
    """How one spec kind becomes a graph: its builder (outputs as ``(name, elem type, width)``)
    and the kind's own metadata properties."""

    build: Callable[[Any, Mapping[str, Any]], list[tuple[str, int, int]]]
    metadata: Callable[[Mapping[str, Any]], dict[str, str]]


def _additive_metadata(spec: Mapping[str, Any]) -> dict[str, str]:
    names = [str(t.get("name", f"term_{i}")) for i, t in enumerate(spec.get("terms", []))]
    return {"link": spec["link"], "term_names": json.dumps(names)}


def _rule_list_metadata(spec: Mapping[str, Any]) -> dict[str, str]:
    names = [str(r.get("name", f"R{i + 1}")) for i, r in enumerate(spec.get("rules", []))]
    return {"rule_names": json.dumps(names)}


def _mlp_metadata(spec: Mapping[str, Any]) -> dict[str, str]:
    return {"link": spec["link"]}


@functools.lru_cache(maxsize=1)
def _kinds() -> KindTable[_OnnxKind]:
    """The ONNX exporter's table (built on first use: the builders import ``onnx``)."""
    from distill2rules.exporters._onnx_additive import build_additive  # lazy: pulls onnx
    from distill2rules.exporters._onnx_mlp import build_mlp  # lazy: pulls onnx
    from distill2rules.exporters._onnx_rules import build_rule_list  # lazy: pulls onnx

    table: KindTable[_OnnxKind] = KindTable("ONNX exporter")
    table.add(AdditiveSpec, _OnnxKind(build_additive, _additive_metadata))
    table.add(RuleListSpec, _OnnxKind(build_rule_list, _rule_list_metadata))
    table.add(MLPSpec, _OnnxKind(build_mlp, _mlp_metadata))
    return table
