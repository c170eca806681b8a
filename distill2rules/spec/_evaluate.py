"""Reference evaluator of a spec in plain numpy.

This is the semantics every exporter must reproduce (the ONNX graph, reason codes, rule
cards). Students predict through it, so "the Python student" and "the spec" are the same
function by construction.

Numeric inputs are taken as float32 (the ONNX input type) and compared with thresholds in
float64, which is exact for float32 values: ``x >= e`` for a float32 ``x`` is the same as
``x >= round_up_to_float32(e)``, and ``x <= v`` the same as ``x <= round_down_to_float32(v)``.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from distill2rules.errors import SchemaError, SpecError
from distill2rules.spec._special import mask_specials, special_codes, values_mask

MISSING_CATEGORY = ""


# ----------------------------------------------------------------------------- inputs


def to_category_strings(values: Any) -> np.ndarray:
    """Canonical string form of categorical values: missing (None/NaN/NA) becomes ``""``.

    Integers stay integers (``3`` -> ``"3"``), integral floats lose their ``.0`` so a column
    read as float because of missing values still matches (``3.0`` -> ``"3"``).
    """
    import pandas as pd

    arr = np.asarray(values, dtype=object).ravel()
    out = np.empty(arr.shape[0], dtype=object)
    for i, v in enumerate(arr):
        if v is None:
            out[i] = MISSING_CATEGORY
        elif isinstance(v, (float, np.floating)):
            if np.isnan(v):
                out[i] = MISSING_CATEGORY
            elif float(v).is_integer():
                out[i] = str(int(v))
            else:
                out[i] = repr(float(v))
        elif isinstance(v, (bool, np.bool_)):
            out[i] = str(bool(v))
        elif isinstance(v, (int, np.integer)):
            out[i] = str(int(v))
        elif v is pd.NA or v is pd.NaT:
            out[i] = MISSING_CATEGORY
        else:
            out[i] = str(v).strip()
    return out


def to_numeric_float32(values: Any, column: str) -> np.ndarray:
    """Numeric column as float32; missing becomes NaN; non-numbers raise a clear error."""
    import pandas as pd

    if isinstance(values, pd.Series) and pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        # fast path (a served row is usually already numeric): no per-value parsing
        out = values.to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(over="ignore"):
            return out.astype(np.float32)
    s = pd.Series(np.asarray(values, dtype=object).ravel() if not isinstance(values, pd.Series) else values)
    if s.dtype == bool or str(s.dtype) == "boolean":
        s = s.astype("float64")
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & ~s.isna()
    if bad.any():
        # values such as "?" or "NA" strings count as missing; anything else is an error
        raw = s[bad].astype(str).str.strip()
        markers = {"", "?", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "-", "."}
        really_bad = raw[~raw.isin(markers)]
        if len(really_bad):
            example = really_bad.iloc[0]
            raise SchemaError(
                f"column '{column}' should be numeric but holds {example!r}.",
                hint="Fix the value, or declare the column categorical in the schema JSON.",
            )
    out = num.to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(over="ignore"):
        return out.astype(np.float32)


def prepare_inputs(spec: Mapping[str, Any], X: Any) -> tuple[np.ndarray, np.ndarray]:
    """Turn raw rows (DataFrame or mapping of columns) into the two ONNX input tensors.

    Returns ``numeric`` float32 ``[n, d_num]`` and ``categorical`` object (str) ``[n, d_cat]``
    in the column order of ``spec["inputs"]``. Extra columns are ignored; missing ones raise.
    """
    import pandas as pd

    if isinstance(X, Mapping) and not isinstance(X, pd.DataFrame):
        X = pd.DataFrame(X)
    if not isinstance(X, pd.DataFrame):
        raise SchemaError(f"expected a pandas DataFrame of raw columns, got {type(X).__name__}.")
    num_cols = list(spec["inputs"].get("numeric", []))
    cat_cols = list(spec["inputs"].get("categorical", []))
    missing = [c for c in num_cols + cat_cols if c not in X.columns]
    if missing:
        raise SchemaError(
            f"the data lacks column(s) the student needs: {', '.join(map(str, missing[:5]))}.",
            hint="Pass rows with the same columns as the training data.",
        )
    n = len(X)
    num = np.empty((n, len(num_cols)), dtype=np.float32)
    if num_cols:
        block = X[num_cols]
        if all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in block.dtypes):
            # one conversion for the whole block (the common case when serving rows)
            with np.errstate(over="ignore"):
                num[:] = block.to_numpy(dtype="float64", na_value=np.nan)
        else:
            for j, c in enumerate(num_cols):
                num[:, j] = to_numeric_float32(block.iloc[:, j], c)
    cat = np.empty((n, len(cat_cols)), dtype=object)
    if cat_cols:
        raw = X[cat_cols].to_numpy(dtype=object)
        for j in range(len(cat_cols)):
            cat[:, j] = to_category_strings(raw[:, j])
    return num, cat


# ----------------------------------------------------------------------------- links


def link_probabilities(scores: np.ndarray, link: str) -> np.ndarray:
    """Scores ``[n, K']`` -> probabilities ``[n, K]`` (logistic: K' = 1, K = 2)."""
    scores = np.asarray(scores, dtype=np.float64)
    if link == "logistic":
        s = scores[:, 0]
        p1 = np.empty_like(s)
        pos = s >= 0
        p1[pos] = 1.0 / (1.0 + np.exp(-s[pos]))
        e = np.exp(s[~pos])
        p1[~pos] = e / (1.0 + e)
        return np.column_stack([1.0 - p1, p1])
    if link == "softmax":
        z = scores - scores.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)
    raise SpecError(f"unknown link '{link}'; expected 'logistic' or 'softmax'.")


# ----------------------------------------------------------------------------- additive


def _column_lookup(spec: Mapping[str, Any]) -> dict[str, tuple[str, int]]:
    lookup: dict[str, tuple[str, int]] = {}
    for j, c in enumerate(spec["inputs"].get("numeric", [])):
        lookup[c] = ("numeric", j)
    for j, c in enumerate(spec["inputs"].get("categorical", [])):
        lookup[c] = ("categorical", j)
    return lookup


def axis_index(axis: Mapping[str, Any], num: np.ndarray, cat: np.ndarray, lookup: Mapping[str, tuple[str, int]]) -> np.ndarray:
    """Bin index of every row along one table axis (see ``docs/spec.md``).

    numeric: 0 = missing (NaN); otherwise ``1 + #edges <= x`` (so -inf -> 1, +inf -> m + 1).
    categorical: 0 = missing (``""``); ``1..n`` = the listed categories; ``n + 1`` = unseen.
    """
    kind, j = lookup[axis["feature"]]
    if axis["kind"] == "numeric":
        if kind != "numeric":
            raise SpecError(f"axis on '{axis['feature']}' is numeric but the input is categorical.")
        x = num[:, j].astype(np.float64)
        edges = np.asarray(axis["edges"], dtype=np.float64)
        idx = 1 + np.searchsorted(edges, x, side="right")
        idx[np.isnan(x)] = 0
        return idx.astype(np.int64)
    if axis["kind"] == "categorical":
        if kind != "categorical":
            raise SpecError(f"axis on '{axis['feature']}' is categorical but the input is numeric.")
        cats = list(axis["categories"])
        pos = {c: i + 1 for i, c in enumerate(cats)}
        unseen = len(cats) + 1
        col = cat[:, j]
        return np.fromiter(
            (0 if v == MISSING_CATEGORY else pos.get(v, unseen) for v in col), dtype=np.int64, count=len(col)
        )
    raise SpecError(f"unknown axis kind '{axis['kind']}'.")


def additive_contributions(spec: Mapping[str, Any], num: np.ndarray, cat: np.ndarray) -> np.ndarray:
    """Per-term contributions ``[n, n_terms, K']`` of an additive spec (special values: see
    :mod:`distill2rules.spec._special`)."""
    lookup = _column_lookup(spec)
    num, codes = mask_specials(spec, num)
    k = len(spec["intercept"])
    n = num.shape[0] if num.size or num.shape[0] else cat.shape[0]
    terms = spec["terms"]
    out = np.zeros((n, len(terms), k), dtype=np.float64)
    for t, term in enumerate(terms):
        if term["type"] == "linear":
            kind, j = lookup[term["feature"]]
            x = num[:, j].astype(np.float64)
            lo, hi = term.get("clip", [-np.inf, np.inf])
            lo = -np.inf if lo is None else lo
            hi = np.inf if hi is None else hi
            x = np.where(np.isnan(x), term.get("impute", 0.0), x)
            x = np.clip(x, lo, hi)
            out[:, t, :] = x[:, None] * np.asarray(term["coef"], dtype=np.float64)[None, :]
        elif term["type"] == "table":
            scores = np.asarray(term["scores"], dtype=np.float64)
            idx = tuple(axis_index(ax, num, cat, lookup) for ax in term["axes"])
            out[:, t, :] = scores[idx]
        else:
            raise SpecError(f"unknown additive term type '{term['type']}'.")
        if term.get("special"):
            _special_scores(spec, term, out[:, t, :], codes, lookup)
    return out


def _special_scores(spec: Mapping[str, Any], term: Mapping[str, Any], out: np.ndarray,
                    codes: Mapping[int, np.ndarray], lookup: Mapping[str, tuple[str, int]]) -> None:
    """Rows holding a special value get the term's score for it (in place)."""
    feature = term["feature"] if term["type"] == "linear" else term["axes"][0]["feature"]
    j = lookup[feature][1]
    idx = codes.get(j)
    if idx is None:
        return
    for i, (_, key, _) in enumerate(special_codes(spec, feature)):
        entry = term["special"].get(key)
        if entry is not None:
            out[idx == i] = np.asarray(entry["score"], dtype=np.float64)


# ----------------------------------------------------------------------------- rule lists


def condition_holds(cond: Mapping[str, Any], num: np.ndarray, cat: np.ndarray, lookup: Mapping[str, tuple[str, int]],
                    specials: Sequence[float] = ()) -> np.ndarray:
    """Boolean mask of rows satisfying one condition (missing rows get ``cond["missing"]``).

    ``specials`` are the feature's special values: a comparison holds for them iff they are
    listed in ``cond["special"]`` (see :mod:`distill2rules.spec._special`).
    """
    kind, j = lookup[cond["feature"]]
    op = cond["op"]
    miss_value = bool(cond.get("missing", False))
    if kind == "numeric":
        x = num[:, j].astype(np.float64)
        isnan = np.isnan(x)
        if op in ("is_special", "not_special"):
            inside = values_mask(x, cond.get("values", []))
            return inside if op == "is_special" else ~inside
        if op == "<=":
            res = x <= cond["value"]
        elif op == ">":
            res = x > cond["value"]
        elif op == "is_missing":
            return isnan.copy()
        elif op == "not_missing":
            return ~isnan
        else:
            raise SpecError(f"operator '{op}' does not apply to numeric feature '{cond['feature']}'.")
        res = np.where(isnan, miss_value, res)
        if len(specials):
            res = np.where(values_mask(x, specials), values_mask(x, cond.get("special", [])), res)
        return res
    col = cat[:, j]
    ismiss = np.fromiter((v == MISSING_CATEGORY for v in col), dtype=bool, count=len(col))
    if op in ("in", "not_in"):
        values = set(cond["values"])
        inside = np.fromiter((v in values for v in col), dtype=bool, count=len(col))
        res = inside if op == "in" else ~inside
    elif op == "is_missing":
        return ismiss
    elif op == "not_missing":
        return ~ismiss
    else:
        raise SpecError(f"operator '{op}' does not apply to categorical feature '{cond['feature']}'.")
    return np.where(ismiss, miss_value, res)


def fired_rule(spec: Mapping[str, Any], num: np.ndarray, cat: np.ndarray) -> np.ndarray:
    """Index of the first rule whose conditions all hold; ``len(rules)`` for the default rule."""
    lookup = _column_lookup(spec)
    n = num.shape[0] if num.ndim == 2 and num.shape[1] else cat.shape[0]
    rules = spec["rules"]
    fired = np.full(n, len(rules), dtype=np.int64)
    open_ = np.ones(n, dtype=bool)
    for r, rule in enumerate(rules):
        m = open_.copy()
        for cond in rule["conditions"]:
            m &= condition_holds(cond, num, cat, lookup, [v for v, _, _ in special_codes(spec, cond["feature"])])
        fired[m] = r
        open_ &= ~m
    return fired


# ----------------------------------------------------------------------------- mlp


def mlp_design_matrix(spec: Mapping[str, Any], num: np.ndarray, cat: np.ndarray) -> np.ndarray:
    """The MLP's input vector: standardised numerics, one-hot categoricals, then one 0/1
    input per ``preprocess.special`` entry (special values are missing for the numerics)."""
    lookup = _column_lookup(spec)
    raw = num
    num, _ = mask_specials(spec, num)
    blocks = []
    for p in spec["preprocess"].get("numeric", []):
        _, j = lookup[p["feature"]]
        x = num[:, j].astype(np.float64)
        x = np.where(np.isnan(x), p.get("impute", 0.0), x)
        lo, hi = p.get("clip", [None, None])
        x = np.clip(x, -np.inf if lo is None else lo, np.inf if hi is None else hi)
        blocks.append(((x - p["mean"]) / p["scale"])[:, None])
    for p in spec["preprocess"].get("categorical", []):
        _, j = lookup[p["feature"]]
        col = cat[:, j]
        cats = list(p["categories"])
        onehot = np.zeros((len(col), len(cats)), dtype=np.float64)
        pos = {c: i for i, c in enumerate(cats)}
        for i, v in enumerate(col):
            k = pos.get(v)
            if k is not None:
                onehot[i, k] = 1.0
        blocks.append(onehot)
    for p in spec["preprocess"].get("special", []) or []:
        _, j = lookup[p["feature"]]
        blocks.append(values_mask(raw[:, j], [p["value"]]).astype(np.float64)[:, None])
    n = num.shape[0] if num.ndim == 2 else cat.shape[0]
    return np.hstack(blocks) if blocks else np.zeros((n, 0))


def mlp_scores(spec: Mapping[str, Any], num: np.ndarray, cat: np.ndarray) -> np.ndarray:
    h = mlp_design_matrix(spec, num, cat)
    for layer in spec["layers"]:
        W = np.asarray(layer["weight"], dtype=np.float64)
        b = np.asarray(layer["bias"], dtype=np.float64)
        h = h @ W.T + b
        act = layer.get("activation", "identity")
        if act == "relu":
            h = np.maximum(h, 0.0)
        elif act == "tanh":
            h = np.tanh(h)
        elif act != "identity":
            raise SpecError(f"unknown activation '{act}'.")
    return h


# ----------------------------------------------------------------------------- front door


def evaluate(spec: Mapping[str, Any], X: Any = None, *, numeric: np.ndarray | None = None,
             categorical: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Evaluate a spec on raw rows.

    Pass a DataFrame ``X`` or the two prepared tensors. Returns a dict with
    ``probabilities [n, K]`` and ``label [n]`` (class index) for every kind, plus
    ``scores [n, K']`` and ``contributions [n, n_terms, K']`` (additive), ``rule [n]``
    (rule lists), or ``scores`` (mlp).
    """
    if X is not None:
        numeric, categorical = prepare_inputs(spec, X)
    assert numeric is not None and categorical is not None
    numeric = np.asarray(numeric, dtype=np.float32)
    n = numeric.shape[0] if numeric.ndim == 2 and numeric.shape[1] else len(categorical)
    numeric = numeric.reshape(n, -1)
    categorical = np.asarray(categorical, dtype=object).reshape(n, -1)
    kind = spec["kind"]
    out: dict[str, np.ndarray] = {}
    if kind == "additive":
        contrib = additive_contributions(spec, numeric, categorical)
        scores = np.asarray(spec["intercept"], dtype=np.float64)[None, :] + contrib.sum(axis=1)
        out.update(contributions=contrib, scores=scores)
        probs = link_probabilities(scores, spec["link"])
    elif kind == "rule_list":
        fired = fired_rule(spec, numeric, categorical)
        table = np.asarray([r["probabilities"] for r in spec["rules"]] + [spec["default"]["probabilities"]], dtype=np.float64)
        probs = table[fired]
        out["rule"] = fired
    elif kind == "mlp":
        scores = mlp_scores(spec, numeric, categorical)
        out["scores"] = scores
        probs = link_probabilities(scores, spec["link"])
    else:
        raise SpecError(f"unknown spec kind '{kind}'.")
    out["probabilities"] = probs
    out["label"] = decide(spec, probs)
    return out


def decide(spec: Mapping[str, Any], probs: np.ndarray) -> np.ndarray:
    """Class index per row: the first maximum of ``probs``, or, when the spec records a binary
    ``decision_threshold`` ``t``, class 1 iff ``probs[:, 1] > t`` (float64).

    Calibration that shifts log-odds (Platt) records the threshold that keeps the uncalibrated
    student's decisions: it changes the probabilities, never the decisions.
    """
    t = spec.get("decision_threshold")
    if t is None:
        return np.argmax(probs, axis=1).astype(np.int64)
    return (np.asarray(probs, dtype=np.float64)[:, 1] > float(t)).astype(np.int64)


def predict_proba(spec: Mapping[str, Any], X: Any) -> np.ndarray:
    return evaluate(spec, X)["probabilities"]


def term_names(spec: Mapping[str, Any]) -> Sequence[str]:
    return [t["name"] for t in spec.get("terms", [])]
