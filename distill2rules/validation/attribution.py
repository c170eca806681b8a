"""SHAP attributions of teacher and student in the raw feature space, and their alignment.

Which output is explained (the same for teacher and student, so they can be compared):

* two classes: the log-odds of class 1, ``z_1 - z_0``;
* K > 2 classes: the *centred* logit of one class per row, ``z_k - mean_j z_j``, where
  ``k`` is by default the teacher's predicted class. Centring removes the free additive
  constant of a softmax, so a student whose scores are shifted by any per-row amount
  explains identically. For students that output probabilities (rule lists) ``z = log p``
  with ``p`` clipped to ``[1e-6, 1]``.

Attributions of model inputs that belong to one raw column (one-hot blocks, feature groups)
are summed, so both models are explained over the same raw business columns.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from distill2rules._optional import require
from distill2rules.errors import ConfigError, DataError, SchemaError, TeacherError
from distill2rules.spec import (
    AdditiveSpec,
    KindTable,
    MLPSpec,
    RuleListSpec,
    evaluate,
    term_features,
    to_category_strings,
    to_numeric_float32,
    typed,
)
from distill2rules.validation._results import Result, jsonable

__all__ = [
    "Alignment",
    "Attributions",
    "Explainers",
    "alignment",
    "student_attributions",
    "target_output",
    "teacher_attributions",
]

PROBA_CLIP = 1e-6
_TEACHER_METHODS = ("auto", "tree", "deep", "gradient", "permutation")
_STUDENT_METHODS = ("auto", "exact", "permutation")


# ----------------------------------------------------------------------------- result types


@dataclasses.dataclass
class Attributions(Result):
    """SHAP values of one model over raw columns.

    Attributes
    ----------
    values : ndarray, shape (n, d)
        One row per explained row, one column per raw feature (``feature_names``).
    feature_names : list of str
    method : str
        The explainer, e.g. ``"shap.TreeExplainer(tree_path_dependent)"``.
    seconds : float
        Wall time spent explaining.
    output : str
        What was explained (see the module docstring).
    base_values : ndarray, shape (n,)
        Expected output; ``values.sum(1) + base_values`` is the explained output
        (up to the explainer's accuracy).
    class_index : ndarray of int, shape (n,), or None
        The class explained per row (``None`` for binary log-odds).
    """

    values: np.ndarray
    feature_names: list[str]
    method: str
    seconds: float
    output: str
    base_values: np.ndarray | None = None
    class_index: np.ndarray | None = None

    def to_dict(self, include_values: bool = False) -> dict[str, Any]:
        """Summary (method, timing, global importance); per-row values only on request."""
        out: dict[str, Any] = {
            "method": self.method,
            "seconds": self.seconds,
            "output": self.output,
            "n_rows": int(self.values.shape[0]),
            "feature_names": list(self.feature_names),
            "importance": jsonable(self.importance()),
        }
        if include_values:
            out["values"] = jsonable(self.values)
            out["base_values"] = jsonable(self.base_values)
            out["class_index"] = jsonable(self.class_index)
        return out

    def importance(self) -> np.ndarray:
        """Global importance: mean absolute attribution per feature."""
        return np.abs(self.values).mean(axis=0)

    def reindex(self, feature_names: Sequence[str]) -> Attributions:
        """The same attributions over ``feature_names`` (features absent here get 0).

        Raises :class:`SchemaError` if a feature with nonzero attribution would be dropped.
        """
        pos = {f: j for j, f in enumerate(self.feature_names)}
        dropped = [f for f in self.feature_names if f not in set(feature_names)]
        if dropped and np.any(self.values[:, [pos[f] for f in dropped]] != 0):
            raise SchemaError(
                "attributions use feature(s) not in the target list: "
                f"{', '.join(map(str, dropped[:5]))}.",
                hint="Explain both models over the same raw columns.",
            )
        vals = np.zeros((self.values.shape[0], len(feature_names)), dtype=np.float64)
        for j, f in enumerate(feature_names):
            if f in pos:
                vals[:, j] = self.values[:, pos[f]]
        return dataclasses.replace(self, values=vals, feature_names=list(feature_names))


@dataclasses.dataclass
class Alignment(Result):
    """Agreement of two attribution matrices over the same features.

    ``cosine_mean``/``cosine_sd``: per-row cosine of ``phi_T(x)`` and ``phi_S(x)`` (rows where
    either vector is all zero are skipped; ``n_rows_used`` counts the rest).
    ``global_cosine``: cosine of the global importances ``I = mean_rows |phi|``.
    ``mad``: ``mean_j |I_T,j / sum I_T - I_S,j / sum I_S|``.
    ``spearman``: rank correlation of ``I_T`` and ``I_S``.
    ``topk_overlap``: ``|top_k(I_T) ∩ top_k(I_S)| / k``; ``topk_jaccard`` the Jaccard index.
    """

    cosine_mean: float
    cosine_sd: float
    n_rows_used: int
    global_cosine: float
    mad: float
    spearman: float
    top_k: int
    topk_overlap: float
    topk_jaccard: float
    teacher_top: list[str]
    student_top: list[str]
    feature_names: list[str]
    teacher_importance: list[float]
    student_importance: list[float]


def _shap() -> Any:
    """``import shap`` without its import-time plotting warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shap = require("shap", purpose="SHAP alignment")
    return shap


# ----------------------------------------------------------------------------- explained output


def target_output(logits: np.ndarray, class_index: Any = None) -> np.ndarray:
    """The explained scalar per row from logits ``[n, K]`` (see the module docstring).

    ``class_index`` is ignored for two classes; for K > 2 it is an int or one index per row
    (default: the row's argmax).
    """
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim == 1 or z.shape[1] == 1:
        return z.reshape(-1)
    if z.shape[1] == 2:
        return z[:, 1] - z[:, 0]
    idx = _class_index(class_index, z)
    centred = z - z.mean(axis=1, keepdims=True)
    return centred[np.arange(len(z)), idx]


def _class_index(class_index: Any, logits: np.ndarray) -> np.ndarray:
    n, k = logits.shape
    if class_index is None:
        return np.argmax(logits, axis=1).astype(np.int64)
    idx = np.asarray(class_index)
    if idx.ndim == 0:
        idx = np.full(n, int(idx), dtype=np.int64)
    idx = idx.astype(np.int64).ravel()
    if idx.shape[0] != n:
        raise DataError(f"class_index has {idx.shape[0]} entries for {n} rows.")
    if idx.size and (idx.min() < 0 or idx.max() >= k):
        raise DataError(f"class_index must lie in 0..{k - 1}.")
    return idx


def _describe_output(k: int) -> str:
    if k <= 2:
        return "log-odds of class 1"
    return "centred logit z_k - mean_j z_j of the explained class k per row"


def _select(
    values: np.ndarray, base: np.ndarray, k: int, idx: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Pick per-row class from (n, d, K) values and (n, K) base values; centre first."""
    if k <= 2 or values.ndim == 2:
        return values, np.broadcast_to(
            np.asarray(base, dtype=np.float64).reshape(-1), (values.shape[0],)
        ).copy()
    assert idx is not None
    rows = np.arange(values.shape[0])
    v = values - values.mean(axis=2, keepdims=True)
    b = np.asarray(base, dtype=np.float64)
    b = np.broadcast_to(b, (values.shape[0], k))
    b = b - b.mean(axis=1, keepdims=True)
    return v[rows, :, idx], b[rows, idx]


def _sample_rows(X: Any, n_max: int, seed: int) -> Any:
    if len(X) <= n_max:
        return X
    rng = np.random.default_rng(seed)
    take = np.sort(rng.choice(len(X), size=n_max, replace=False))
    return X.iloc[take]


def _check_frame(X: Any, name: str) -> None:
    import pandas as pd

    if not isinstance(X, pd.DataFrame):
        raise DataError(
            f"{name} must be a pandas DataFrame of raw columns, got {type(X).__name__}."
        )
    if len(X) == 0:
        raise DataError(f"{name} has no rows.")


# ----------------------------------------------------------------------------- raw-row codec


class _RawCodec:
    """Encode raw rows as integer codes per column, and back.

    SHAP maskers need numbers without NaN (a masker mixes ``x`` and background rows
    arithmetically, and NaN would leak); the model functions need raw rows. Every column,
    numeric or categorical, is coded as an index into the vocabulary of its distinct values
    in the frames passed in, so every masked sample decodes exactly to real values.
    """

    def __init__(
        self,
        columns: Sequence[str],
        categorical: Sequence[str],
        frames: Sequence[Any],
        canonical: bool,
    ) -> None:
        import pandas as pd

        self.columns = list(columns)
        self.categorical = set(categorical)
        self.canonical = canonical
        self.vocab: dict[str, np.ndarray] = {}
        for c in self.columns:
            if canonical:
                vals = np.concatenate([self._values(f[c], c) for f in frames])
                self.vocab[c] = np.asarray(pd.unique(pd.Series(vals, dtype=vals.dtype)))
            else:  # keep the original values and dtype (an int column decodes to ints)
                self.vocab[c] = np.asarray(
                    pd.unique(pd.concat([f[c] for f in frames], ignore_index=True))
                )

    def _values(self, s: Any, c: str) -> np.ndarray:
        if not self.canonical:
            return np.asarray(s.to_numpy())
        if c in self.categorical:
            return to_category_strings(s.to_numpy(dtype=object))
        return to_numeric_float32(s, c).astype(np.float64)

    def encode(self, X: Any) -> np.ndarray:
        import pandas as pd

        out = np.empty((len(X), len(self.columns)), dtype=np.float64)
        for j, c in enumerate(self.columns):
            codes = pd.Index(self.vocab[c]).get_indexer(self._values(X[c], c))
            if np.any(codes < 0):
                raise DataError(f"column '{c}' holds a value the attribution encoder did not see.")
            out[:, j] = codes
        return out

    def column(self, R: np.ndarray, c: str) -> np.ndarray:
        """Decoded values of column ``c``."""
        return self.vocab[c][self.codes(R, c)]

    def codes(self, R: np.ndarray, c: str) -> np.ndarray:
        return R[:, self.columns.index(c)].astype(np.int64)

    def decode_frame(self, R: np.ndarray) -> Any:
        import pandas as pd

        return pd.DataFrame({c: self.column(R, c) for c in self.columns})


def _permutation_shap(
    f: Callable[[np.ndarray], np.ndarray],
    R_explain: np.ndarray,
    R_background: np.ndarray,
    *,
    n_permutations: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Run ``shap.PermutationExplainer`` with an independent masker; returns values, base values."""
    shap = _shap()

    masker = shap.maskers.Independent(R_background, max_samples=len(R_background))
    explainer = shap.PermutationExplainer(f, masker, seed=seed)
    d = R_explain.shape[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exp = explainer(R_explain, max_evals=n_permutations * (2 * d + 1), silent=True)
    return np.asarray(exp.values, dtype=np.float64), np.asarray(exp.base_values, dtype=np.float64)


# ----------------------------------------------------------------------------- teacher


def _group_matrix(teacher: Any, d_model: int) -> np.ndarray:
    names = list(teacher.feature_names)
    groups: Mapping[str, Sequence[int]] | None = getattr(teacher, "feature_groups", None)
    if not groups:
        if d_model != len(names):
            raise TeacherError(
                f"teacher has {d_model} model inputs but {len(names)} raw features "
                "and no feature_groups.",
                hint="Give the teacher a feature_groups mapping raw column -> model-input indices.",
            )
        return np.eye(d_model)
    M = np.zeros((d_model, len(names)))
    for j, c in enumerate(names):
        for i in groups.get(c, []):
            M[int(i), j] = 1.0
    return M


def _teacher_kind_method(teacher: Any, method: str) -> str:
    if method not in _TEACHER_METHODS:
        raise ConfigError(
            f"unknown attribution method {method!r}; expected one of {', '.join(_TEACHER_METHODS)}."
        )
    if method != "auto":
        return method
    return str(getattr(teacher, "attribution", "permutation"))  # the adapter declares it


def _teacher_tree(
    teacher: Any, X: Any, idx: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, str]:
    shap = _shap()

    Z = np.asarray(teacher.transform(X))
    explainer = shap.TreeExplainer(
        teacher.booster, feature_perturbation="tree_path_dependent", model_output="raw"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vals = explainer.shap_values(Z, check_additivity=False)
    if isinstance(vals, list):
        vals = np.stack(vals, axis=-1)
    vals = np.asarray(vals, dtype=np.float64)
    base = np.asarray(explainer.expected_value, dtype=np.float64)
    if vals.ndim == 3 and vals.shape[2] == 2:  # two-output binary: log-odds of class 1
        vals, base = vals[:, :, 1] - vals[:, :, 0], base[..., 1] - base[..., 0]
    scale = float(getattr(teacher, "raw_scale", 1.0))  # LightGBM sigmoid:k -> logit = k * raw
    vals, base = vals * scale, base * scale
    v, b = _select(vals, base, int(teacher.n_classes), idx)
    return (
        v @ _group_matrix(teacher, Z.shape[1]),
        b,
        "shap.TreeExplainer(tree_path_dependent, raw margin)",
    )


def _torch_head(module: Any, Zb: Any, k: int) -> Any:
    """``module`` followed by a fixed linear map onto the explained outputs."""
    import torch

    with torch.no_grad():
        out_dim = int(module(Zb[:2]).reshape(2, -1).shape[1])
    if k <= 2 and out_dim == 1:
        return module
    if k <= 2 and out_dim == 2:
        weight = torch.tensor([[-1.0, 1.0]])
    elif out_dim == k:
        weight = torch.eye(k) - 1.0 / k
    else:
        raise TeacherError(
            f"torch teacher outputs {out_dim} values per row but the teacher has {k} classes."
        )
    head = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=False)
    with torch.no_grad():
        head.weight.copy_(weight.to(head.weight.dtype))
    head.requires_grad_(False)
    return torch.nn.Sequential(module, head.to(Zb.dtype))


def _deep_values(model: Any, Zb: Any, Z: Any, method: str, ranked: int | None) -> tuple[Any, str]:
    shap = _shap()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "deep":
            try:
                return shap.DeepExplainer(model, Zb).shap_values(
                    Z, ranked_outputs=ranked, check_additivity=False
                ), "deep"
            except Exception:  # noqa: BLE001, S110 - a layer DeepLIFT does not support: fall back to expected gradients
                pass
        return shap.GradientExplainer(model, Zb).shap_values(
            Z, ranked_outputs=ranked, rseed=0
        ), "gradient"


def _as3d(vals: Any) -> np.ndarray:
    v = np.asarray(vals, dtype=np.float64)
    return v[:, :, None] if v.ndim == 2 else v


def _teacher_torch(
    teacher: Any, X: Any, X_bg: Any, idx: np.ndarray | None, method: str, use_ranked: bool
) -> tuple[np.ndarray, np.ndarray, str]:
    import torch

    module = teacher.module
    param = next(module.parameters(), None)
    dtype = param.dtype if param is not None else torch.float32
    Z = torch.as_tensor(np.asarray(teacher.transform(X)), dtype=dtype)
    Zb = torch.as_tensor(np.asarray(teacher.transform(X_bg)), dtype=dtype)
    k = int(teacher.n_classes)
    model = _torch_head(module, Zb, k)
    with torch.no_grad():
        base_all = model(Zb).reshape(Zb.shape[0], -1).double().numpy().mean(axis=0)
    rows = np.arange(Z.shape[0])
    if k <= 2:
        res, used = _deep_values(model, Zb, Z, method, None)
        v, b = _as3d(res)[:, :, 0], np.full(Z.shape[0], base_all[0])
    elif use_ranked:  # explain only the top centred output = the teacher's predicted class
        assert idx is not None
        (res, ranks), used = _deep_values(model, Zb, Z, method, 1)
        v = _as3d(res)[:, :, 0]
        chosen = np.asarray(ranks).reshape(-1).astype(np.int64)
        bad = np.flatnonzero(chosen != idx)  # float ties between the two logit paths
        if bad.size:
            res_bad, _ = _deep_values(model, Zb, Z[bad], used, None)
            v[bad] = _as3d(res_bad)[np.arange(bad.size), :, idx[bad]]
        b = base_all[idx]
    else:
        assert idx is not None
        res, used = _deep_values(model, Zb, Z, method, None)
        v, b = _as3d(res)[rows, :, idx], base_all[idx]
    name = "shap.DeepExplainer" if used == "deep" else "shap.GradientExplainer"
    return v @ _group_matrix(teacher, Z.shape[1]), b, name


def _teacher_permutation(
    teacher: Any, X: Any, X_bg: Any, idx: np.ndarray | None, n_permutations: int, seed: int
) -> tuple[np.ndarray, np.ndarray, str]:
    names = list(teacher.feature_names)
    codec = _RawCodec(names, [], [X, X_bg], canonical=False)
    k = int(teacher.n_classes)

    def f(R: np.ndarray) -> np.ndarray:
        z = np.asarray(teacher.logits(codec.decode_frame(R)), dtype=np.float64)
        if k <= 2:
            return target_output(z)
        return z - z.mean(axis=1, keepdims=True)

    R = codec.encode(X)
    z = np.asarray(teacher.logits(X), dtype=np.float64)
    want = target_output(z) if k <= 2 else z - z.mean(axis=1, keepdims=True)
    if not np.allclose(f(R), want, rtol=1e-6, atol=1e-6):
        raise TeacherError(
            "re-encoded rows do not reproduce the teacher's logits.",
            hint="The teacher must accept the raw columns it lists in feature_names.",
        )
    vals, base = _permutation_shap(
        f, R, codec.encode(X_bg), n_permutations=n_permutations, seed=seed
    )
    v, b = _select(vals, base, k, idx)
    return v, b, f"shap.PermutationExplainer(raw rows, {n_permutations} permutations)"


def teacher_attributions(
    teacher: Any,
    X_explain: Any,
    X_background: Any,
    *,
    class_index: Any = None,
    method: str = "auto",
    max_background: int = 100,
    n_permutations: int = 5,
    seed: int = 0,
) -> Attributions:
    """SHAP values of a teacher over its raw columns.

    Parameters
    ----------
    teacher : Teacher
        Object with ``feature_names``, ``n_classes``, ``logits``, ``transform``,
        ``feature_groups`` and, depending on its kind, ``booster`` or ``module``.
    X_explain : DataFrame
        Rows to explain (raw columns).
    X_background : DataFrame
        Background rows (raw columns); at most ``max_background`` are used (seeded sample).
    class_index : int or array of int, optional
        Class explained per row for K > 2; default the teacher's predicted class.
    method : {"auto", "tree", "deep", "gradient", "permutation"}
        ``auto``: TreeExplainer (tree_path_dependent, raw margin) when the teacher has a
        LightGBM ``booster``; DeepExplainer (GradientExplainer if DeepExplainer fails) when it
        has a torch ``module``; otherwise PermutationExplainer on raw rows.
    max_background : int
        Cap on background rows for the Deep/Gradient/Permutation explainers.
    n_permutations : int
        Antithetic permutations per row for the PermutationExplainer.
    seed : int
        Seed for the background sample and the permutations.

    Returns
    -------
    Attributions
        Over ``teacher.feature_names``.
    """
    _check_frame(X_explain, "X_explain")
    _check_frame(X_background, "X_background")
    chosen = _teacher_kind_method(teacher, method)
    k = int(teacher.n_classes)
    start = time.perf_counter()
    idx: np.ndarray | None = None
    use_ranked = False
    if k > 2:
        logits = np.asarray(teacher.logits(X_explain), dtype=np.float64)
        idx = _class_index(class_index, logits)
        use_ranked = bool(np.array_equal(idx, np.argmax(logits, axis=1)))
    X_bg = _sample_rows(X_background, max_background, seed)
    if chosen == "tree":
        if getattr(teacher, "booster", None) is None:
            raise ConfigError("method='tree' needs a LightGBM teacher (with a booster).")
        v, b, name = _teacher_tree(teacher, X_explain, idx)
    elif chosen in ("deep", "gradient"):
        if getattr(teacher, "module", None) is None:
            raise ConfigError(f"method={chosen!r} needs a torch teacher (with a module).")
        v, b, name = _teacher_torch(teacher, X_explain, X_bg, idx, chosen, use_ranked)
    else:
        v, b, name = _teacher_permutation(teacher, X_explain, X_bg, idx, n_permutations, seed)
    return Attributions(
        values=np.asarray(v, dtype=np.float64),
        feature_names=list(teacher.feature_names),
        method=name,
        seconds=time.perf_counter() - start,
        output=_describe_output(k),
        base_values=np.asarray(b, dtype=np.float64),
        class_index=idx,
    )


# ----------------------------------------------------------------------------- student


def _spec_columns(spec: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    return typed(spec).input_columns()


def _scores(spec: Mapping[str, Any], out: Mapping[str, np.ndarray]) -> np.ndarray:
    return np.asarray(out["scores"], dtype=np.float64)


def _log_probabilities(spec: Mapping[str, Any], out: Mapping[str, np.ndarray]) -> np.ndarray:
    logp = np.log(np.clip(out["probabilities"], PROBA_CLIP, 1.0))
    return logp[:, 1:2] - logp[:, 0:1] if logp.shape[1] == 2 else logp


def _student_exact(
    spec: Mapping[str, Any], X: Any, X_bg: Any, features: list[str], idx: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    contrib = evaluate(spec, X)["contributions"]
    ev_bg = evaluate(spec, X_bg)
    mean_bg = ev_bg["contributions"].mean(axis=0)  # (T, K')
    phi = contrib - mean_bg[None]
    base_scores = np.asarray(spec["intercept"], dtype=np.float64) + mean_bg.sum(axis=0)  # (K',)
    if phi.shape[2] == 1:
        phi_t = phi[:, :, 0]
        base = np.full(len(phi_t), base_scores[0])
    else:
        assert idx is not None
        rows = np.arange(phi.shape[0])
        phi_t = (phi - phi.mean(axis=2, keepdims=True))[rows, :, idx]
        base = (base_scores - base_scores.mean())[idx]
    pos = {f: j for j, f in enumerate(features)}
    W = np.zeros((len(spec["terms"]), len(features)))
    for t, term in enumerate(spec["terms"]):
        feats = term_features(term)
        for f in feats:
            W[t, pos[f]] += 1.0 / len(feats)
    return phi_t @ W, base


@dataclasses.dataclass(frozen=True)
class _KindAttribution:
    """How attributions treat one spec kind: the outputs explained (``[n, K']`` logits, or
    log-probabilities for rule lists) and, if the kind has them, exact interventional values."""

    outputs: Callable[[Mapping[str, Any], Mapping[str, np.ndarray]], np.ndarray]
    exact: Callable[..., tuple[np.ndarray, np.ndarray]] | None = None
    exact_name: str = ""


_KINDS: KindTable[_KindAttribution] = KindTable("attribution")
_KINDS.add(
    AdditiveSpec, _KindAttribution(_scores, _student_exact, "exact additive (interventional)")
)
_KINDS.add(RuleListSpec, _KindAttribution(_log_probabilities))
_KINDS.add(MLPSpec, _KindAttribution(_scores))


def _spec_outputs(spec: Mapping[str, Any], out: Mapping[str, np.ndarray]) -> np.ndarray:
    """Model outputs ``[n, K']`` to explain: logits, or log-probabilities for rule lists."""
    return _KINDS.of(spec).outputs(spec, out)


def _student_permutation(
    spec: Mapping[str, Any],
    X: Any,
    X_bg: Any,
    idx: np.ndarray | None,
    n_permutations: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, list[str], str]:
    num_cols, cat_cols = _spec_columns(spec)
    cols = num_cols + cat_cols
    codec = _RawCodec(cols, cat_cols, [X, X_bg], canonical=True)
    R, R_bg = codec.encode(X), codec.encode(X_bg)

    def slow(Rm: np.ndarray) -> np.ndarray:
        num = np.empty((len(Rm), len(num_cols)), dtype=np.float32)
        for j, c in enumerate(num_cols):
            num[:, j] = codec.column(Rm, c)
        cat = np.empty((len(Rm), len(cat_cols)), dtype=object)
        for j, c in enumerate(cat_cols):
            cat[:, j] = codec.column(Rm, c)
        return _spec_outputs(spec, evaluate(spec, numeric=num, categorical=cat))

    raw_fn = slow
    typed_spec = typed(spec)

    def fast(Rm: np.ndarray) -> np.ndarray:  # the kind's vectorised evaluation on codes
        return _spec_outputs(spec, typed_spec.evaluate_codes(Rm, codec.vocab))

    probe = np.vstack([R, R_bg])
    if np.allclose(fast(probe), slow(probe), rtol=1e-9, atol=1e-9):
        raw_fn = fast
    reference = _spec_outputs(spec, evaluate(spec, X))
    if not np.allclose(raw_fn(R), reference, rtol=1e-6, atol=1e-6):
        raise SchemaError(
            "encoded rows do not reproduce the student's outputs.",
            hint="Check that the explained rows use the student's raw columns.",
        )
    k = reference.shape[1]

    def f(Rm: np.ndarray) -> np.ndarray:
        z = raw_fn(Rm)
        return z[:, 0] if k == 1 else z - z.mean(axis=1, keepdims=True)

    vals, base = _permutation_shap(f, R, R_bg, n_permutations=n_permutations, seed=seed)
    v, b = _select(vals, base, len(spec["classes"]) if k > 1 else 2, idx)
    return v, b, cols, f"shap.PermutationExplainer(raw rows, {n_permutations} permutations)"


def _student_kind(spec: Mapping[str, Any], method: str) -> _KindAttribution:
    """The spec kind's attribution entry, after checking ``method`` applies to it."""
    if method not in _STUDENT_METHODS:
        raise ConfigError(
            f"unknown attribution method {method!r}; expected one of {', '.join(_STUDENT_METHODS)}."
        )
    kind = _KINDS.of(spec)
    if method == "exact" and kind.exact is None:
        raise ConfigError(
            f"exact attributions need an additive spec, got kind '{spec['kind']}'.",
            hint="Use method='permutation' (or 'auto').",
        )
    return kind


def student_attributions(
    spec: Mapping[str, Any],
    X_explain: Any,
    X_background: Any,
    *,
    class_index: Any = None,
    method: str = "auto",
    feature_names: Sequence[str] | None = None,
    max_background: int = 100,
    n_permutations: int = 5,
    seed: int = 0,
) -> Attributions:
    """SHAP values of a student spec over its raw input columns.

    Parameters
    ----------
    spec : dict
        A student spec (``docs/spec.md``).
    X_explain, X_background : DataFrame
        Rows to explain and background rows (raw columns).
    class_index : int or array of int, optional
        Class explained per row for K > 2 (pass the teacher's predicted classes to compare
        with the teacher); default the student's own predicted class.
    method : {"auto", "exact", "permutation"}
        ``auto``: exact interventional contributions for additive specs (each term's
        contribution minus its mean over all background rows; a pair term is split half and
        half between its two features), ``shap.PermutationExplainer`` (independent masker,
        categoricals as integer codes) for rule lists and MLPs.
    feature_names : sequence of str, optional
        Report over these columns (features the student ignores get 0); default the spec's
        inputs, numeric then categorical.
    max_background : int
        Cap on background rows for the PermutationExplainer.
    n_permutations : int
        Antithetic permutations per row for the PermutationExplainer.
    seed : int
        Seed for the background sample and the permutations.

    Returns
    -------
    Attributions
    """
    _check_frame(X_explain, "X_explain")
    _check_frame(X_background, "X_background")
    kind = _student_kind(spec, method)
    start = time.perf_counter()
    k = len(spec["classes"])
    idx: np.ndarray | None = None
    if k > 2:
        idx = _class_index(class_index, _spec_outputs(spec, evaluate(spec, X_explain)))
    num_cols, cat_cols = _spec_columns(spec)
    features = num_cols + cat_cols
    if kind.exact is not None and method in ("auto", "exact"):
        v, b = kind.exact(spec, X_explain, X_background, features, idx)
        name = kind.exact_name
    else:
        X_bg = _sample_rows(X_background, max_background, seed)
        v, b, features, name = _student_permutation(
            spec, X_explain, X_bg, idx, n_permutations, seed
        )
    att = Attributions(
        values=v,
        feature_names=features,
        method=name,
        seconds=0.0,
        output=_describe_output(k),
        base_values=b,
        class_index=idx,
    )
    if feature_names is not None:
        att = att.reindex(feature_names)
    att.seconds = time.perf_counter() - start
    return att


# ----------------------------------------------------------------------------- alignment


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return float("nan")
    return float(a @ b / (na * nb))


def _as_matrix(phi: Any) -> tuple[np.ndarray, list[str] | None]:
    if isinstance(phi, Attributions):
        return phi.values, list(phi.feature_names)
    arr = np.asarray(phi, dtype=np.float64)
    if arr.ndim != 2:
        raise DataError(f"attributions must be a matrix [n, d], got shape {arr.shape}.")
    return arr, None


def alignment(
    phi_teacher: Any,
    phi_student: Any,
    *,
    top_k: int = 5,
    feature_names: Sequence[str] | None = None,
) -> Alignment:
    """Compare teacher and student attributions (see :class:`Alignment` for definitions).

    Parameters
    ----------
    phi_teacher, phi_student : Attributions or array, shape (n, d)
        Attributions of the same rows. Two :class:`Attributions` are matched by feature name
        (the teacher's order; features the student lacks count as 0).
    top_k : int
        Size of the top-feature sets (capped at d).
    feature_names : sequence of str, optional
        Names for plain arrays.

    Returns
    -------
    Alignment
    """
    from scipy.stats import spearmanr

    if isinstance(phi_teacher, Attributions) and isinstance(phi_student, Attributions):
        phi_student = phi_student.reindex(phi_teacher.feature_names)
    T, names_t = _as_matrix(phi_teacher)
    S, names_s = _as_matrix(phi_student)
    if T.shape != S.shape:
        raise DataError(f"teacher attributions have shape {T.shape} but student ones {S.shape}.")
    if top_k < 1:
        raise ConfigError(f"top_k must be >= 1, got {top_k}.")
    d = T.shape[1]
    names = list(feature_names or names_t or names_s or [f"x{j}" for j in range(d)])
    nt, ns = np.linalg.norm(T, axis=1), np.linalg.norm(S, axis=1)
    ok = (nt > 0) & (ns > 0)
    cos = np.sum(T[ok] * S[ok], axis=1) / (nt[ok] * ns[ok])
    It, Is = np.abs(T).mean(axis=0), np.abs(S).mean(axis=0)
    st, ss = It.sum(), Is.sum()
    mad = float(np.mean(np.abs(It / st - Is / ss))) if st > 0 and ss > 0 else float("nan")
    if np.ptp(It) > 0 and np.ptp(Is) > 0:
        rho = float(spearmanr(It, Is).statistic)
    else:
        rho = float("nan")
    k = min(top_k, d)
    top_t = list(np.argsort(-It, kind="stable")[:k])
    top_s = list(np.argsort(-Is, kind="stable")[:k])
    inter = len(set(top_t) & set(top_s))
    return Alignment(
        cosine_mean=float(cos.mean()) if cos.size else float("nan"),
        cosine_sd=float(cos.std(ddof=1)) if cos.size > 1 else float("nan"),
        n_rows_used=int(ok.sum()),
        global_cosine=_cosine(It, Is),
        mad=mad,
        spearman=rho,
        top_k=k,
        topk_overlap=inter / k,
        topk_jaccard=inter / len(set(top_t) | set(top_s)),
        teacher_top=[names[j] for j in top_t],
        student_top=[names[j] for j in top_s],
        feature_names=names,
        teacher_importance=[float(x) for x in It],
        student_importance=[float(x) for x in Is],
    )


@dataclasses.dataclass
class Explainers:
    """Teacher and student SHAP values with one background, permutation count and seed
    (what the validation suite and ``experiments.runs.compare_students`` share)."""

    teacher: Any
    spec: Any  # the student spec (unused by ``teacher_phi``)
    X_background: Any
    n_permutations: int
    seed: int
    max_background: int = 100

    def teacher_phi(self, X: Any, cls: Any) -> Attributions:
        return teacher_attributions(
            self.teacher,
            X,
            self.X_background,
            class_index=cls,
            max_background=self.max_background,
            n_permutations=self.n_permutations,
            seed=self.seed,
        )

    def student_phi(self, X: Any, cls: Any, names: Sequence[str]) -> Attributions:
        return student_attributions(
            self.spec,
            X,
            self.X_background,
            class_index=cls,
            feature_names=names,
            max_background=self.max_background,
            n_permutations=self.n_permutations,
            seed=self.seed,
        )

    def attribution_fns(
        self, cls: Any, names: Sequence[str]
    ) -> dict[str, Callable[[Any], np.ndarray]]:
        """``teacher`` / ``student``: rows -> SHAP values (what the stability index perturbs)."""
        return {
            "teacher": lambda X: self.teacher_phi(X, cls).values,
            "student": lambda X: self.student_phi(X, cls, names).values,
        }
