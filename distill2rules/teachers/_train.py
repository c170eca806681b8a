"""Reference teachers: a LightGBM model and a PyTorch MLP trained the paper's way.

``train_teacher("gbt", ...)`` writes ``model.txt`` (+ a sidecar with the class labels and the
original column names); ``train_teacher("mlp", ...)`` writes a state_dict ``.pt``, its sidecar
JSON (architecture, features, classes, preprocessing) and a TorchScript copy
``<stem>.torchscript.pt`` (which reads the same sidecar). Both return the teacher loaded back
from disk, so what you get is exactly what a later ``load_teacher`` gives.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
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


def _teacher_key(kind: str) -> str:
    """``gbt`` or ``mlp`` for a teacher kind or one of its aliases (``lightgbm``, ``torch`` ...)."""
    key = {"lightgbm": "gbt", "gbm": "gbt", "torch": "mlp"}.get(
        str(kind).lower(), str(kind).lower()
    )
    if key not in TEACHER_KINDS:
        raise ConfigError(f"unknown teacher kind {kind!r};", hint="use 'gbt' or 'mlp'.")
    return key


def _thread_count(n_jobs: int | None) -> int:
    """Threads for LightGBM/torch; ``DISTILL2RULES_N_JOBS`` lets test runners pin it to 1."""
    if n_jobs is None:
        n_jobs = int(os.environ.get("DISTILL2RULES_N_JOBS", "2"))
    if int(n_jobs) < 1:
        raise ConfigError(f"n_jobs must be >= 1, got {n_jobs}.")
    return n_jobs


def _validation_rows(
    X: Any, X_val: Any, y_val: Any, classes: list[Any]
) -> tuple[Any, np.ndarray] | None:
    """The caller's validation rows (``X``'s columns, class codes), or None when not given."""
    if (X_val is None) != (y_val is None):
        raise DataError("pass both X_val and y_val, or neither.")
    if X_val is None:
        return None
    X_val, yv = _check_inputs(X_val, y_val, "validation")
    missing = [c for c in X.columns if c not in X_val.columns]
    if missing:
        raise DataError(f"validation data lacks columns {', '.join(map(str, missing[:5]))}.")
    return X_val.loc[:, list(X.columns)], _codes_for(yv, classes)


@dataclass(frozen=True)
class _TrainingJob:
    """What both trainers get: checked rows and class codes, validation rows, the model path."""

    X: Any
    codes: np.ndarray
    classes: list[Any]
    val: tuple[Any, np.ndarray] | None
    path: Path
    seed: int
    n_jobs: int
    progress: bool


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

    key = _teacher_key(kind)
    if int(seed) < 0:
        raise ConfigError(f"seed must be >= 0, got {seed}.")
    n_jobs = _thread_count(n_jobs)
    X, y_arr = _check_inputs(X, y)
    classes, codes = _encode_labels(y_arr)
    val = _validation_rows(X, X_val, y_val, classes)
    path = _resolve_out(out, key)
    job = _TrainingJob(X, codes, classes, val, path, int(seed), n_jobs, progress)
    if key == "gbt":
        _train_gbt(job, int(n_estimators), 0.05 if learning_rate is None else float(learning_rate))
    else:
        _train_mlp(
            job, _MlpSettings.checked(hidden, max_epochs, patience, batch_size, learning_rate)
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


def _train_gbt(job: _TrainingJob, n_estimators: int, learning_rate: float) -> None:
    seed, n_jobs, classes, val, path = job.seed, job.n_jobs, job.classes, job.val, job.path
    lgb = require("lightgbm", purpose="training a LightGBM teacher")

    frame, cats = _gbt_frame(job.X, None)
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
    train_set = lgb.Dataset(frame, label=job.codes, free_raw_data=False)
    valid_sets, callbacks = [], []
    if val is not None:
        vframe, _ = _gbt_frame(val[0], cats)
        vframe.columns = names
        valid_sets = [lgb.Dataset(vframe, label=val[1], reference=train_set)]
        callbacks.append(lgb.early_stopping(stopping_rounds=20, verbose=False))
    prog = _progress(job.progress, n_estimators, "LightGBM trees")
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
            "feature_names": [str(c) for c in job.X.columns],
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


@dataclass(frozen=True)
class _MlpSettings:
    """The MLP's architecture and optimisation settings, checked."""

    hidden: list[int]
    max_epochs: int
    patience: int
    batch_size: int
    learning_rate: float

    @classmethod
    def checked(
        cls,
        hidden: Sequence[int],
        max_epochs: int,
        patience: int,
        batch_size: int,
        learning_rate: float | None,
    ) -> _MlpSettings:
        if any(int(h) < 1 for h in hidden):
            raise ConfigError(f"hidden layer widths must be >= 1, got {list(hidden)}.")
        if max_epochs < 1 or patience < 1 or batch_size < 1:
            raise ConfigError("max_epochs, patience and batch_size must all be >= 1.")
        return cls(
            hidden=[int(h) for h in hidden],
            max_epochs=int(max_epochs),
            patience=int(patience),
            batch_size=int(batch_size),
            learning_rate=1e-3 if learning_rate is None else float(learning_rate),
        )


@dataclass
class _EarlyStopping:
    """Validation losses so far; the best one, its epoch and the network's weights then."""

    patience: int
    best_state: Any
    best: float = float("inf")
    best_epoch: int = 0
    wait: int = 0
    epochs_run: int = 0
    history: list[float] = field(default_factory=list)

    def update(self, epoch: int, loss: float, net: Any) -> None:
        self.epochs_run = epoch
        self.history.append(round(loss, 6))
        if loss < self.best - 1e-5:
            self.best, self.best_state, self.best_epoch, self.wait = (
                loss,
                copy.deepcopy(net.state_dict()),
                epoch,
                0,
            )
        else:
            self.wait += 1

    @property
    def exhausted(self) -> bool:
        """``patience`` epochs without improvement."""
        return self.wait >= self.patience


@contextmanager
def _torch_threads(torch: Any, n_jobs: int) -> Iterator[None]:
    """Run with ``n_jobs`` torch threads, restoring the previous setting after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(int(n_jobs))
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _tensors(torch: Any, prep: Preprocessing, X: Any, y: np.ndarray, n_out: int) -> Any:
    """Model inputs and loss targets (float 0/1 for one output, class indices otherwise)."""
    Z = torch.from_numpy(prep.transform(X, np.float32))
    t = torch.from_numpy(y.astype(np.float32)) if n_out == 1 else torch.from_numpy(y)
    return Z, t


def _scores(net: Any, z: Any, n_out: int) -> Any:
    o = net(z)
    return o[:, 0] if n_out == 1 else o


def _train_epoch(
    torch: Any, net: Any, opt: Any, loss_fn: Any, train: Any, n_out: int, batch_size: int, gen: Any
) -> None:
    """One pass of Adam over ``train`` in mini-batches of a fresh random order."""
    Z, t = train
    net.train()
    order = torch.randperm(Z.shape[0], generator=gen)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        opt.zero_grad()
        loss = loss_fn(_scores(net, Z[idx], n_out), t[idx])
        loss.backward()
        opt.step()


def _fit_epochs(
    torch: Any,
    net: Any,
    loss_fn: Any,
    train: Any,
    valid: Any,
    n_out: int,
    job: _TrainingJob,
    opts: _MlpSettings,
) -> _EarlyStopping:
    """Train until ``patience`` epochs bring no better validation loss; keep the best weights."""
    opt = torch.optim.Adam(net.parameters(), lr=opts.learning_rate)
    gen = torch.Generator().manual_seed(job.seed)
    stopping = _EarlyStopping(opts.patience, copy.deepcopy(net.state_dict()))
    prog = _progress(job.progress, opts.max_epochs, "MLP epochs")
    try:
        for epoch in range(1, opts.max_epochs + 1):
            _train_epoch(torch, net, opt, loss_fn, train, n_out, opts.batch_size, gen)
            net.eval()
            with torch.no_grad():
                v = float(loss_fn(_scores(net, valid[0], n_out), valid[1]))
            stopping.update(epoch, v, net)
            _advance(
                prog, f"val log loss {v:.4f} (best {stopping.best:.4f} @ {stopping.best_epoch})"
            )
            if stopping.exhausted:
                break
    finally:
        _stop(prog)
    net.load_state_dict(stopping.best_state)
    net.eval()
    return stopping


def _train_mlp(job: _TrainingJob, opts: _MlpSettings) -> None:
    torch = require("torch", purpose="training an MLP teacher")

    if job.val is None:
        X_tr, y_tr, X_va, y_va = _split_validation(job.X, job.codes, job.seed)
    else:
        X_tr, y_tr, (X_va, y_va) = job.X, job.codes, job.val
    prep = Preprocessing.fit(X_tr)
    K = len(job.classes)
    n_out = 1 if K == 2 else K
    ts_path = job.path.with_name(job.path.stem + ".torchscript.pt")
    with _torch_threads(torch, job.n_jobs):
        torch.manual_seed(job.seed)
        train = _tensors(torch, prep, X_tr, y_tr, n_out)
        valid = _tensors(torch, prep, X_va, y_va, n_out)
        loss_fn = torch.nn.BCEWithLogitsLoss() if n_out == 1 else torch.nn.CrossEntropyLoss()
        layers = [train[0].shape[1], *opts.hidden, n_out]
        net = build_mlp(layers, "relu")
        stopping = _fit_epochs(torch, net, loss_fn, train, valid, n_out, job, opts)
        torch.save(net.state_dict(), str(job.path))
        _save_torchscript(net, train[0][:2], ts_path)
    write_sidecar(
        job.path.with_suffix(".json"),
        {
            "architecture": {"type": "mlp", "layers": layers, "activation": "relu"},
            "feature_names": [str(c) for c in job.X.columns],
            "classes": _jsonable_list(job.classes),
            "preprocessing": prep.to_json(),
            "meta": {
                "trained_by": "distill2rules.teachers.train_teacher",
                "kind": "mlp",
                "seed": job.seed,
                "hidden": opts.hidden,
                "epochs_run": stopping.epochs_run,
                "best_epoch": stopping.best_epoch,
                "best_val_log_loss": stopping.best,
                "val_log_loss": stopping.history,
                "batch_size": opts.batch_size,
                "learning_rate": opts.learning_rate,
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
