"""Measure several students against one teacher (sharing the teacher's SHAP), and evaluate an artifact.

:func:`compare_students` is the workhorse of the experiments: the teacher is explained once,
then every student (KD, no-KD, ...) is scored, explained on the same rows and perturbed with
the same noise, so their numbers are directly comparable. It only composes
:mod:`distill2rules.validation` measures.

:func:`evaluate_artifact` is ``distill2rules evaluate DIR``: the full
:func:`~distill2rules.validation.evaluate_student` report for the artifact's student, plus
the no-KD baseline side by side and McNemar's test between the two.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from distill2rules import spec as spec_mod
from distill2rules.artifact import dump_json, load_spec, read_manifest, update_artifact
from distill2rules.data import data_fingerprint, split_digest, split_frame
from distill2rules.errors import ConfigError, DataError, SchemaError
from distill2rules.pipeline import align_teacher_classes, load_inputs
from distill2rules.results import Evaluation, jsonable
from distill2rules.serve import rulecard_files
from distill2rules.spec import evaluate
from distill2rules.teachers import check_features, load_teacher
from distill2rules.validation import (
    Explainers,
    alignment,
    evaluate_student,
    fidelity,
    mcnemar,
    n_parameters,
    predictive_metrics,
    prr,
    stability,
)
from distill2rules.validation.metrics import cutoff_decisions
from distill2rules.validation.suite import stability_columns

__all__ = [
    "HEADLINE_SIGMA",
    "EvalInputs",
    "class_indices",
    "compare_students",
    "eval_inputs_from_run",
    "evaluate_artifact",
    "evaluate_inputs",
    "kd_table",
    "prepare_eval_inputs",
    "sample_rows",
]

#: the noise level quoted in the side-by-side tables (all levels are kept in the JSON)
HEADLINE_SIGMA = 0.05


def sample_rows(n: int, size: int, seed: int) -> np.ndarray:
    """Sorted, seeded row sample (all rows when ``size >= n``) — the rows ``evaluate_student`` explains."""
    if size >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def class_indices(y: Any, classes: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Labels → indices into ``classes`` (matched as text, as the pipeline does)."""
    lookup = {str(c): i for i, c in enumerate(classes)}
    vals = [str(v) for v in pd.Series(y).tolist()]
    unknown = sorted({v for v in vals if v not in lookup})
    if unknown:
        raise SchemaError(
            f"labels {', '.join(unknown[:5])} are not classes of the student ({', '.join(map(str, classes))}).",
            hint="Evaluate on data with the target the student was distilled for.",
        )
    return np.asarray([lookup[v] for v in vals], dtype=np.int64)


def _stability_key(sigma: float) -> str:
    return repr(float(sigma))


def compare_students(
    teacher: Any,
    specs: Mapping[str, Mapping[str, Any]],
    X_test: pd.DataFrame,
    y_idx: Any,
    *,
    X_background: pd.DataFrame,
    shap_rows: int = 500,
    sigmas: Sequence[float] = (0.01, 0.05, 0.1),
    stability_rows: int = 200,
    n_permutations: int = 5,
    max_background: int = 100,
    top_k: int = 5,
    seed: int = 0,
    teacher_stability: bool = True,
) -> dict[str, Any]:
    """Score, explain and perturb several student specs against one teacher on the same rows.

    Long because it documents each of its options; one pass shares the teacher's
    probabilities, SHAP values, explained rows and noise across every student
    (:class:`_Comparison`), and the steps are that class's methods.

    Parameters
    ----------
    teacher : Teacher
        The black box; its class order must be the specs' ``classes`` order.
    specs : mapping name → spec
        Students to compare (e.g. ``{"kd": spec, "no_kd": baseline}``).
    X_test : DataFrame
        Held-out raw rows.
    y_idx : array of int
        True class indices.
    X_background : DataFrame
        SHAP background rows (a sample of the training data).
    shap_rows, stability_rows : int
        Explained rows (seeded sample, as :func:`~distill2rules.validation.evaluate_student`
        draws them) and the first ``stability_rows`` of them for stability (0 skips it).
    sigmas : sequence of float
        Stability noise levels.
    n_permutations, max_background : int
        Permutations per row and background rows of the permutation/Deep explainers.
    teacher_stability : bool
        Also measure the teacher's stability (costly for permutation-explained teachers).

    Returns
    -------
    dict
        ``teacher``: predictive metrics, attribution summary, stability, parameters;
        ``students[name]``: predictive, fidelity, alignment, stability, parameters, PRR;
        ``correct[name]``: per-row correctness (numpy bool array, not JSON);
        ``seconds`` per step and the ``config``.
    """
    y = np.asarray(y_idx).ravel()
    _check_comparable(teacher, specs, X_test, y)
    secs: dict[str, float] = {}
    t0 = time.perf_counter()
    p_t = np.asarray(teacher.predict_proba(X_test), dtype=np.float64)
    # a fit with --cutoff / --approval-rate: the teacher decides at the (first) student's cutoff
    t_lab = cutoff_decisions(next(iter(specs.values())), p_t) if specs else None
    out: dict[str, Any] = {
        "n_test": len(X_test),
        "teacher": {
            "predictive": predictive_metrics(y, p_t, label=t_lab).to_dict(),
            "n_parameters": int(n_parameters(teacher)),
        },
        "students": {},
        "correct": {"teacher": (p_t.argmax(1) if t_lab is None else t_lab) == y},
    }
    rows = sample_rows(len(X_test), shap_rows, seed)
    X_exp = X_test.iloc[rows]
    cls = p_t[rows].argmax(axis=1) if int(teacher.n_classes) > 2 else None
    cmp_ = _Comparison(
        teacher, X_test, X_background, y, p_t, X_exp, cls, n_permutations, max_background, seed
    )
    phi_t = cmp_.teacher_attributions(X_exp, cls)
    out["teacher"]["attributions"] = phi_t.to_dict()
    secs["teacher"] = time.perf_counter() - t0
    n_st = min(stability_rows, len(X_exp)) if sigmas else 0
    if n_st and teacher_stability:
        t0 = time.perf_counter()
        out["teacher"]["stability"] = cmp_.teacher_stability(specs, n_st, sigmas)
        secs["teacher stability"] = time.perf_counter() - t0
    for name, spec in specs.items():
        t0 = time.perf_counter()
        block, lab_s = cmp_.student_block(spec, phi_t, out["teacher"]["n_parameters"], top_k)
        if n_st:
            block["stability"] = cmp_.student_stability(spec, phi_t.feature_names, n_st, sigmas)
        out["students"][name] = block
        out["correct"][name] = lab_s == y
        secs[name] = time.perf_counter() - t0
    out["seconds"] = secs
    out["config"] = {
        "shap_rows": len(rows),
        "stability_rows": n_st,
        "sigmas": [float(s) for s in sigmas],
        "n_permutations": n_permutations,
        "max_background": max_background,
        "top_k": top_k,
        "seed": seed,
    }
    return out


def _check_comparable(
    teacher: Any, specs: Mapping[str, Mapping[str, Any]], X_test: pd.DataFrame, y: np.ndarray
) -> None:
    if len(y) != len(X_test):
        raise DataError(f"y_idx has {len(y)} labels for {len(X_test)} rows.")
    k = int(teacher.n_classes)
    for name, spec in specs.items():
        if len(spec["classes"]) != k:
            raise SchemaError(
                f"student {name!r} has {len(spec['classes'])} classes but the teacher {k}."
            )


@dataclass
class _Comparison:
    """What :func:`compare_students` shares across the teacher and every student."""

    teacher: Any
    X_test: pd.DataFrame
    X_background: pd.DataFrame
    y: np.ndarray
    p_t: np.ndarray  # the teacher's probabilities on X_test
    X_exp: pd.DataFrame  # the explained rows
    cls: np.ndarray | None  # explained class per explained row (multiclass), else None
    n_permutations: int
    max_background: int
    seed: int

    def explainers(self, spec: Mapping[str, Any] | None = None) -> Explainers:
        return Explainers(
            self.teacher,
            spec,
            self.X_background,
            self.n_permutations,
            self.seed,
            max_background=self.max_background,
        )

    def teacher_attributions(self, X: pd.DataFrame, cls: np.ndarray | None) -> Any:
        return self.explainers().teacher_phi(X, cls)

    def student_attributions(
        self,
        spec: Mapping[str, Any],
        X: pd.DataFrame,
        cls: np.ndarray | None,
        names: Sequence[str],
    ) -> Any:
        return self.explainers(spec).student_phi(X, cls, names)

    def _stability_rows(self, n_st: int) -> tuple[pd.DataFrame, np.ndarray | None]:
        return self.X_exp.iloc[:n_st], None if self.cls is None else self.cls[:n_st]

    def teacher_stability(
        self, specs: Mapping[str, Mapping[str, Any]], n_st: int, sigmas: Sequence[float]
    ) -> dict[str, Any]:
        X_st, cls_st = self._stability_rows(n_st)

        def fn_t(X: pd.DataFrame) -> np.ndarray:
            return self.teacher_attributions(X, cls_st).values

        first = next(iter(specs.values())) if specs else None
        cols = stability_columns(self.teacher, first, self.X_test) if first is not None else []
        return stability(fn_t, X_st, cols, sigmas=sigmas, n_rows=n_st, seed=self.seed).to_dict()

    def student_block(
        self, spec: Mapping[str, Any], phi_t: Any, teacher_params: int, top_k: int
    ) -> tuple[dict[str, Any], np.ndarray]:
        """A student's predictive, fidelity, attribution and size block, and its decisions."""
        ev = evaluate(spec, self.X_test)
        p_s, lab_s = ev["probabilities"], ev["label"]  # argmax or the spec's decision_threshold
        phi_s = self.student_attributions(spec, self.X_exp, self.cls, phi_t.feature_names)
        n_s = int(n_parameters(spec))
        t_lab = cutoff_decisions(spec, self.p_t)
        block: dict[str, Any] = {
            "predictive": predictive_metrics(
                self.y, p_s, teacher_proba=self.p_t, label=lab_s, teacher_label=t_lab
            ).to_dict(),
            "fidelity": fidelity(p_s, self.p_t, student_label=lab_s, teacher_label=t_lab).to_dict(),
            "attributions": phi_s.to_dict(),
            "alignment": alignment(phi_t, phi_s, top_k=top_k).to_dict(),
            "n_parameters": n_s,
            "prr": prr(n_s, teacher_params),
        }
        return block, lab_s

    def student_stability(
        self, spec: Mapping[str, Any], names: Sequence[str], n_st: int, sigmas: Sequence[float]
    ) -> dict[str, Any]:
        X_st, cls_st = self._stability_rows(n_st)

        def fn_s(X: pd.DataFrame) -> np.ndarray:
            return self.student_attributions(spec, X, cls_st, names).values

        cols = stability_columns(self.teacher, spec, self.X_test)
        return stability(fn_s, X_st, cols, sigmas=sigmas, n_rows=n_st, seed=self.seed).to_dict()


# ----------------------------------------------------------------------------- evaluate DIR


@dataclass
class EvalInputs:
    """What ``evaluate`` measures on: the rows, their labels, background rows and provenance."""

    teacher: Any
    spec: dict[str, Any]
    baseline: dict[str, Any] | None
    X: pd.DataFrame
    y_idx: np.ndarray
    X_background: pd.DataFrame
    split: str
    data_name: str
    teacher_path: str
    teacher_matches_manifest: bool | None


def _teacher_path(manifest: Mapping[str, Any], teacher: str | Path | None, art_dir: Path) -> Path:
    if teacher is not None:
        return Path(teacher)
    src = (manifest.get("teacher") or {}).get("source")
    if not src:
        raise ConfigError(
            f"the manifest of {art_dir} does not record the teacher's file.",
            hint="Pass --teacher PATH.",
        )
    p = Path(src)
    if not p.exists():
        raise ConfigError(
            f"the teacher recorded in the manifest ({src}) does not exist here.",
            hint="Pass --teacher PATH.",
        )
    return p


def prepare_eval_inputs(
    art_dir: str | Path,
    data: Any,
    *,
    target: str | None = None,
    teacher: str | Path | None = None,
    split: str = "test",
    background_rows: int = 500,
    trust_pickle: bool = False,
) -> EvalInputs:
    """Load the artifact's spec (and baseline), the teacher and the rows to evaluate on.

    ``split="test"`` re-splits the data 70/15/15 with the manifest's seed when ``data`` is the
    table the artifact was fitted on (the manifest's data fingerprint; manifests without one:
    same name and row count) and keeps the test part, checked against the manifest's hash of
    the test rows;
    otherwise (or with ``split="all"``) every row is used. Background rows for SHAP are a
    seeded sample of the train part (or of all rows).
    """

    if split not in ("test", "all"):
        raise ConfigError(f"--split must be 'test' or 'all', got {split!r}.")
    d = Path(art_dir)
    manifest = read_manifest(d)
    spec = load_spec(d)
    baseline = spec_mod.load(d / "baseline.json") if (d / "baseline.json").is_file() else None
    tpath = _teacher_path(manifest, teacher, d)
    teacher_obj = load_teacher(tpath, trust_pickle=trust_pickle)
    fp = (manifest.get("teacher") or {}).get("fingerprint")
    matches = None if fp is None else bool(teacher_obj.fingerprint() == fp)
    mdata = manifest.get("data") or {}
    ds = load_inputs(data, target or mdata.get("target"))
    feats = [c for c in ds.frame.columns if c != ds.target]
    check_features(teacher_obj, feats)
    classes = np.asarray(spec["classes"], dtype=object)
    perm = align_teacher_classes(teacher_obj, classes)
    if not np.array_equal(perm, np.arange(len(classes))):
        raise SchemaError(
            "the teacher orders its classes differently from the student; evaluate cannot align SHAP outputs.",
            hint="Use a teacher whose classes are in sorted order (as `teacher train` writes).",
        )
    same = _same_data(ds, mdata)
    seed = int((manifest.get("config") or {}).get("seed", 0))
    held_out = (manifest.get("config") or {}).get("test_data")
    if split == "test" and same and held_out:
        raise ConfigError(
            f"this artifact was fitted with --test-data {held_out}: {ds.name} holds only its train and "
            "validation rows.",
            hint=f"Pass --data {held_out} (or new rows), or --split all.",
        )
    if split == "test" and same:
        parts = split_frame(ds.frame, ds.target, seed=seed)
        _check_split(parts, ds, mdata, d)
        rows, bg_pool, used = parts.test, parts.train, "test"
    else:
        rows, bg_pool, used = ds.frame, ds.frame, "all"
    bg = bg_pool.iloc[sample_rows(len(bg_pool), background_rows, seed)][feats]
    order = list(teacher_obj.feature_names or feats)
    return EvalInputs(
        teacher=teacher_obj,
        spec=spec,
        baseline=baseline,
        X=rows[order].reset_index(drop=True),
        y_idx=class_indices(rows[ds.target], classes),
        X_background=bg[order].reset_index(drop=True),
        split=used,
        data_name=ds.name,
        teacher_path=str(tpath),
        teacher_matches_manifest=matches,
    )


def _same_data(ds: Any, mdata: Mapping[str, Any]) -> bool:
    """Is ``ds`` the table the artifact was fitted on? By the manifest's fingerprint; manifests
    written before fingerprints were recorded: same name and row count."""

    if mdata.get("fingerprint"):
        return data_fingerprint(ds.frame) == mdata["fingerprint"]
    return ds.name == mdata.get("name") and len(ds.frame) == mdata.get("n_rows")


def _check_split(parts: Any, ds: Any, mdata: Mapping[str, Any], art_dir: Path) -> None:
    """The re-split must give the fit's test rows (the manifest's hash of their positions)."""

    want = ((mdata.get("split") or {}).get("rows_sha256") or {}).get("test")
    if want and split_digest(ds.frame.index.get_indexer(parts.test.index)) != want:
        raise ConfigError(
            f"re-splitting the data does not give the test rows {art_dir} was measured on "
            "(another version of the split?).",
            hint="Pass --split all to evaluate on every row.",
        )


def eval_inputs_from_run(run: Any, *, background_rows: int = 500) -> EvalInputs:
    """What :func:`prepare_eval_inputs` reads from disk, taken from a :class:`~distill2rules.pipeline.DistillRun`
    in memory: its teacher, its test split (``--test-data`` when given) and training rows."""
    fd, t = run.data, run.teacher
    classes = np.asarray(run.spec["classes"], dtype=object)
    if not np.array_equal(t.perm, np.arange(len(classes))):
        raise SchemaError(
            "the teacher orders its classes differently from the student; evaluate cannot align SHAP outputs.",
            hint="Use a teacher whose classes are in sorted order (as `teacher train` writes).",
        )
    bg_pool = fd.splits.train
    bg = bg_pool.iloc[sample_rows(len(bg_pool), background_rows, fd.seed)][fd.features]
    order = list(t.teacher.feature_names or fd.features)
    src = run.config.teacher
    fp = t.info().get("fingerprint")
    return EvalInputs(
        teacher=t.teacher,
        spec=run.spec,
        baseline=run.baseline_spec,
        X=fd.splits.test[order].reset_index(drop=True),
        y_idx=class_indices(fd.splits.test[fd.ds.target], classes),
        X_background=bg[order].reset_index(drop=True),
        split="test",
        data_name=(fd.test_ds or fd.ds).name,
        teacher_path=str(src)
        if isinstance(src, (str, Path))
        else f"in memory ({type(src).__name__})",
        teacher_matches_manifest=None if fp is None else True,
    )


def _side_by_side(full: Mapping[str, Any], base: Mapping[str, Any], sigma: float) -> dict[str, Any]:
    """KD (from evaluate_student's result) vs no-KD (from compare_students) on the headline measures."""
    key = _stability_key(sigma)

    def row(
        acc: Any, fid: Any, cos: Any, gcos: Any, mad: Any, stab: Any, params: Any
    ) -> dict[str, Any]:
        return {
            "accuracy": acc,
            "fidelity": fid,
            "cosine": cos,
            "global_cosine": gcos,
            "mad": mad,
            "stability": stab,
            "n_parameters": params,
        }

    s = full["student"]
    al = full.get("alignment") or {}
    kd = row(
        s["predictive"]["accuracy"],
        full["fidelity"]["agreement"],
        al.get("cosine_mean"),
        al.get("global_cosine"),
        al.get("mad"),
        ((s.get("stability") or {}).get("per_sigma") or {}).get(key, {}).get("mean"),
        s.get("n_parameters"),
    )
    b = base["students"]["baseline"]
    nokd = row(
        b["predictive"]["accuracy"],
        b["fidelity"]["agreement"],
        b["alignment"]["cosine_mean"],
        b["alignment"]["global_cosine"],
        b["alignment"]["mad"],
        ((b.get("stability") or {}).get("per_sigma") or {}).get(key, {}).get("mean"),
        b["n_parameters"],
    )
    return {"sigma": sigma, "kd": kd, "no_kd": nokd}


def evaluate_artifact(
    art_dir: str | Path,
    data: Any,
    *,
    target: str | None = None,
    teacher: str | Path | None = None,
    split: str = "test",
    shap_rows: int = 500,
    sigmas: Sequence[float] = (0.01, 0.05, 0.1),
    latency_calls: int = 1000,
    seed: int = 0,
    save: bool = True,
    progress: bool = True,
    trust_pickle: bool = False,
) -> dict[str, Any]:
    """Every validation measure for an artifact's student, plus the no-KD baseline side by side.

    Parameters
    ----------
    art_dir : path
        Artifact directory written by ``fit``.
    data : str, path or DataFrame
        Rows to evaluate on (registry name or file).
    target : str, optional
        Target column (default: the manifest's).
    teacher : path, optional
        Teacher file (default: the one recorded in the manifest).
    split : {"test", "all"}
        See :func:`prepare_eval_inputs`.
    shap_rows, sigmas, latency_calls, seed
        Passed to :func:`~distill2rules.validation.evaluate_student`.
    save : bool
        Write ``evaluation.json`` into the artifact (atomically, re-hashing the manifest).

    Returns
    -------
    dict
        ``evaluate_student``'s result plus ``data`` (provenance), and when the artifact holds
        ``baseline.json``: ``baseline`` (its measures), ``kd_vs_no_kd`` and ``mcnemar``.
    """
    inp = prepare_eval_inputs(
        art_dir, data, target=target, teacher=teacher, split=split, trust_pickle=trust_pickle
    )
    onnx = Path(art_dir) / "student.onnx"
    result = evaluate_inputs(
        inp,
        onnx_model=onnx if onnx.is_file() else None,
        shap_rows=shap_rows,
        sigmas=sigmas,
        latency_calls=latency_calls,
        seed=seed,
        progress=progress,
    )
    if save:
        files: dict[str, Any] = {"evaluation.json": dump_json(result)}
        if any(
            (Path(art_dir) / n).is_file() for n in ("rulecard.md", "rulecard.html", "rulecard.json")
        ):
            files.update(
                rulecard_files(art_dir, inp.spec, evaluation=result)
            )  # the card shows the new figures
        update_artifact(art_dir, files)
    return result


def evaluate_inputs(
    inp: EvalInputs,
    *,
    onnx_model: Any = None,
    shap_rows: int = 500,
    sigmas: Sequence[float] = (0.01, 0.05, 0.1),
    latency_calls: int = 1000,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, Any]:
    """``evaluation.json``'s content for prepared inputs (from disk or a run in memory):
    :func:`~distill2rules.validation.evaluate_student`, plus the no-KD baseline side by side."""

    result = evaluate_student(
        inp.teacher,
        inp.spec,
        inp.X,
        inp.y_idx,
        X_background=inp.X_background,
        shap_rows=shap_rows,
        sigmas=sigmas,
        seed=seed,
        latency_calls=latency_calls,
        onnx_path=onnx_model,
        progress=progress,
    )
    result["data"] = {
        "name": inp.data_name,
        "split": inp.split,
        "n_rows": len(inp.X),
        "teacher": inp.teacher_path,
        "teacher_matches_manifest": inp.teacher_matches_manifest,
    }
    if inp.baseline is not None:
        base = compare_students(
            inp.teacher,
            {"baseline": inp.baseline},
            inp.X,
            inp.y_idx,
            X_background=inp.X_background,
            shap_rows=shap_rows,
            sigmas=sigmas,
            seed=seed,
            teacher_stability=False,
        )

        correct_s = evaluate(inp.spec, inp.X)["label"] == inp.y_idx
        result["baseline"] = jsonable(base["students"]["baseline"])
        result["kd_vs_no_kd"] = jsonable(_side_by_side(result, base, _headline_sigma(sigmas)))
        result["mcnemar"] = mcnemar(correct_s, base["correct"]["baseline"]).to_dict()
        result["mcnemar"]["a"], result["mcnemar"]["b"] = "student (KD)", "baseline (no KD)"
    ev = Evaluation.from_dict(jsonable(result))
    assert ev is not None
    return ev.to_dict()  # evaluation.json, with its format version


def _headline_sigma(sigmas: Sequence[float]) -> float:
    """σ quoted in the side-by-side table: 0.05 if measured, else the middle level."""
    levels = [float(x) for x in sigmas]
    if not levels or HEADLINE_SIGMA in levels:
        return HEADLINE_SIGMA
    return levels[len(levels) // 2]


def kd_table(result: Mapping[str, Any]) -> Any:
    """A ``rich.table.Table``: KD student vs no-KD baseline (accuracy, fidelity, cosine, stability) + McNemar."""
    from rich.table import Table

    cmp_ = result["kd_vs_no_kd"]
    t = Table(title=f"KD vs no-KD ({result['data']['split']} rows: {result['data']['n_rows']})")
    t.add_column("measure")
    t.add_column("student (KD)", justify="right")
    t.add_column("baseline (no KD)", justify="right")
    labels = (
        ("accuracy", "accuracy"),
        ("fidelity", "fidelity"),
        ("cosine", "SHAP cosine per row (mean)"),
        ("global_cosine", "SHAP cosine of importances"),
        ("mad", "SHAP MAD"),
        ("stability", f"stability σ={cmp_['sigma']:g}"),
        ("n_parameters", "parameters"),
    )
    for key, label in labels:
        t.add_row(label, _fmt(cmp_["kd"].get(key)), _fmt(cmp_["no_kd"].get(key)))
    m = result.get("mcnemar") or {}
    det = m.get("details") or {}
    t.add_section()
    t.add_row("McNemar p (per-row correctness)", _fmt(m.get("p_value")), "")
    t.add_row("rows only KD / only no-KD right", str(det.get("n01", "—")), str(det.get("n10", "—")))
    return t


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4f}"
    return str(v)
