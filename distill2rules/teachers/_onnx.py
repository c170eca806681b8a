"""ONNX teachers, run by onnxruntime.

The model must have one float input ``[n, d]``. Its output may be logits or probabilities:
probabilities (named ``*prob*``, or rows in [0, 1] summing to 1 on probe inputs, or declared
``"output": "probabilities"`` in the sidecar) are turned into log-probabilities, and
``describe()["output"]`` says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from distill2rules.errors import TeacherError
from distill2rules.teachers._base import (
    Teacher,
    check_finite,
    logits_from_probabilities,
    logits_from_raw,
)
from distill2rules.teachers._onnx_check import check_onnx_model, run_with_time_limit
from distill2rules.teachers._plugin import Probe
from distill2rules.teachers._preprocess import PreprocessedInputs, Preprocessing
from distill2rules.teachers._sidecar import Sidecar

__all__ = ["OnnxTeacher"]

_FLOAT_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
}


def _one_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    return lines[0][:200] if lines else type(exc).__name__


def _static(dim: Any) -> int | None:
    return int(dim) if isinstance(dim, (int, np.integer)) and dim > 0 else None


@dataclass(frozen=True)
class _OutputKind:
    """What an ONNX teacher's output holds: how ``describe()`` names it, how it becomes logits."""

    description: str
    to_logits: Callable[..., np.ndarray]


#: ``OnnxTeacher.output_kind`` -> its handling
_OUTPUT_KINDS = {
    "logits": _OutputKind("logits", logits_from_raw),
    "probabilities": _OutputKind(
        "probabilities (converted to log-probabilities)", logits_from_probabilities
    ),
}


def _output_handling(kind: Any) -> _OutputKind:
    """The handling of output kind ``kind``; an unknown one is a TeacherError naming it."""
    handling = _OUTPUT_KINDS.get(kind) if isinstance(kind, str) else None
    if handling is None:
        raise TeacherError(
            f"unknown ONNX teacher output kind {kind!r};",
            hint="use " + " or ".join(map(repr, _OUTPUT_KINDS)) + " (sidecar key 'output').",
        )
    return handling


def _open_session(path: Path, trust_code: bool) -> Any:
    """An onnxruntime CPU session, after the model passed ``check_onnx_model``."""
    import onnxruntime as ort

    check_onnx_model(path, trust_code)  # custom domains, Loop/Scan: before onnxruntime runs it
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(
            str(path), sess_options=opts, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:
        raise TeacherError(
            f"onnxruntime could not load {path.name} ({_one_line(exc)});",
            hint="the file may be corrupted, or use an opset/IR version onnxruntime supports.",
        ) from exc


def _float_input(session: Any, path: Path) -> tuple[Any, Any]:
    """The model's one input (a float tensor ``[n, d]``) and its numpy dtype."""
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise TeacherError(
            f"{path.name} has {len(inputs)} inputs ({', '.join(i.name for i in inputs[:5])});",
            hint=(
                "a teacher ONNX model must take one float tensor [n, d] (export with a "
                "single input)."
            ),
        )
    inp = inputs[0]
    if inp.type not in _FLOAT_TYPES or len(inp.shape) != 2:
        raise TeacherError(
            f"{path.name} takes {inp.type} of shape {inp.shape};",
            hint="a teacher ONNX model must take one float tensor [n, d].",
        )
    return inp, _FLOAT_TYPES[inp.type]


def _model_width(prep: Preprocessing, inp: Any, path: Path) -> int | None:
    """Model input columns: from the sidecar's preprocessing, else the static input shape."""
    static = _static(inp.shape[1])
    if prep.n_model_inputs and static and prep.n_model_inputs != static:
        raise TeacherError(
            f"{path.name} takes {inp.shape[1]} inputs but the sidecar's features and "
            "preprocessing give "
            f"{prep.n_model_inputs}."
        )
    return prep.n_model_inputs or static


def _probe(
    session: Any,
    input_name: str,
    dtype: Any,
    output_name: str,
    width: int,
    fixed_batch: int | None,
    path: Path,
) -> np.ndarray:
    """The output on a few fixed rows (zeros, ones, seeded normals) of a ``fixed_batch``."""
    rng = np.random.default_rng(0)
    rows = np.vstack([np.zeros((1, width)), np.ones((1, width)), rng.standard_normal((6, width))])
    if fixed_batch is not None:
        rows = (
            rows[:fixed_batch]
            if fixed_batch <= len(rows)
            else np.resize(rows, (fixed_batch, width))
        )
    try:
        out = run_with_time_limit(
            session, [output_name], {input_name: rows.astype(dtype)}, f"probing {path.name} at load"
        )
        return np.asarray(out[0], dtype=np.float64)
    except TeacherError:
        raise
    except Exception as exc:
        raise TeacherError(
            f"{path.name} failed on a float input of shape [{len(rows)}, {width}] "
            f"({_one_line(exc)})."
        ) from exc


class OnnxTeacher(PreprocessedInputs, Teacher):
    """An ONNX classifier scored with onnxruntime.

    Attributes
    ----------
    session : onnxruntime.InferenceSession
    input_name, output_name : str
    output_kind : {"logits", "probabilities"}
    preprocessing : Preprocessing
    """

    kind = "onnx"

    def __init__(
        self,
        session: Any,
        *,
        source: str | Path,
        input_name: str,
        input_dtype: Any,
        output_name: str,
        output_kind: str,
        preprocessing: Preprocessing,
        classes: Sequence[Any] | None,
        n_classes: int,
        n_outputs: int,
        n_features_in: int | None,
        fixed_batch: int | None,
        files: Sequence[str | Path] = (),
        info: dict[str, Any] | None = None,
    ) -> None:
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
        self.session = session
        self.input_name = input_name
        self.input_dtype = input_dtype
        self.output_name = output_name
        _output_handling(output_kind)
        self.output_kind = output_kind
        self.preprocessing = preprocessing
        self._fixed_batch = fixed_batch
        self._n_params: int | None = None

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(
        cls, path: Path, sidecar: Sidecar | None = None, *, trust_code: bool = False
    ) -> OnnxTeacher:
        """Open ``path``, check its one float input, pick its output and probe it on a few rows
        to count the classes and tell logits from probabilities."""
        session = _open_session(path, trust_code)
        inp, dtype = _float_input(session, path)
        output = cls._pick_output(session, path, sidecar)
        prep = (
            Preprocessing.from_json(sidecar.feature_names, sidecar.preprocessing)
            if sidecar is not None and sidecar.feature_names is not None
            else Preprocessing()
        )
        width = _model_width(prep, inp, path)
        fixed_batch = _static(inp.shape[0])
        probe = None
        if width is not None:
            probe = _probe(session, inp.name, dtype, output.name, width, fixed_batch, path)
        n_outputs = cls._n_outputs(output, probe, path)
        kind = cls._output_kind(output.name, probe, n_outputs, sidecar)
        n_classes = 2 if n_outputs == 1 else n_outputs
        classes = sidecar.classes if sidecar is not None else None
        if classes is not None and len(classes) != n_classes:
            raise TeacherError(
                f"sidecar {sidecar.path.name} lists {len(classes)} classes but {path.name} "  # type: ignore[union-attr]
                f"returns {n_outputs} score(s) per row."
            )
        info: dict[str, Any] = {
            "output": _output_handling(kind).description,
            "onnx_input": inp.name,
            "onnx_output": output.name,
            "n_outputs": n_outputs,
            "preprocessing": "sidecar" if prep.feature_names and not prep.is_identity else "none",
        }
        if trust_code:
            info["trusted_code"] = True
        if sidecar is not None and sidecar.meta:
            info["meta"] = sidecar.meta
        files: list[Path] = [path] + ([sidecar.path] if sidecar is not None else [])
        return cls(
            session,
            source=path,
            input_name=inp.name,
            input_dtype=dtype,
            output_name=output.name,
            output_kind=kind,
            preprocessing=prep,
            classes=classes,
            n_classes=n_classes,
            n_outputs=n_outputs,
            n_features_in=len(prep.feature_names) if prep.feature_names else width,
            fixed_batch=fixed_batch,
            files=files,
            info=info,
        )

    @staticmethod
    def _pick_output(session: Any, path: Path, sidecar: Sidecar | None) -> Any:
        outputs = session.get_outputs()
        wanted = sidecar.output_name if sidecar is not None else None
        if wanted:
            for o in outputs:
                if o.name == wanted:
                    return o
            raise TeacherError(f"{path.name} has no output named {wanted!r}.")
        floats = [o for o in outputs if o.type in _FLOAT_TYPES]
        if not floats:
            raise TeacherError(
                f"{path.name} has no float tensor output "
                f"({', '.join(f'{o.name}: {o.type}' for o in outputs)});",
                hint=(
                    "export logits or probabilities as a tensor (for skl2onnx: "
                    "options={'zipmap': False})."
                ),
            )
        for key in ("logit", "prob"):
            named = [o for o in floats if key in o.name.lower()]
            if named:
                return named[0]
        return floats[0]

    @staticmethod
    def _n_outputs(output: Any, probe: np.ndarray | None, path: Path) -> int:
        shape = list(probe.shape) if probe is not None else list(output.shape)
        if len(shape) == 1:
            return 1
        if len(shape) == 2 and _static(shape[1]) is not None:
            return int(shape[1])
        raise TeacherError(
            f"cannot tell how many classes {path.name} scores (output shape {output.shape});",
            hint="add a sidecar JSON with 'feature_names' so the model can be probed.",
        )

    @staticmethod
    def _output_kind(
        name: str, probe: np.ndarray | None, n_outputs: int, sidecar: Sidecar | None
    ) -> str:
        if sidecar is not None and sidecar.output is not None:
            return sidecar.output
        if "logit" in name.lower():
            return "logits"
        if "prob" in name.lower():
            return "probabilities"
        if probe is not None and n_outputs >= 2 and probe.ndim == 2:
            in_range = bool(np.all((probe >= 0) & (probe <= 1)))
            if in_range and np.allclose(probe.sum(axis=1), 1.0, atol=1e-4):
                return "probabilities"
        return "logits"

    # ------------------------------------------------------------------ the interface

    def _run(self, Z: np.ndarray) -> np.ndarray:
        Z = np.ascontiguousarray(Z, dtype=self.input_dtype)
        if self._fixed_batch is None:
            return np.asarray(self.session.run([self.output_name], {self.input_name: Z})[0])
        b = self._fixed_batch
        parts = []
        for start in range(0, Z.shape[0], b):
            chunk = Z[start : start + b]
            pad = b - chunk.shape[0]
            if pad:
                chunk = np.vstack([chunk, np.zeros((pad, Z.shape[1]), dtype=Z.dtype)])
            out = np.asarray(self.session.run([self.output_name], {self.input_name: chunk})[0])
            parts.append(out[: b - pad])
        return np.concatenate(parts, axis=0) if parts else np.empty((0, self.n_outputs))

    def _raw_logits_from_model_input(self, Z: np.ndarray) -> np.ndarray:
        to_logits = _output_handling(self.output_kind).to_logits
        return to_logits(self._run(Z), self.n_classes, what="ONNX teacher")

    def logits_from_model_input(self, Z: np.ndarray) -> np.ndarray:
        return check_finite(self._raw_logits_from_model_input(Z))

    def n_parameters(self) -> int:
        """Total initializer elements; for tree-ensemble ops (no initializers), their node count."""
        if self._n_params is None:
            self._n_params = _count_onnx_parameters(Path(self.source))
        return self._n_params


def _count_onnx_parameters(path: Path) -> int:
    import onnx

    model = onnx.load_model(str(path), load_external_data=False)
    total = 0
    for init in model.graph.initializer:
        total += int(np.prod(list(init.dims))) if len(init.dims) else 1
    if total:
        return total
    for node in model.graph.node:
        if node.op_type.startswith("TreeEnsemble"):
            for attr in node.attribute:
                if attr.name in ("nodes_nodeids", "nodes_featureids"):
                    total += len(attr.ints)
                    break
    return total


# ----------------------------------------------------------------------------- the format plug-in


def sniff_onnx(probe: Probe) -> bool:
    """A ``.onnx`` file, or bytes that parse as an ONNX ModelProto with a graph."""
    if probe.is_zip:
        return False
    if probe.suffix == ".onnx":
        return True
    if not probe.head or probe.head[0] != 0x08:  # ModelProto field 1 (ir_version, varint)
        return False
    try:
        import onnx

        model = onnx.load_model(str(probe.path), load_external_data=False)
    except Exception:  # noqa: BLE001 - not parseable means "not ONNX"
        return False
    return model.ir_version > 0 and len(model.graph.node) > 0


def load_onnx(
    path: Path, sidecar: Sidecar | None, *, trust_pickle: bool = False, trust_code: bool = False
) -> OnnxTeacher:
    """The ``onnx`` format's loader (control flow and custom operators need ``trust_code``)."""
    return OnnxTeacher.load(path, sidecar, trust_code=trust_code)
