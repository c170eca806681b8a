"""Resident-memory cost of loading one model, run in a fresh process by ``size.py``.

Usage: python _rss_probe.py {onnx|lightgbm|torch} PATH  → prints JSON ``{"rss_delta_bytes": ...}``.
The runtime (onnxruntime, lightgbm, torch) is imported *before* the baseline reading, so the
delta is the model: weights, session structures and one warm-up inference's buffers.
"""

from __future__ import annotations

import gc
import json
import sys

import numpy as np
import psutil


def _rss() -> int:
    gc.collect()
    return psutil.Process().memory_info().rss


def _onnx(path: str) -> None:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    before = _rss()
    sess = ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])
    feeds = {}
    for i in sess.get_inputs():
        shape = [1 if not isinstance(d, int) else d for d in i.shape]
        feeds[i.name] = (
            np.full(shape, "", dtype=object)
            if "string" in i.type
            else np.zeros(shape, dtype=np.float64 if "double" in i.type else np.float32)
        )
    sess.run(None, feeds)
    print(json.dumps({"rss_delta_bytes": _rss() - before}))


def _teacher(path: str, kind: str) -> None:
    if kind == "lightgbm":
        import lightgbm  # noqa: F401
    else:
        import torch  # noqa: F401
    import distill2rules.teachers._lightgbm
    import distill2rules.teachers._torch  # noqa: F401
    from distill2rules.teachers import load_teacher

    before = _rss()
    t = load_teacher(path)
    t.logits_from_model_input(np.zeros((1, len(t.model_input_names)), dtype=np.float32))
    print(json.dumps({"rss_delta_bytes": _rss() - before}))


if __name__ == "__main__":
    mode, path = sys.argv[1], sys.argv[2]
    _onnx(path) if mode == "onnx" else _teacher(path, mode)
