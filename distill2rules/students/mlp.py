"""Shallow MLP student (PyTorch), trained with the exact distillation loss.

Loss, by what ``fit`` is given:

* ``teacher_logits=`` (what :func:`distill2rules.pipeline.distill` passes): the paper's
  ``α·CE(y, p_S) + (1 − α)·τ²·KL(p_T^τ ‖ p_S^τ)`` with the student's ``temperature`` and
  ``alpha`` (:func:`distill2rules.kd._torch.kd_loss_torch`, numerically the same as
  :func:`distill2rules.kd.kd_loss`);
* otherwise the soft cross-entropy ``−Σ_k t_k log p_S,k`` with ``soft_targets`` (or the one-hot
  labels: the no-KD baseline).

Plus ``l1 · Σ|W|`` over the weight matrices.

Monotone constraints (two classes), ``monotone_method``:

* ``"constrained"`` (default, a guarantee): the first layer's weights from a constrained input
  carry its sign, every later layer's weights are ≥ 0 (projected after each step) and hidden
  units use ``tanh``; every path from the input to the score is then monotone, so the score
  is monotone for any values of the other inputs. (With ReLU such a network would be convex
  in its inputs; tanh keeps bumps in the unconstrained features possible.)
* ``"penalty"``: an unconstrained network plus the gradient penalty
  ``monotone_penalty · mean(relu(−s_f · ∂score/∂x_f))``, evaluated at the batch rows and at
  copies with ``x_f`` redrawn uniformly over its training range. Usually monotone, not
  guaranteed: the largest violation on a grid is recorded in ``meta.monotone_check``.
Early stopping watches the same loss on the validation split (``X_val``; else an internal
``validation_fraction`` of the rows) and restores the best epoch.

Inputs are preprocessed as the ``mlp`` spec describes: numerics imputed with the median,
clipped to the training range and standardised; categoricals one-hot (missing and unseen
categories → all zeros). The spec holds that preprocessing and every layer, so ONNX and the
Python student are the same function.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np

from distill2rules._optional import require
from distill2rules.errors import ConfigError, DataError
from distill2rules.kd import kd_loss_torch, soft_cross_entropy_torch
from distill2rules.spec import MISSING_CATEGORY, mlp_design_matrix, mlp_scores
from distill2rules.students._base import RawInputs, SoftTargetStudent, numeric_standardisation
from distill2rules.students._special import special_levels


def parse_hidden(hidden: Any) -> tuple[int, ...]:
    """``(64, 32)``, ``[64, 32]``, ``"64-32"`` or ``64`` → ``(64, 32)`` / ``(64,)``."""
    if isinstance(hidden, str):
        parts = [p for p in hidden.replace(",", "-").split("-") if p.strip()]
        try:
            out = tuple(int(p) for p in parts)
        except ValueError:
            raise ConfigError(
                f"hidden must be layer widths such as '64-32', got {hidden!r}."
            ) from None
    elif isinstance(hidden, (int, np.integer)):
        out = (int(hidden),)
    else:
        out = tuple(int(h) for h in hidden)
    if not out or any(h < 1 for h in out):
        raise ConfigError(f"hidden must list one or more positive layer widths, got {hidden!r}.")
    return out


def _preprocess(inputs: RawInputs, min_category_count: int) -> dict:
    numeric = numeric_standardisation(inputs)
    categorical = []
    for j, name in enumerate(inputs.categorical_columns):
        vals, counts = np.unique(inputs.categorical[:, j].astype(str), return_counts=True)
        cats = sorted(
            str(v)
            for v, c in zip(vals, counts)
            if c >= min_category_count and v != MISSING_CATEGORY
        )
        categorical.append({"feature": name, "categories": cats})
    special = [
        {"feature": lv.feature, "value": lv.value, "label": lv.label}
        for lv in special_levels(inputs)
    ]
    return {
        "numeric": numeric,
        "categorical": categorical,
        **({"special": special} if special else {}),
    }


def _design(inputs: RawInputs, prep: dict) -> np.ndarray:
    spec_like = {
        "inputs": {"numeric": inputs.numeric_columns, "categorical": inputs.categorical_columns},
        "preprocess": prep,
        "special_values": inputs.special,
    }
    return mlp_design_matrix(spec_like, inputs.raw, inputs.categorical).astype(np.float32)


class MLPStudent(SoftTargetStudent):
    """Shallow multilayer perceptron distilled with ``α·CE + (1 − α)·τ²·KL``.

    Parameters
    ----------
    hidden : tuple of int or str
        Hidden layer widths, e.g. ``(64, 32)`` or ``"64-32"``.
    activation : {"relu", "tanh"}
        Hidden activation.
    epochs : int
        Maximum passes over the training rows.
    lr : float
        Adam learning rate.
    batch_size : int
        Rows per step.
    patience : int
        Epochs without improvement of the validation loss before stopping.
    l1 : float
        L1 penalty on the weight matrices (``l1 · Σ|W|``).
    weight_decay : float
        Adam's L2 weight decay.
    temperature, alpha : float
        τ and α of the KD loss, used when ``fit`` gets ``teacher_logits``.
    monotone : dict or str or None
        ``{"income": +1}``: the score is monotone along these inputs (two classes).
    monotone_method : {"constrained", "penalty"}
        Sign-constrained weights (guaranteed) or a gradient penalty (see module docstring).
    monotone_penalty : float
        Weight of the gradient penalty (``monotone_method="penalty"``).
    categorical_features : list of str or None
        Columns to one-hot; default: non-numeric dtypes.
    min_category_count : int
        Categories seen fewer times get no input (scored as unseen: all zeros).
    special_values : dict or str or None
        Codes that are levels, not numbers: one 0/1 input each; the numeric input is imputed
        (and standardised on the other rows) there, so codes are never on a monotone path.
    validation_fraction : float
        Share of the training rows held out for early stopping when no ``X_val`` is given.
    n_threads : int
        ``torch.set_num_threads`` during fit (restored afterwards).
    random_state : int or None
        Seeds initialisation, shuffling and the internal split.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    >>> MLPStudent(hidden=(8,), epochs=5, random_state=0).fit(X, y).to_spec()["kind"]
    'mlp'
    """

    student_name = "mlp"
    accepts_teacher_logits = True

    def __init__(
        self,
        *,
        hidden: Any = (64, 32),
        activation: str = "relu",
        epochs: int = 200,
        lr: float = 2e-3,
        batch_size: int = 256,
        patience: int = 5,
        l1: float = 0.0,
        weight_decay: float = 0.0,
        temperature: float = 1.0,
        alpha: float = 0.0,
        monotone: Any = None,
        monotone_method: str = "constrained",
        monotone_penalty: float = 10.0,
        categorical_features: Sequence[str] | None = None,
        min_category_count: int = 1,
        validation_fraction: float = 0.1,
        n_threads: int = 1,
        random_state: int | None = None,
        special_values: Any = None,
        calibrate: bool = False,
    ) -> None:
        self.special_values = special_values
        self.hidden = hidden
        self.activation = activation
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.patience = patience
        self.l1 = l1
        self.weight_decay = weight_decay
        self.temperature = temperature
        self.alpha = alpha
        self.monotone = monotone
        self.monotone_method = monotone_method
        self.monotone_penalty = monotone_penalty
        self.categorical_features = categorical_features
        self.min_category_count = min_category_count
        self.validation_fraction = validation_fraction
        self.n_threads = n_threads
        self.random_state = random_state
        self.calibrate = calibrate

    # ------------------------------------------------------------------ sklearn API
    def fit(
        self,
        X: Any,
        y: Any,
        *,
        soft_targets: Any | None = None,
        teacher_logits: Any | None = None,
        X_val: Any | None = None,
        y_val: Any | None = None,
        soft_targets_val: Any | None = None,
        teacher_logits_val: Any | None = None,
        sample_weight: Any | None = None,
    ):
        """Fit on raw rows; with ``teacher_logits`` (n, K) the loss is the exact KD loss.

        ``teacher_logits_val`` makes early stopping watch the KD loss on ``X_val``.
        """
        self._teacher = (teacher_logits, teacher_logits_val)
        try:
            return super().fit(
                X,
                y,
                soft_targets=soft_targets,
                X_val=X_val,
                y_val=y_val,
                soft_targets_val=soft_targets_val,
                sample_weight=sample_weight,
            )
        finally:
            del self._teacher

    # ------------------------------------------------------------------ training
    def _check_params(self) -> tuple[int, ...]:
        hidden = parse_hidden(self.hidden)
        if self.activation not in ("relu", "tanh"):
            raise ConfigError(f"activation must be 'relu' or 'tanh', got {self.activation!r}.")
        for name in ("epochs", "batch_size", "patience"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ConfigError(f"{name} must be an integer >= 1, got {v!r}.")
        if not self.lr > 0:
            raise ConfigError(f"lr must be > 0, got {self.lr}.")
        if self.l1 < 0 or self.weight_decay < 0 or self.monotone_penalty < 0:
            raise ConfigError("l1, weight_decay and monotone_penalty must be >= 0.")
        if self.monotone_method not in ("constrained", "penalty"):
            raise ConfigError(
                f"monotone_method must be 'constrained' or 'penalty', got {self.monotone_method!r}."
            )
        if not 0 < self.validation_fraction < 1:
            raise ConfigError(
                f"validation_fraction must be in (0, 1), got {self.validation_fraction}."
            )
        return hidden

    def _teacher_logits(self, z: Any, n: int, k: int, what: str) -> np.ndarray | None:
        if z is None:
            return None
        z = np.asarray(z, dtype=np.float64)
        if z.shape != (n, k):
            raise DataError(
                f"{what} must have shape ({n}, {k}) (one logit per class), got {z.shape}."
            )
        if not np.isfinite(z).all():
            raise DataError(f"{what} holds non-finite values.")
        return z

    def _fit_spec(self, inputs, targets, y_idx, classes, *, val, sample_weight):
        torch = require("torch", purpose="the MLP student")

        hidden = self._check_params()
        n, k = targets.shape
        if self.monotone_ and k != 2:
            raise ConfigError("monotone constraints on an MLP student need a binary target.")
        zt = self._teacher_logits(self._teacher[0], n, k, "teacher_logits")
        prep = _preprocess(inputs, int(self.min_category_count))
        Z = _design(inputs, prep)
        w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        train = {"x": Z, "t": targets, "y": y_idx, "z": zt, "w": w}
        if val is not None and val[1] is not None:
            vin, vy, vt = val
            zv = (
                self._teacher_logits(self._teacher[1], vin.n, k, "teacher_logits_val")
                if zt is not None
                else None
            )
            valid = {"x": _design(vin, prep), "t": vt, "y": vy, "z": zv, "w": np.ones(vin.n)}
            if zt is not None and zv is None:
                valid["z"] = None  # KD on train, but only labels/targets on val: watch the soft CE
            self.validation_ = "X_val"
        else:
            rng = np.random.default_rng(self.random_state)
            perm = rng.permutation(n)
            n_val = max(1, round(self.validation_fraction * n)) if n > 10 else 0
            vi, ti = perm[:n_val], perm[n_val:]
            valid = (
                {key: (None if v is None else v[vi]) for key, v in train.items()} if n_val else None
            )
            train = {key: (None if v is None else v[ti]) for key, v in train.items()}
            self.validation_ = f"internal {self.validation_fraction:.0%} split" if n_val else "none"
        self.loss_ = "kd" if zt is not None else "soft_cross_entropy"
        prev_threads = torch.get_num_threads()
        torch.set_num_threads(int(self.n_threads))
        try:
            net = self._train(train, valid, hidden, k, prep)
        finally:
            torch.set_num_threads(prev_threads)
        spec = self._lower(net, prep, k, hidden)
        if self.monotone_:
            spec["meta"]["monotone_check"] = self._check_monotone(spec, inputs)
        return spec

    def _check_monotone(
        self, spec: dict, inputs: RawInputs, n_rows: int = 256, n_grid: int = 33
    ) -> dict:
        """Largest decrease (in the constrained direction) of the score along a grid of each
        constrained feature, over up to ``n_rows`` training rows: 0 means monotone there."""
        spec = {
            **spec,
            "inputs": {
                "numeric": inputs.numeric_columns,
                "categorical": inputs.categorical_columns,
            },
        }
        rng = np.random.default_rng(0)
        idx = rng.choice(inputs.n, size=min(n_rows, inputs.n), replace=False)
        out = {}
        for j, name in enumerate(inputs.numeric_columns):
            sign = self.monotone_.get(name)
            if not sign:
                continue
            x = inputs.numeric[:, j]
            grid = np.linspace(np.nanmin(x), np.nanmax(x), n_grid)
            num = np.repeat(inputs.numeric[idx], n_grid, axis=0)
            num[:, j] = np.tile(grid, len(idx))
            cat = np.repeat(inputs.categorical[idx], n_grid, axis=0)
            s = mlp_scores(spec, num, cat)[:, 0].reshape(len(idx), n_grid)
            out[name] = {
                "max_violation": float(max(0.0, -(sign * np.diff(s, axis=1)).min())),
                "grid_points": n_grid,
                "rows": len(idx),
            }
        return out

    def _hidden_activation(self) -> str:
        constrained = (
            bool(getattr(self, "monotone_", None)) and self.monotone_method == "constrained"
        )
        return "tanh" if constrained else self.activation

    def _build(self, d: int, hidden: tuple[int, ...], k_out: int):
        import torch

        layers: list = []
        width = d
        act = self._hidden_activation()
        for h in hidden:
            layers += [
                torch.nn.Linear(width, h),
                torch.nn.ReLU() if act == "relu" else torch.nn.Tanh(),
            ]
            width = h
        layers.append(torch.nn.Linear(width, k_out))
        return torch.nn.Sequential(*layers)

    @staticmethod
    def _logits(net: Any, x: Any, k: int) -> Any:
        import torch

        s = net(x)
        if k == 2:
            return torch.cat([torch.zeros_like(s), s], dim=1)
        return s

    def _loss(self, net: Any, batch: dict, k: int, *, train: bool) -> Any:
        zs = self._logits(net, batch["x"], k)
        if batch.get("z") is not None:
            loss = kd_loss_torch(
                zs,
                batch["z"],
                batch["y"],
                temperature=float(self.temperature),
                alpha=float(self.alpha),
                sample_weight=batch["w"],
            )
        else:
            loss = soft_cross_entropy_torch(zs, batch["t"], batch["w"])
        if train and self.l1 > 0:
            loss = loss + self.l1 * sum(
                p.abs().sum() for name, p in net.named_parameters() if name.endswith("weight")
            )
        return loss

    def _monotone_penalty(
        self, net: Any, x: Any, mono_cols: list[tuple[int, int]], lows: Any, highs: Any, gen: Any
    ) -> Any:
        import torch

        xs = [x]
        for c, _ in mono_cols:  # copies with the constrained input redrawn over its range
            xr = x.clone()
            u = torch.rand(x.shape[0], generator=gen, dtype=x.dtype)
            xr[:, c] = lows[c] + u * (highs[c] - lows[c])
            xs.append(xr)
        xa = torch.cat(xs).detach().requires_grad_(True)
        (g,) = torch.autograd.grad(net(xa).sum(), xa, create_graph=True)
        pen: Any = 0.0
        for c, sign in mono_cols:
            pen = pen + torch.relu(-sign * g[:, c]).mean()
        return pen

    def _train(self, train: dict, valid: dict | None, hidden: tuple[int, ...], k: int, prep: dict):
        import torch

        seed = 0 if self.random_state is None else int(self.random_state)
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        d = train["x"].shape[1]
        net = self._build(d, hidden, 1 if k == 2 else k)

        def tensors(part: dict | None) -> dict | None:
            if part is None:
                return None
            f32 = torch.float32
            out: dict[str, Any] = {
                "x": torch.as_tensor(part["x"], dtype=f32),
                "t": torch.as_tensor(part["t"], dtype=f32),
                "y": torch.as_tensor(np.asarray(part["y"], dtype=np.int64)),
                "w": torch.as_tensor(part["w"], dtype=f32),
            }
            out["z"] = None if part.get("z") is None else torch.as_tensor(part["z"], dtype=f32)
            return out

        tr, va = tensors(train), tensors(valid)
        assert tr is not None  # the training part is always given
        mono_cols = [
            (j, int(self.monotone_[p["feature"]]))
            for j, p in enumerate(prep["numeric"])
            if p["feature"] in self.monotone_
        ]
        lows, highs = tr["x"].min(dim=0).values, tr["x"].max(dim=0).values
        project = (
            self._projector(net, mono_cols)
            if mono_cols and self.monotone_method == "constrained"
            else None
        )
        if project is not None:
            project(init=True)
        opt = torch.optim.Adam(
            net.parameters(), lr=float(self.lr), weight_decay=float(self.weight_decay)
        )
        n = tr["x"].shape[0]
        bs = min(int(self.batch_size), n)
        best, best_state, bad, curve = np.inf, copy.deepcopy(net.state_dict()), 0, []
        epoch = 0
        for epoch in range(1, int(self.epochs) + 1):
            net.train()
            perm = torch.randperm(n, generator=gen)
            for start in range(0, n, bs):
                idx = perm[start : start + bs]
                batch = {key: (None if v is None else v[idx]) for key, v in tr.items()}
                loss = self._loss(net, batch, k, train=True)
                if mono_cols and self.monotone_method == "penalty" and self.monotone_penalty > 0:
                    loss = loss + self.monotone_penalty * self._monotone_penalty(
                        net, batch["x"], mono_cols, lows, highs, gen
                    )
                opt.zero_grad()
                loss.backward()
                opt.step()
                if project is not None:
                    project()
            net.eval()
            with torch.no_grad():
                score = float(self._loss(net, va if va is not None else tr, k, train=False))
            curve.append(score)
            if not np.isfinite(best) or score < best - 1e-6 * max(1.0, abs(best)):
                best, best_state, bad = score, copy.deepcopy(net.state_dict()), 0
            else:
                bad += 1
                if bad >= int(self.patience):
                    break
        net.load_state_dict(best_state)
        self.n_epochs_ = epoch
        self.best_epoch_ = int(np.argmin(curve)) + 1 if curve else 0
        self.loss_curve_ = curve
        return net

    @staticmethod
    def _projector(net: Any, mono_cols: list[tuple[int, int]]):
        """Projection keeping every input-to-score path monotone: constrained inputs' first-layer
        weights carry their sign, all later weights are >= 0."""
        import torch

        linears = [m for m in net if isinstance(m, torch.nn.Linear)]

        def project(init: bool = False) -> None:
            with torch.no_grad():
                for c, sign in mono_cols:
                    col = linears[0].weight[:, c]
                    col.copy_(
                        sign * (col * sign).abs()
                        if init
                        else sign * torch.clamp(col * sign, min=0.0)
                    )
                for lin in linears[1:]:
                    lin.weight.copy_(lin.weight.abs() if init else torch.clamp(lin.weight, min=0.0))

        return project

    # ------------------------------------------------------------------ lowering
    def _lower(self, net: Any, prep: dict, k: int, hidden: tuple[int, ...]) -> dict:
        layers = []
        linears = [m for m in net if hasattr(m, "weight")]
        for i, lin in enumerate(linears):
            act = "identity" if i == len(linears) - 1 else self._hidden_activation()
            layers.append(
                {
                    "weight": lin.weight.detach().cpu().numpy().astype(np.float64).tolist(),
                    "bias": lin.bias.detach().cpu().numpy().astype(np.float64).tolist(),
                    "activation": act,
                }
            )
        return {
            "kind": "mlp",
            "link": "logistic" if k == 2 else "softmax",
            "preprocess": prep,
            "layers": layers,
            "meta": {
                "hidden": list(hidden),
                "epochs_run": self.n_epochs_,
                "best_epoch": self.best_epoch_,
                "early_stopping_on": self.validation_,
                "l1": float(self.l1),
                "loss": self.loss_,
                **({"monotone_method": self.monotone_method} if self.monotone_ else {}),
                **(
                    {"temperature": float(self.temperature), "alpha": float(self.alpha)}
                    if self.loss_ == "kd"
                    else {}
                ),
            },
        }
