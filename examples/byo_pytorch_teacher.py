"""Bring your own PyTorch teacher: train an MLP in a plain script, save it, distill it with the Python API.

Part 1 is what you already have: ordinary PyTorch code that knows nothing about distill2rules.
It saves the network the two ways ``docs/teachers.md`` describes:

* TorchScript (``teacher.torchscript.pt``) with the standardisation inside the graph, plus a
  small sidecar JSON naming the feature columns and the classes;
* a ``state_dict`` (``teacher.pt``) plus a sidecar giving the architecture and the
  preprocessing (loaded with ``torch.load(weights_only=True)``: no pickled code runs).

Part 2 distills either file into a sparse logistic-regression scorecard with
``distill2rules.pipeline.distill`` and prints the comparison.

Run::

    python examples/byo_pytorch_teacher.py --out runs/byo_torch
    python examples/byo_pytorch_teacher.py --small --out /tmp/byo     # test settings
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def train_my_mlp(X, y, *, epochs: int, seed: int = 0):
    """Plain PyTorch: a 2-hidden-layer MLP on standardised inputs, one logit for class 1."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    torch.set_num_threads(1)
    Xt = torch.tensor(X, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.float32)
    mean, std = Xt.mean(0), Xt.std(0).clamp_min(1e-6)
    net = nn.Sequential(
        nn.Linear(X.shape[1], 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 1)
    )
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(epochs):
        opt.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(net((Xt - mean) / std).squeeze(1), yt)
        loss.backward()
        opt.step()
    return net, mean, std


class Standardised(__import__("torch").nn.Module):
    """The deployed teacher: raw features in, logit out (standardisation inside the graph)."""

    def __init__(self, net, mean, std) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    def forward(self, x):
        return self.net((x - self.mean) / self.std)


def save_teacher(
    out: Path, net, mean, std, features: list[str], classes: list[str]
) -> tuple[Path, Path]:
    import torch

    out.mkdir(parents=True, exist_ok=True)
    # (a) TorchScript + a sidecar naming columns and classes
    ts = out / "teacher.torchscript.pt"
    torch.jit.trace(Standardised(net, mean, std).eval(), torch.zeros(1, len(features))).save(
        str(ts)
    )
    (out / "teacher.json").write_text(
        json.dumps({"feature_names": features, "classes": classes}, indent=1)
    )
    # (b) state_dict + a sidecar with the architecture and the preprocessing
    sd_dir = out / "state_dict"
    sd_dir.mkdir(exist_ok=True)
    sd = sd_dir / "teacher.pt"
    torch.save(net.state_dict(), sd)
    (sd_dir / "teacher.json").write_text(
        json.dumps(
            {
                "format": "distill2rules.teacher/1",
                "architecture": {
                    "type": "mlp",
                    "layers": [len(features), 32, 16, 1],
                    "activation": "relu",
                },
                "feature_names": features,
                "classes": classes,
                "preprocessing": {
                    "numeric": [
                        {"feature": f, "mean": float(m), "scale": float(s)}
                        for f, m, s in zip(features, mean.tolist(), std.tolist())
                    ]
                },
            },
            indent=1,
        )
    )
    return ts, sd


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("runs/byo_torch"))
    ap.add_argument(
        "--small", action="store_true", default=bool(os.environ.get("DISTILL2RULES_EXAMPLE_SMALL"))
    )
    args = ap.parse_args(argv)

    # ---- part 1: your own training script (the data could come from anywhere)
    from distill2rules.data import load_dataset

    ds = load_dataset("breast_cancer")
    features = [c for c in ds.frame.columns if c != ds.target]
    classes = sorted(ds.frame[ds.target].astype(str).unique())
    y = (ds.frame[ds.target].astype(str) == classes[1]).to_numpy().astype("float32")
    net, mean, std = train_my_mlp(
        ds.frame[features].to_numpy("float32"), y, epochs=60 if args.small else 300
    )
    ts, sd = save_teacher(args.out / "teacher", net, mean, std, features, classes)
    print(f"saved TorchScript teacher {ts} and state_dict teacher {sd} (+ sidecar JSON)")

    # ---- part 2: distill with the Python API
    from distill2rules.pipeline import distill

    for path in (ts, sd):
        res = distill(
            path,
            "breast_cancer",
            student="logreg",
            temperature=2.0,
            seed=0,
            progress=False,
            out=args.out / f"logreg_from_{path.parent.name}",
            student_params={"max_terms": 8},
        )
        t = res.metrics["test"]
        print(
            f"{path.name:26s} teacher acc {t['teacher']['accuracy']:.3f} → logreg student acc "
            f"{t['student']['accuracy']:.3f}, fidelity {t['student']['fidelity']:.3f} "
            f"({res.metrics['size']['student']['parameters']} parameters vs {res.metrics['size']['teacher_parameters']})"
        )


if __name__ == "__main__":
    main()
