"""Train two teachers *outside* distill2rules, the way a team would in its own code base.

This script does not import distill2rules. It writes files that distill2rules can load
without any sidecar JSON:

* ``model.txt`` - a LightGBM booster. LightGBM records the feature names and, for pandas
  categorical columns, the category lists (``pandas_categorical``) inside the file, so string
  columns can stay as they are.
* ``mlp.pt`` - a TorchScript MLP following the *no-sidecar contract*: it takes the feature
  columns (every column of its CSV except the target, in file order) as a float32 tensor
  ``[n, d]`` and returns logits ``[n, K]``. It standardises and imputes internally, so raw
  numbers go in. A bare tensor cannot hold strings, so this script keeps only the numeric
  columns for the MLP and writes them, plus the target, to ``mlp_features.csv``.

Class ``i`` of both models is the ``i``-th label in sorted order (printed at the end).

Usage::

    python examples/train_teacher_outside.py --data adult.csv --target income --out-dir outside/
    distill2rules fit --data outside/mlp_features.csv --target income --teacher outside/mlp.pt ...
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import torch
from torch import nn


class StandardisedMLP(nn.Module):
    """Impute (median) and standardise inside the network, then a ReLU MLP."""

    def __init__(
        self,
        median: np.ndarray,
        mean: np.ndarray,
        scale: np.ndarray,
        n_classes: int,
        hidden: tuple[int, ...] = (128, 64, 32),
    ) -> None:
        super().__init__()
        self.register_buffer("median", torch.tensor(median, dtype=torch.float32))
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32))
        layers: list[nn.Module] = []
        width = len(mean)
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.where(torch.isnan(x), self.median.expand_as(x), x)
        return self.net((x - self.mean) / self.scale)


def train_lightgbm(
    X: pd.DataFrame,
    codes: np.ndarray,
    n_classes: int,
    out: Path,
    seed: int,
    n_trees: int = 200,
    threads: int = 2,
) -> None:
    """LightGBM on every feature column; string columns become pandas categoricals."""
    X = X.copy()
    for col in X.columns:
        if not pd.api.types.is_numeric_dtype(X[col]):
            X[col] = X[col].astype("category")
    params = {
        "objective": "binary" if n_classes == 2 else "multiclass",
        "learning_rate": 0.05,
        "num_leaves": 31,
        "seed": seed,
        "deterministic": True,
        "force_col_wise": True,
        "num_threads": threads,
        "verbosity": -1,
    }
    if n_classes > 2:
        params["num_class"] = n_classes
    booster = lgb.train(params, lgb.Dataset(X, label=codes), num_boost_round=n_trees)
    booster.save_model(str(out))


def train_torchscript_mlp(
    X: pd.DataFrame,
    codes: np.ndarray,
    n_classes: int,
    out: Path,
    seed: int,
    epochs: int,
    threads: int = 2,
) -> None:
    """A small MLP on the numeric columns, saved with TorchScript."""
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    data = X.to_numpy(dtype=np.float64)
    median = np.nanmedian(data, axis=0)
    filled = np.where(np.isnan(data), median, data)
    mean, scale = filled.mean(axis=0), filled.std(axis=0)
    scale[scale == 0] = 1.0
    model = StandardisedMLP(median, mean, scale, n_classes)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    Xt = torch.tensor(data, dtype=torch.float32)
    yt = torch.tensor(codes, dtype=torch.long)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(Xt), generator=gen)
        for start in range(0, len(order), 256):
            idx = order[start : start + 256]
            opt.zero_grad()
            loss = loss_fn(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        if epoch == epochs - 1 or epoch % 5 == 0:
            with torch.no_grad():
                print(
                    f"  epoch {epoch + 1}/{epochs}: train log loss "
                    f"{float(loss_fn(model(Xt), yt)):.4f}"
                )
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit is deprecated in favour of torch.export
        torch.jit.save(torch.jit.script(model), str(out))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="CSV file with a header row")
    parser.add_argument("--target", required=True, help="name of the label column")
    parser.add_argument(
        "--out-dir", required=True, help="where to write model.txt, mlp.pt, mlp_features.csv"
    )
    parser.add_argument("--sep", default=",", help="CSV separator (default ',')")
    parser.add_argument("--epochs", type=int, default=30, help="MLP epochs (default 30)")
    parser.add_argument(
        "--trees", type=int, default=200, help="LightGBM boosting rounds (default 200)"
    )
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    df = pd.read_csv(args.data, sep=args.sep, skipinitialspace=True)
    if args.target not in df.columns:
        parser.error(f"--target {args.target!r} is not a column of {args.data}")
    df = df[df[args.target].notna()]
    y = df[args.target]
    X = df.drop(columns=[args.target])
    classes = sorted(y.unique().tolist())
    codes = y.map({c: i for i, c in enumerate(classes)}).to_numpy(dtype=np.int64)

    print(f"LightGBM on {X.shape[1]} columns -> {out_dir / 'model.txt'}")
    train_lightgbm(
        X, codes, len(classes), out_dir / "model.txt", args.seed, args.trees, args.threads
    )

    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    dropped = [c for c in X.columns if c not in numeric]
    if not numeric:
        parser.error("the MLP needs at least one numeric column")
    print(
        f"TorchScript MLP on {len(numeric)} numeric columns -> {out_dir / 'mlp.pt'}"
        + (f" (dropped non-numeric: {', '.join(map(str, dropped))})" if dropped else "")
    )
    train_torchscript_mlp(
        X[numeric], codes, len(classes), out_dir / "mlp.pt", args.seed, args.epochs, args.threads
    )
    df[numeric + [args.target]].to_csv(out_dir / "mlp_features.csv", index=False)

    print(f"class order (logit columns): {classes}")
    print("load them with distill2rules.teachers.load_teacher(...):")
    print(f"  {out_dir / 'model.txt'} with the original data {args.data}")
    print(
        f"  {out_dir / 'mlp.pt'} with {out_dir / 'mlp_features.csv'} (features in that file's "
        "order)"
    )


if __name__ == "__main__":
    main()
