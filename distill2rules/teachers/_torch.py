"""PyTorch teachers: TorchScript archives, state_dicts with a sidecar JSON, trusted pickles.

Nothing here unpickles untrusted bytes: a state_dict is read by ``torch.load(weights_only=True)``
and a whole pickled module is refused (:class:`UnsafeFileError`) unless ``trust_pickle=True``.
TorchScript is code (``torch.jit.load`` compiles it and may run ``__setstate__``): it is vetted
against a tensor-math allowlist first (``_torch_check``) unless ``trust_code=True``.
"""

from __future__ import annotations

import threading
import warnings
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from distill2rules._optional import require
from distill2rules.errors import TeacherError, UnsafeFileError
from distill2rules.limits import PROBE_SECONDS
from distill2rules.teachers._base import Teacher, check_finite, logits_from_raw
from distill2rules.teachers._detect import check_zip_members
from distill2rules.teachers._plugin import Probe
from distill2rules.teachers._preprocess import PreprocessedInputs, Preprocessing
from distill2rules.teachers._sidecar import Sidecar
from distill2rules.teachers._torch_check import check_torchscript_archive, check_torchscript_graph

__all__ = ["ACTIVATIONS", "TorchTeacher", "build_mlp"]

#: activation name in the sidecar -> torch.nn module class name
ACTIVATIONS = {
    "relu": "ReLU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "gelu": "GELU",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "silu": "SiLU",
}
_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net", "module")


def build_mlp(layers: Sequence[int], activation: str = "relu") -> Any:
    """``nn.Sequential(Linear, act, Linear, act, ..., Linear)`` for widths ``layers``.

    Activations are ``nn.Module`` instances (``nn.ReLU``...), which SHAP's DeepExplainer needs.
    State-dict keys are ``"0.weight"``, ``"0.bias"``, ``"2.weight"``, ...
    """

    require("torch", purpose="PyTorch teachers")
    from torch import nn

    if activation not in ACTIVATIONS:
        raise TeacherError(
            f"unknown activation {activation!r};", hint="use one of " + ", ".join(ACTIVATIONS) + "."
        )
    act = getattr(nn, ACTIVATIONS[activation])
    mods: list[Any] = []
    for i in range(len(layers) - 1):
        mods.append(nn.Linear(int(layers[i]), int(layers[i + 1])))
        if i < len(layers) - 2:
            mods.append(act())
    return nn.Sequential(*mods)


def _one_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    return lines[0][:200] if lines else type(exc).__name__


class TorchTeacher(PreprocessedInputs, Teacher):
    """A PyTorch classifier plus its preprocessing.

    Attributes
    ----------
    module : torch.nn.Module
        Takes :meth:`transform` output (float32 ``[n, d_model]``) and returns the raw network
        output: ``[n, K]`` logits, or ``[n]`` / ``[n, 1]`` margin for a single-output binary net
        (``n_outputs == 1``). :meth:`logits_from_model_input` normalises it to ``[n, K]``.
    preprocessing : Preprocessing
        Raw columns -> model input (from the sidecar; pass-through without one).
    """

    attribution = "deep"  # shap.DeepExplainer (GradientExplainer fallback) on ``module``

    def __init__(
        self,
        module: Any,
        *,
        kind: str,
        source: str | Path,
        preprocessing: Preprocessing,
        classes: Sequence[Any] | None,
        n_classes: int,
        n_outputs: int,
        n_features_in: int | None,
        files: Sequence[str | Path] = (),
        info: dict[str, Any] | None = None,
    ) -> None:
        self.kind = kind
        super().__init__(
            source=source,
            feature_names=preprocessing.feature_names,
            classes=classes,
            n_classes=n_classes,
            n_features_in=n_features_in,
            n_outputs=n_outputs,
            files=files,
            info=info,
        )
        self.module = module
        self.preprocessing = preprocessing

    # ------------------------------------------------------------------ the interface

    def _raw_logits_from_model_input(self, Z: np.ndarray) -> np.ndarray:
        import torch

        Z = np.ascontiguousarray(Z, dtype=np.float32)
        if Z.ndim != 2:
            raise TeacherError(f"model input must be a 2-D array, got shape {Z.shape}.")
        with torch.inference_mode():
            out = self.module(torch.from_numpy(Z))
        if isinstance(out, (tuple, list)):
            out = out[0]
        if not isinstance(out, torch.Tensor):
            raise TeacherError(
                f"the torch model returned a {type(out).__name__}; expected a logits tensor."
            )
        return logits_from_raw(
            out.detach().double().cpu().numpy(), self.n_classes, what="torch teacher"
        )

    def logits_from_model_input(self, Z: np.ndarray) -> np.ndarray:
        return check_finite(self._raw_logits_from_model_input(Z))

    def n_parameters(self) -> int:
        """Number of scalar parameters (``numel``) of the network."""
        return int(sum(p.numel() for p in self.module.parameters()))


# ----------------------------------------------------------------------------- loaders


def _preprocessing(sidecar: Sidecar | None) -> Preprocessing:
    if sidecar is None or sidecar.feature_names is None:
        return Preprocessing()
    return Preprocessing.from_json(sidecar.feature_names, sidecar.preprocessing)


def _input_width(module: Any) -> int | None:
    """Input width guessed from the first 2-D parameter (a Linear layer's ``[out, in]``)."""
    for p in module.parameters():
        if p.dim() == 2:
            return int(p.shape[1])
    return None


_HARD_EXIT_REGISTERED = False


def _exit_hard_at_exit() -> None:
    global _HARD_EXIT_REGISTERED
    if _HARD_EXIT_REGISTERED:
        return
    _HARD_EXIT_REGISTERED = True
    import atexit
    import os
    import sys

    def hard_exit() -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001, S110 - best effort before _exit
                pass
        os._exit(2)

    atexit.register(hard_exit)


def call_with_time_limit(fn: Callable[[], Any], what: str) -> Any:
    """``fn()``, or a TeacherError once :data:`~distill2rules.limits.PROBE_SECONDS` have passed.

    torch cannot interrupt a running module, so ``fn`` runs in a daemon thread that is abandoned
    (not stopped) on timeout. C++ static destructors racing that thread at interpreter exit would
    abort the process, so once a probe has been abandoned the process ends with ``os._exit(2)``
    (after flushing stdout/stderr) instead of a normal exit.
    """

    seconds = PROBE_SECONDS.value()
    if seconds == float("inf"):
        return fn()
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["out"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["exc"] = exc

    worker = threading.Thread(target=target, name="distill2rules-probe", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        _exit_hard_at_exit()
        raise TeacherError(
            f"{what} did not finish within the {PROBE_SECONDS.what} limit ({seconds:g} s);",
            hint=f"raise it with the environment variable {PROBE_SECONDS.env} (0 = no limit) "
            "if you trust the model.",
        )
    if "exc" in box:
        raise box["exc"]
    return box["out"]


def _module_teacher(
    module: Any, *, kind: str, path: Path, sidecar: Sidecar | None, info: dict[str, Any]
) -> TorchTeacher:
    """Probe a loaded module with zeros to learn its input width and number of outputs."""
    import torch

    module.eval()
    prep = _preprocessing(sidecar)
    width = prep.n_model_inputs or _input_width(module)
    if width is None:
        raise TeacherError(
            f"cannot tell how many inputs {path.name} takes;",
            hint=f"add a sidecar JSON {path.with_suffix('.json').name} with 'feature_names'.",
        )

    def probe() -> Any:
        with torch.inference_mode():
            return module(torch.zeros(2, width, dtype=torch.float32))

    try:
        out = call_with_time_limit(probe, f"probing {path.name} at load")
        if isinstance(out, (tuple, list)):
            out = out[0]
        shape = tuple(out.shape)
    except TeacherError:
        raise
    except Exception as exc:
        raise TeacherError(
            f"{path.name} failed on a float32 input of shape [2, {width}] ({_one_line(exc)});",
            hint="the model must take [n, d] float32 features and return [n, K] logits.",
        ) from exc
    if len(shape) == 1 or (len(shape) == 2 and shape[1] == 1):
        n_outputs = 1
    elif len(shape) == 2:
        n_outputs = shape[1]
    else:
        raise TeacherError(
            f"{path.name} returned shape {list(shape)} for 2 rows; expected [n, K] logits."
        )
    n_classes = 2 if n_outputs == 1 else n_outputs
    classes = sidecar.classes if sidecar is not None else None
    if classes is not None and len(classes) != n_classes:
        raise TeacherError(
            f"sidecar {sidecar.path.name} lists {len(classes)} classes but {path.name} "  # type: ignore[union-attr]
            f"returns {n_outputs} score(s) per row."
        )
    files: list[Path] = [path] + ([sidecar.path] if sidecar is not None else [])
    info = {
        **info,
        "n_outputs": n_outputs,
        "output": "logits",
        "preprocessing": "sidecar" if prep.feature_names and not prep.is_identity else "none",
    }
    if sidecar is not None and sidecar.meta:
        info["meta"] = sidecar.meta
    n_in = len(prep.feature_names) if prep.feature_names else width
    return TorchTeacher(
        module,
        kind=kind,
        source=path,
        preprocessing=prep,
        classes=classes,
        n_classes=n_classes,
        n_outputs=n_outputs,
        n_features_in=n_in,
        files=files,
        info=info,
    )


def load_torchscript(path: Path, sidecar: Sidecar | None, trust_code: bool = False) -> TorchTeacher:
    """Load a TorchScript archive (``torch.jit.save``) after checking its member paths and,
    unless ``trust_code``, that its code is tensor math only (see ``_torch_check``)."""

    torch = require("torch", purpose="PyTorch teachers")

    if not zipfile.is_zipfile(path):
        raise TeacherError(
            f"{path.name} is not a TorchScript archive (not a zip file); it may be corrupted."
        )
    check_zip_members(path)
    if not trust_code:
        check_torchscript_archive(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            module = torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:
        raise TeacherError(
            f"torch.jit.load could not read {path.name} ({_one_line(exc)});",
            hint="the file may be corrupted: re-save it with torch.jit.save.",
        ) from exc
    if not trust_code:
        check_torchscript_graph(module, path)
    info = {"trusted_code": True} if trust_code else {}
    return _module_teacher(module, kind="torchscript", path=path, sidecar=sidecar, info=info)


def _unsafe_torch(path: Path) -> UnsafeFileError:
    return UnsafeFileError(
        f"{path.name} is a pickled PyTorch object (not a plain state_dict), which can run code "
        "when loaded;",
        hint="re-export it as TorchScript, a state_dict + sidecar JSON, or ONNX, "
        "or pass --trust-pickle if you trust its origin.",
    )


def _torch_load(path: Path, trust_pickle: bool) -> Any:
    import pickle

    import torch

    if zipfile.is_zipfile(path):
        check_zip_members(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Detected pickle protocol 4..."
            return torch.load(str(path), weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as exc:
        if "weights only load failed" not in str(exc).lower():
            raise TeacherError(
                f"PyTorch could not read {path.name} ({_one_line(exc)}); it may be corrupted."
            ) from exc
        if not trust_pickle:
            raise _unsafe_torch(path) from None
    except Exception as exc:
        raise TeacherError(
            f"PyTorch could not read {path.name} ({_one_line(exc)});",
            hint="the file may be truncated or corrupted.",
        ) from exc
    try:  # trusted by the caller
        return torch.load(str(path), weights_only=False, map_location="cpu")  # safe: trust_pickle
    except Exception as exc:
        raise TeacherError(f"PyTorch could not unpickle {path.name} ({_one_line(exc)}).") from exc


def _unwrap_state_dict(obj: Any, path: Path) -> dict[str, Any]:
    import torch

    if isinstance(obj, dict) and not all(isinstance(v, torch.Tensor) for v in obj.values()):
        for key in _WRAPPER_KEYS:
            if isinstance(obj.get(key), dict):
                return _unwrap_state_dict(obj[key], path)
    if (
        not isinstance(obj, dict)
        or not obj
        or not all(isinstance(v, torch.Tensor) for v in obj.values())
    ):
        raise TeacherError(
            f"{path.name} does not hold a state_dict (a mapping of parameter names to tensors);",
            hint="save it with torch.save(model.state_dict(), path).",
        )
    return dict(obj)


def _check_architecture(arch: dict[str, Any], sidecar: Sidecar) -> tuple[list[int], str]:
    name = sidecar.path.name
    if arch.get("type", "mlp") != "mlp":
        raise TeacherError(
            f"sidecar {name}: architecture type {arch.get('type')!r} is not supported; use 'mlp'."
        )
    layers = arch.get("layers")
    if (
        not isinstance(layers, list)
        or len(layers) < 2
        or not all(isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in layers)
    ):
        raise TeacherError(
            f"sidecar {name}: architecture.layers must be a list of >= 2 positive ints [d_in, "
            "..., K]."
        )
    return layers, str(arch.get("activation", "relu"))


def _load_weights(net: Any, state: dict[str, Any], layers: list[int], path: Path) -> None:
    expected = net.state_dict()
    exp_shapes = [tuple(t.shape) for t in expected.values()]
    if set(state) == set(expected) and all(
        tuple(state[k].shape) == tuple(v.shape) for k, v in expected.items()
    ):
        net.load_state_dict(state, strict=True)
        return
    got_shapes = [tuple(t.shape) for t in state.values()]
    if got_shapes == exp_shapes:  # same layers under other names: match by order
        net.load_state_dict(dict(zip(expected.keys(), state.values())), strict=True)
        return
    raise TeacherError(
        f"{path.name} holds tensors of shapes {got_shapes[:6]} that do not fit "
        f"architecture.layers {layers} "
        f"(expected {exp_shapes[:6]}).",
    )


def load_state_dict(path: Path, sidecar: Sidecar | None, trust_pickle: bool) -> TorchTeacher:
    """Load ``torch.save(model.state_dict())`` + sidecar JSON, or a trusted pickled module."""
    import torch

    obj = _torch_load(path, trust_pickle)
    if isinstance(obj, torch.nn.Module):  # only reachable with trust_pickle=True
        return _module_teacher(
            obj, kind="pickle", path=path, sidecar=sidecar, info={"trusted_pickle": True}
        )
    state = _unwrap_state_dict(obj, path)
    if sidecar is None or sidecar.architecture is None:
        raise TeacherError(
            f"{path.name} is a PyTorch state_dict, which needs a sidecar JSON describing the "
            "network;",
            hint=f"write {path.with_suffix('.json').name} with 'architecture', 'feature_names' and "
            "'preprocessing' (see docs/teachers.md).",
        )
    layers, activation = _check_architecture(sidecar.architecture, sidecar)
    prep = _preprocessing(sidecar)
    if prep.n_model_inputs is not None and prep.n_model_inputs != layers[0]:
        raise TeacherError(
            f"sidecar {sidecar.path.name}: architecture.layers starts with {layers[0]} inputs "
            "but the "
            f"features and preprocessing give {prep.n_model_inputs} model inputs."
        )
    net = build_mlp(layers, activation)
    _load_weights(net, state, layers, path)
    net.eval()
    n_outputs = layers[-1]
    n_classes = 2 if n_outputs == 1 else n_outputs
    if sidecar.classes is not None and len(sidecar.classes) != n_classes:
        raise TeacherError(
            f"sidecar {sidecar.path.name} lists {len(sidecar.classes)} classes but the network has "
            f"{n_outputs} output(s)."
        )
    info: dict[str, Any] = {
        "architecture": {"type": "mlp", "layers": layers, "activation": activation},
        "n_outputs": n_outputs,
        "output": "logits",
        "preprocessing": "none" if prep.is_identity else "sidecar",
    }
    if sidecar.meta:
        info["meta"] = sidecar.meta
    return TorchTeacher(
        net,
        kind="torch_state_dict",
        source=path,
        preprocessing=prep,
        classes=sidecar.classes,
        n_classes=n_classes,
        n_outputs=n_outputs,
        n_features_in=len(prep.feature_names) if prep.feature_names else layers[0],
        files=[path, sidecar.path],
        info=info,
    )


# ----------------------------------------------------------------------------- the format plug-ins

TORCH_SUFFIXES = frozenset({".pt", ".pth", ".ckpt"})


def sniff_torchscript(probe: Probe) -> bool:
    """A zip archive with ``constants.pkl`` or ``code/`` members (``torch.jit.save``)."""
    inner = probe.zip_inner
    return probe.is_zip and ("constants.pkl" in inner or any(n.startswith("code/") for n in inner))


def sniff_torch_state_dict(probe: Probe) -> bool:
    """A zip archive with ``data.pkl`` (``torch.save``), or a legacy pickle named ``.pt``/``.pth``."""
    if probe.is_zip:
        return "data.pkl" in probe.zip_inner
    return probe.is_pickle and probe.suffix in TORCH_SUFFIXES


def misfit_torch(probe: Probe) -> TeacherError | None:
    if probe.is_zip and probe.suffix == ".pt2":
        return TeacherError(
            f"{probe.path.name} looks like a torch.export archive, which is not supported;",
            hint=(
                "save the model with torch.jit.save, or as a state_dict with a sidecar "
                "JSON, or as ONNX."
            ),
        )
    if not probe.is_zip and probe.suffix in TORCH_SUFFIXES:
        return TeacherError(
            f"{probe.path.name} is not a valid PyTorch file (neither a zip archive nor a pickle);",
            hint="it may be truncated or corrupted: re-save it with torch.jit.save or torch.save.",
        )
    return None


def load_torchscript_file(
    path: Path, sidecar: Sidecar | None, *, trust_pickle: bool = False, trust_code: bool = False
) -> TorchTeacher:
    """The ``torchscript`` format's loader (code outside the allowlist needs ``trust_code``)."""
    return load_torchscript(path, sidecar, trust_code)


def load_state_dict_file(
    path: Path, sidecar: Sidecar | None, *, trust_pickle: bool = False, trust_code: bool = False
) -> TorchTeacher:
    """The ``torch_state_dict`` format's loader (a pickled module needs ``trust_pickle``)."""
    return load_state_dict(path, sidecar, trust_pickle)
