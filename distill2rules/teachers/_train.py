"""Reference teachers: a LightGBM model and a PyTorch MLP trained the paper's way.

``train_teacher("gbt", ...)`` writes ``model.txt`` (+ a sidecar with the class labels and the
original column names); ``train_teacher("mlp", ...)`` writes a state_dict ``.pt``, its sidecar
JSON (architecture, features, classes, preprocessing) and a TorchScript copy
``<stem>.torchscript.pt`` (which reads the same sidecar). Both return the teacher loaded back
from disk, so what you get is exactly what a later ``load_teacher`` gives.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from distill2rules._optional import require
from distill2rules.errors import ConfigError, DataError
from distill2rules.teachers._base import Teacher, _jsonable_list
from distill2rules.teachers._load import load_teacher
from distill2rules.teachers._preprocess import (
    Preprocessing,
    category_strings,
    is_numeric_dtype,
    numeric_column,
)
from distill2rules.teachers._sidecar import write_sidecar
from distill2rules.teachers._torch import build_mlp

__all__ = ["TEACHER_KINDS", "train_teacher"]

TEACHER_KINDS = ("gbt", "mlp")
_DEFAULT_NAMES = {"gbt": "model.txt", "mlp": "mlp.pt"}  # distinct sidecars in one directory


# ----------------------------------------------------------------------------- inputs


def _check_inputs(X: Any, y: Any, what: str = "training") -> tuple[Any, np.ndarray]:
    import pandas as pd

    if not isinstance(X, pd.DataFrame):
        raise DataError(f"{what} features must be a pandas DataFrame, got {type(X).__name__}.")
    y_arr = np.asarray(y.to_numpy() if isinstance(y, pd.Series) else y, dtype=object).ravel()
    if len(y_arr) != len(X):
        raise DataError(
            f"{what} target has {len(y_arr)} values but the features have {len(X)} rows."
        )
    if len(X) == 0 or X.shape[1] == 0:
        raise DataError(f"{what} data is empty ({X.shape[0]} rows, {X.shape[1]} columns).")
    if pd.isna(pd.Series(y_arr)).any():
        raise DataError(f"{what} target has missing values;", hint="drop those rows first.")
    dup = X.columns[X.columns.duplicated()]
    if len(dup):
        raise DataError(f"{what} data has duplicated column names: {', '.join(map(str, dup[:5]))}.")
    return X, y_arr


def _encode_labels(y: np.ndarray) -> tuple[list[Any], np.ndarray]:
    values = [v.item() if isinstance(v, np.generic) else v for v in y]
    try:
        classes = sorted(set(values))
    except TypeError:  # mixed types
        classes = sorted(set(values), key=str)
    if len(classes) < 2:
        raise DataError(
            f"the target has a single class ({classes[0]!r}); a teacher needs at least two."
        )
    index = {c: i for i, c in enumerate(classes)}
    return classes, np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values))


def _codes_for(y: np.ndarray, classes: list[Any]) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    values = [v.item() if isinstance(v, np.generic) else v for v in y]
    unknown = [v for v in values if v not in index]
    if unknown:
        raise DataError(
            f"validation target has class {unknown[0]!r} that the training target lacks."
        )
    return np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values))


def _resolve_out(out: str | Path, kind: str) -> Path:
    p = Path(out)
    if p.is_dir() or p.suffix == "":
        p = p / _DEFAULT_NAMES[kind]
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def _progress(enabled: bool, total: int, label: str) -> Any:
    """A rich progress bar on stderr (a no-op stand-in when disabled)."""
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    prog = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    prog.start()
    prog.add_task(label, total=total, status="")
    return prog


def _advance(prog: Any, status: str = "") -> None:
    if prog is not None:
        prog.update(prog.task_ids[0], advance=1, status=status)


def _stop(prog: Any) -> None:
    if prog is not None:
        prog.stop()


# ----------------------------------------------------------------------------- public


def train_teacher(
    kind: str,
    X: Any,
    y: Any,
    *,
    out: str | Path,
    seed: int = 0,
    X_val: Any = None,
    y_val: Any = None,
    hidden: Sequence[int] = (512, 256, 128, 64, 32),
    n_estimators: int = 200,
    max_epochs: int = 40,
    patience: int = 5,
    batch_size: int = 256,
    learning_rate: float | None = None,
    n_jobs: int | None = None,
    progress: bool = True,
) -> Teacher:
    """Train a reference teacher, save it, and return it loaded back from disk.

    Parameters
    ----------
    kind : {"gbt", "mlp"}
        ``gbt``: LightGBM (``n_estimators`` trees, learning rate 0.05, 31 leaves,
        deterministic, 2 threads; categorical columns as pandas categories; early stopping on
        ``X_val`` if given). ``mlp``: PyTorch MLP with ``hidden`` ReLU layers, Adam, batch 256,
        early stopping on validation log loss (``patience`` epochs), standardised numerics and
        one-hot categoricals.
    X : pandas.DataFrame
        Raw feature columns (no target).
    y : array-like
        Class labels.
    out : str or Path
        Model path (e.g. ``model.txt`` for gbt, ``model.pt`` for mlp). A directory (or a path
        without suffix) gets ``model.txt`` / ``mlp.pt`` inside it, so both kinds can share it.
    seed : int, default 0
        Seeds LightGBM / torch and the MLP's internal validation split.
    X_val, y_val : optional
        Validation rows. Without them, the MLP holds out 15 % of ``X`` (stratified) for early
        stopping and the GBT trains all ``n_estimators`` trees.
    hidden : sequence of int
        MLP hidden widths.
    n_estimators : int, default 200
    max_epochs : int, default 40
    patience : int, default 5
    batch_size : int, default 256
    learning_rate : float, optional
        0.05 for gbt, 1e-3 (Adam) for mlp.
    n_jobs : int, optional
        Threads (default 2, or ``$DISTILL2RULES_N_JOBS``).
        Threads for LightGBM / torch during training (torch's setting is restored after).
    progress : bool, default True
        Show a rich progress bar on stderr.

    Returns
    -------
    Teacher
        ``load_teacher(out)``.
    """

    key = {"lightgbm": "gbt", "gbm": "gbt", "torch": "mlp"}.get(
        str(kind).lower(), str(kind).lower()
    )
    if key not in TEACHER_KINDS:
        raise ConfigError(f"unknown teacher kind {kind!r};", hint="use 'gbt' or 'mlp'.")
    if int(seed) < 0:
        raise ConfigError(f"seed must be >= 0, got {seed}.")
    if (
        n_jobs is None
    ):  # threads for LightGBM/torch; DISTILL2RULES_N_JOBS lets test runners pin it to 1
        import os

        n_jobs = int(os.environ.get("DISTILL2RULES_N_JOBS", "2"))
    if int(n_jobs) < 1:
        raise ConfigError(f"n_jobs must be >= 1, got {n_jobs}.")
    X, y_arr = _check_inputs(X, y)
    classes, codes = _encode_labels(y_arr)
    val = None
    if (X_val is None) != (y_val is None):
        raise DataError("pass both X_val and y_val, or neither.")
    if X_val is not None:
        X_val, yv = _check_inputs(X_val, y_val, "validation")
        missing = [c for c in X.columns if c not in X_val.columns]
        if missing:
            raise DataError(f"validation data lacks columns {', '.join(map(str, missing[:5]))}.")
        val = (X_val.loc[:, list(X.columns)], _codes_for(yv, classes))
    path = _resolve_out(out, key)
    if key == "gbt":
        _train_gbt(
            X,
            codes,
            classes,
            val,
            path,
            seed=int(seed),
            n_estimators=int(n_estimators),
            n_jobs=n_jobs,
            learning_rate=0.05 if learning_rate is None else float(learning_rate),
            progress=progress,
        )
    else:
        if any(int(h) < 1 for h in hidden):
            raise ConfigError(f"hidden layer widths must be >= 1, got {list(hidden)}.")
        if max_epochs < 1 or patience < 1 or batch_size < 1:
            raise ConfigError("max_epochs, patience and batch_size must all be >= 1.")
        _train_mlp(
            X,
            codes,
            classes,
            val,
            path,
            seed=int(seed),
            hidden=[int(h) for h in hidden],
            max_epochs=int(max_epochs),
            patience=int(patience),
            batch_size=int(batch_size),
            learning_rate=1e-3 if learning_rate is None else float(learning_rate),
            n_jobs=n_jobs,
            progress=progress,
        )
    return load_teacher(path)


# ----------------------------------------------------------------------------- gbt


def _lgb_safe_names(columns: Sequence[Any]) -> list[str]:
    """Column names LightGBM accepts (no JSON special characters or spaces), kept unique."""
    out: list[str] = []
    seen: set[str] = set()
    for c in columns:
        base = re.sub(r"[^\w.\-]", "_", str(c)) or "f"
        name, i = base, 1
        while name in seen:
            name, i = f"{base}_{i}", i + 1
        seen.add(name)
        out.append(name)
    return out


def _gbt_frame(X: Any, categories: dict[str, list[str]] | None) -> tuple[Any, dict[str, list[str]]]:
    """Numeric columns as float, the rest as pandas categories over canonical strings."""
    import pandas as pd

    fitting = categories is None
    cats: dict[str, list[str]] = {} if fitting else dict(categories)  # type: ignore[arg-type]
    cols: dict[str, Any] = {}
    for col in X.columns:
        name = str(col)
        numeric = is_numeric_dtype(X[col]) if fitting else name not in cats
        if numeric:
            cols[name] = numeric_column(X[col], name)
            continue
        values = category_strings(X[col])
        if fitting:
            cats[name] = sorted({v for v in values if v != ""})
        values = np.where(values == "", None, values)  # type: ignore[call-overload]  # numpy's stub has no None scalar
        cols[name] = pd.Categorical(values, categories=cats[name])
    return pd.DataFrame(cols, index=X.index), cats


def _train_gbt(
    X: Any,
    codes: np.ndarray,
    classes: list[Any],
    val: Any,
    path: Path,
    *,
    seed: int,
    n_estimators: int,
    learning_rate: float,
    n_jobs: int,
    progress: bool,
) -> None:
    lgb = require("lightgbm", purpose="training a LightGBM teacher")

    frame, cats = _gbt_frame(X, None)
    names = _lgb_safe_names(frame.columns)
    frame.columns = names
    K = len(classes)
    params: dict[str, Any] = {
        "objective": "binary" if K == 2 else "multiclass",
        "learning_rate": learning_rate,
        "num_leaves": 31,
        "seed": seed,
        "deterministic": True,
        "force_col_wise": True,
        "num_threads": int(n_jobs),
        "verbosity": -1,
    }
    if K > 2:
        params["num_class"] = K
    train_set = lgb.Dataset(frame, label=codes, free_raw_data=False)
    valid_sets, callbacks = [], []
    if val is not None:
        vframe, _ = _gbt_frame(val[0], cats)
        vframe.columns = names
        valid_sets = [lgb.Dataset(vframe, label=val[1], reference=train_set)]
        callbacks.append(lgb.early_stopping(stopping_rounds=20, verbose=False))
    prog = _progress(progress, n_estimators, "LightGBM trees")
    callbacks.append(lambda env: _advance(prog))
    try:
        booster = lgb.train(
            params,
            train_set,
            num_boost_round=n_estimators,
            valid_sets=valid_sets,
            callbacks=callbacks,
        )
    finally:
        _stop(prog)
    booster.save_model(str(path))
    write_sidecar(
        path.with_suffix(".json"),
        {
            "feature_names": [str(c) for c in X.columns],
            "classes": _jsonable_list(classes),
            "meta": {
                "trained_by": "distill2rules.teachers.train_teacher",
                "kind": "gbt",
                "seed": seed,
                "n_estimators": n_estimators,
                "best_iteration": int(booster.best_iteration or 0) or None,
                "learning_rate": learning_rate,
                "num_leaves": 31,
            },
        },
    )


# ----------------------------------------------------------------------------- mlp


def _split_validation(
    X: Any, codes: np.ndarray, seed: int
) -> tuple[Any, np.ndarray, Any, np.ndarray]:
    from sklearn.model_selection import train_test_split

    counts = np.bincount(codes)
    stratify = codes if counts[counts > 0].min() >= 2 else None
    idx_tr, idx_va = train_test_split(
        np.arange(len(codes)), test_size=0.15, random_state=seed, stratify=stratify
    )
    return X.iloc[idx_tr], codes[idx_tr], X.iloc[idx_va], codes[idx_va]


def _train_mlp(
    X: Any,
    codes: np.ndarray,
    classes: list[Any],
    val: Any,
    path: Path,
    *,
    seed: int,
    hidden: list[int],
    max_epochs: int,
    patience: int,
    batch_size: int,
    learning_rate: float,
    n_jobs: int,
    progress: bool,
) -> None:
    torch = require("torch", purpose="training an MLP teacher")

    if val is None:
        X_tr, y_tr, X_va, y_va = _split_validation(X, codes, seed)
    else:
        X_tr, y_tr, (X_va, y_va) = X, codes, val
    prep = Preprocessing.fit(X_tr)
    K = len(classes)
    n_out = 1 if K == 2 else K
    threads = torch.get_num_threads()
    torch.set_num_threads(int(n_jobs))
    try:
        torch.manual_seed(seed)
        Z_tr = torch.from_numpy(prep.transform(X_tr, np.float32))
        Z_va = torch.from_numpy(prep.transform(X_va, np.float32))
        if n_out == 1:
            t_tr, t_va = (
                torch.from_numpy(y_tr.astype(np.float32)),
                torch.from_numpy(y_va.astype(np.float32)),
            )
            loss_fn: Any = torch.nn.BCEWithLogitsLoss()
        else:
            t_tr, t_va = torch.from_numpy(y_tr), torch.from_numpy(y_va)
            loss_fn = torch.nn.CrossEntropyLoss()
        layers = [Z_tr.shape[1], *hidden, n_out]
        net = build_mlp(layers, "relu")
        opt = torch.optim.Adam(net.parameters(), lr=learning_rate)
        gen = torch.Generator().manual_seed(seed)

        def out_of(z: Any) -> Any:
            o = net(z)
            return o[:, 0] if n_out == 1 else o

        best, best_state, best_epoch, wait, epoch = (
            float("inf"),
            copy.deepcopy(net.state_dict()),
            0,
            0,
            0,
        )
        history: list[float] = []
        prog = _progress(progress, max_epochs, "MLP epochs")
        try:
            for epoch in range(1, max_epochs + 1):
                net.train()
                order = torch.randperm(Z_tr.shape[0], generator=gen)
                for start in range(0, len(order), batch_size):
                    idx = order[start : start + batch_size]
                    opt.zero_grad()
                    loss = loss_fn(out_of(Z_tr[idx]), t_tr[idx])
                    loss.backward()
                    opt.step()
                net.eval()
                with torch.no_grad():
                    v = float(loss_fn(out_of(Z_va), t_va))
                history.append(round(v, 6))
                if v < best - 1e-5:
                    best, best_state, best_epoch, wait = (
                        v,
                        copy.deepcopy(net.state_dict()),
                        epoch,
                        0,
                    )
                else:
                    wait += 1
                _advance(prog, f"val log loss {v:.4f} (best {best:.4f} @ {best_epoch})")
                if wait >= patience:
                    break
        finally:
            _stop(prog)
        net.load_state_dict(best_state)
        net.eval()
        torch.save(net.state_dict(), str(path))
        ts_path = path.with_name(path.stem + ".torchscript.pt")
        _save_torchscript(net, Z_tr[:2], ts_path)
    finally:
        torch.set_num_threads(threads)
    write_sidecar(
        path.with_suffix(".json"),
        {
            "architecture": {"type": "mlp", "layers": layers, "activation": "relu"},
            "feature_names": [str(c) for c in X.columns],
            "classes": _jsonable_list(classes),
            "preprocessing": prep.to_json(),
            "meta": {
                "trained_by": "distill2rules.teachers.train_teacher",
                "kind": "mlp",
                "seed": seed,
                "hidden": hidden,
                "epochs_run": epoch,
                "best_epoch": best_epoch,
                "best_val_log_loss": best,
                "val_log_loss": history,
                "batch_size": batch_size,
                "learning_rate": learning_rate,
                "torchscript": ts_path.name,
            },
        },
    )


def _save_torchscript(net: Any, example: Any, path: Path) -> None:
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(net, example)
        torch.jit.save(traced, str(path))
