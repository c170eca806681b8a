"""Parity of an exported ONNX graph with the reference evaluator, on adversarial rows.

:func:`adversarial_inputs` draws rows that hit every boundary a spec has (bin edges, rule
thresholds and clip bounds, each with its float32 neighbours), NaN, ±inf, huge values,
missing / unseen / odd category strings; :func:`check_onnx_parity` runs the graph in
onnxruntime (imported lazily) and compares it with :func:`distill2rules.spec.evaluate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from distill2rules.errors import ArtifactError
from distill2rules.spec import evaluate

_SPECIAL = np.array(
    [
        np.nan,
        np.inf,
        -np.inf,
        0.0,
        -0.0,
        1.0,
        -1.0,
        1e38,
        -1e38,
        3.4028235e38,
        -3.4028235e38,
        1e-45,
        -1e-45,
        1.1754944e-38,
        1e6,
        -1e6,
    ],
    dtype=np.float64,
)
_ODD_STRINGS = ["", "__unseen__", " ", "nan", "None", "é", "x" * 64, "0", "1.0"]


def _spec_thresholds(
    spec: Mapping[str, Any],
) -> tuple[dict[str, list[float]], dict[str, list[str]]]:
    """Every number and category the spec attaches to each feature."""
    nums: dict[str, list[float]] = {}
    cats: dict[str, list[str]] = {}

    def numbers(value: Any) -> list[float]:
        out = []
        for v in value if isinstance(value, (list, tuple)) else [value]:
            try:
                out.append(float(v))
            except (TypeError, ValueError):
                continue
        return out

    def walk(obj: Any) -> None:
        if isinstance(obj, Mapping):
            feature = obj.get("feature")
            if isinstance(feature, str):
                for key in ("edges", "value", "clip", "impute", "mean"):
                    if key in obj:
                        nums.setdefault(feature, []).extend(numbers(obj[key]))
                for key in ("categories", "values"):
                    if key in obj:
                        cats.setdefault(feature, []).extend(str(v) for v in obj[key])
            for v in obj.values():
                walk(v)
        elif isinstance(obj, (list, tuple)):
            for v in obj:
                walk(v)

    walk({k: v for k, v in spec.items() if k in ("terms", "rules", "preprocess")})
    return nums, cats


def _neighbours(values: list[float]) -> np.ndarray:
    """Each value as float32 (nearest, up, down) and one float32 ulp on either side."""
    v = np.asarray([x for x in values if not np.isnan(x)], dtype=np.float64)
    if v.size == 0:
        return np.empty(0, dtype=np.float32)
    with np.errstate(over="ignore"):
        f = v.astype(np.float32)
        up = np.nextafter(f, np.float32(np.inf))
        down = np.nextafter(f, np.float32(-np.inf))
        cands = [
            f,
            up,
            down,
            np.nextafter(up, np.float32(np.inf)),
            np.nextafter(down, np.float32(-np.inf)),
        ]
    return np.concatenate(cands).astype(np.float32)


def adversarial_inputs(
    spec: Mapping[str, Any], n_rows: int = 10_000, *, random_state: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Rows that probe every boundary of ``spec``.

    Parameters
    ----------
    spec : dict
        The student spec.
    n_rows : int, default 10000
        Number of rows.
    random_state : int or None, default 0
        Seed.

    Returns
    -------
    numeric : ndarray of float32, shape (n_rows, d_num)
        Half the cells are taken from the spec's thresholds and their float32 neighbours or
        from NaN, ±inf, ±1e38, ±FLT_MAX, denormals, signed zeros; the rest are random.
    categorical : ndarray of object (str), shape (n_rows, d_cat)
        The spec's categories, ``""`` (missing) and unseen or odd strings.
    """
    rng = np.random.default_rng(random_state)
    nums, cats = _spec_thresholds(spec)
    num_cols = list(spec["inputs"].get("numeric", []))
    cat_cols = list(spec["inputs"].get("categorical", []))
    numeric = np.empty((n_rows, len(num_cols)), dtype=np.float32)
    for j, c in enumerate(num_cols):
        finite = [x for x in nums.get(c, []) if np.isfinite(x) and abs(x) < 1e30]
        lo, hi = (min(finite), max(finite)) if finite else (-3.0, 3.0)
        span = max(hi - lo, 1e-3)
        pool: Any = np.concatenate([_neighbours(nums.get(c, [])), _SPECIAL.astype(np.float32)])
        random_part = rng.uniform(lo - 0.25 * span, hi + 0.25 * span, n_rows).astype(np.float32)
        pick = rng.random(n_rows) < 0.5
        numeric[:, j] = np.where(pick, rng.choice(pool, n_rows), random_part)
        codes = [float(k) for k in (spec.get("special_values") or {}).get(c, {})]
        if codes:  # special values (and their float32 neighbours) on a tenth of the rows
            near = _neighbours(codes)
            hit = rng.random(n_rows) < 0.1
            numeric[hit, j] = rng.choice(
                np.concatenate([np.asarray(codes, np.float32)] * 4 + [near]), int(hit.sum())
            )
    categorical = np.empty((n_rows, len(cat_cols)), dtype=object)
    for j, c in enumerate(cat_cols):
        pool = list(dict.fromkeys(cats.get(c, []) + _ODD_STRINGS))
        categorical[:, j] = np.asarray(pool, dtype=object)[rng.integers(0, len(pool), n_rows)]
    return numeric, categorical


@dataclass
class ParityReport:
    """How far an ONNX graph is from the reference evaluator on some rows."""

    n_rows: int
    max_abs_probability: float
    label_mismatches: int
    max_abs_contribution: float | None = None
    contribution_mismatches: int | None = None
    rule_mismatches: int | None = None
    atol: float = 1e-5

    @property
    def ok(self) -> bool:
        """True when every output agrees within ``atol`` (identical labels / fired rules)."""
        return (
            self.max_abs_probability <= self.atol
            and self.label_mismatches == 0
            and not self.contribution_mismatches
            and not self.rule_mismatches
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def _float_gap(got: np.ndarray, want: np.ndarray) -> tuple[float, int]:
    """Max |got - want| over entries finite in both, and the count of entries that disagree
    (NaN vs not NaN, different infinities, or a finite gap above the tolerance used by caller)."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    both_nan = np.isnan(got) & np.isnan(want)
    same_inf = np.isinf(got) & (got == want)
    finite = np.isfinite(got) & np.isfinite(want)
    gap = np.abs(np.where(finite, got, 0.0) - np.where(finite, want, 0.0))
    bad_special = ~(both_nan | same_inf | finite)
    return (float(gap.max()) if gap.size else 0.0), int(bad_special.sum())


def _as_model(model: Any) -> Any:
    """An ``onnx.ModelProto`` from a model, its bytes or its path."""
    if isinstance(model, (bytes, bytearray)):
        import onnx

        return onnx.load_from_string(bytes(model))
    if not hasattr(model, "SerializeToString"):
        import onnx

        return onnx.load(str(model))
    return model


def _run(ort: Any, model: Any, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every output of ``model`` run on ``feeds`` in onnxruntime (``ort``, CPU), by name."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    sess = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    return dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))


def _contribution_gap(
    spec: Mapping[str, Any],
    got: np.ndarray,
    ref: Mapping[str, np.ndarray],
    atol: float,
    rtol: float,
) -> tuple[float, int]:
    """Largest gap and mismatch count of the graph's contributions against the reference's
    (of the decided class for softmax), rounded to float32 as the graph holds them."""
    contrib = ref["contributions"]
    if spec.get("link") == "softmax":
        contrib = np.take_along_axis(contrib, ref["label"][:, None, None], axis=2)
    with np.errstate(over="ignore"):
        want = contrib[:, :, 0].astype(np.float32).astype(np.float64)
    c_gap, c_bad = _float_gap(got, want)
    finite = np.isfinite(want) & np.isfinite(got)
    diff = np.abs(np.where(finite, got, 0.0) - np.where(finite, want, 0.0))
    over = diff > atol + rtol * np.abs(np.where(finite, want, 0.0))
    return c_gap, c_bad + int(over.sum())


def check_onnx_parity(
    model: Any,
    spec: Mapping[str, Any] | None = None,
    *,
    numeric: Any = None,
    categorical: Any = None,
    n_rows: int = 10_000,
    random_state: int | None = 0,
    atol: float = 1e-5,
    rtol: float = 1e-6,
) -> ParityReport:
    """Run ``model`` in onnxruntime and compare it with :func:`distill2rules.spec.evaluate`.

    Parameters
    ----------
    model : onnx.ModelProto, bytes, str or path-like
        The exported graph.
    spec : dict, optional
        The spec; defaults to the one stored in the model's ``spec`` metadata.
    numeric, categorical : array-like, optional
        Rows to compare on; default :func:`adversarial_inputs` (``n_rows``, ``random_state``).
    atol, rtol : float
        Probabilities must agree within ``atol``; contributions within ``atol + rtol * |ref|``
        of the reference rounded to float32 (which is what a float32 output can hold).

    Returns
    -------
    ParityReport
    """
    import onnxruntime as ort

    from distill2rules.exporters.onnx import _spec_and_mode, onnx_feeds  # lazy: cycle with onnx.py

    model = _as_model(model)
    stored, _ = _spec_and_mode(model)
    spec = stored if spec is None else spec
    if numeric is None and categorical is None:
        numeric, categorical = adversarial_inputs(spec, n_rows, random_state=random_state)
    feeds = onnx_feeds(model, numeric=numeric, categorical=categorical)
    n = next(iter(feeds.values())).shape[0]
    got = _run(ort, model, feeds)
    with np.errstate(all="ignore"):  # adversarial rows make inf * 0 on purpose
        num = numeric if numeric is not None else np.empty((n, 0))
        cat = categorical if categorical is not None else np.empty((n, 0))
        ref = evaluate(
            spec, numeric=np.asarray(num, np.float32), categorical=np.asarray(cat, object)
        )
    p_gap, p_bad = _float_gap(got["probabilities"], ref["probabilities"])
    report = ParityReport(
        n_rows=n,
        max_abs_probability=p_gap if not p_bad else float("inf"),
        label_mismatches=int((got["label"] != ref["label"]).sum()),
        atol=atol,
    )
    if "contributions" in got:
        gap, mismatches = _contribution_gap(spec, got["contributions"], ref, atol, rtol)
        report.max_abs_contribution = gap
        report.contribution_mismatches = mismatches
    if "rule" in got:
        report.rule_mismatches = int((got["rule"] != ref["rule"]).sum())
    return report


def assert_onnx_parity(
    model: Any, spec: Mapping[str, Any] | None = None, **kwargs: Any
) -> ParityReport:
    """:func:`check_onnx_parity`, raising :class:`~distill2rules.errors.ArtifactError` if not ok."""
    report = check_onnx_parity(model, spec, **kwargs)
    if not report.ok:
        raise ArtifactError(
            f"the ONNX graph disagrees with the spec on {report.n_rows} rows: {report.to_dict()}.",
            hint="Re-export the student with distill2rules.exporters.to_onnx.",
        )
    return report
