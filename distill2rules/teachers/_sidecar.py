"""The sidecar JSON that travels next to a teacher file (``model.pt`` -> ``model.json``).

Schema (``"format": "distill2rules.teacher/1"``; every key optional except where a format
needs it)::

    {
      "format": "distill2rules.teacher/1",
      "architecture": {"type": "mlp", "layers": [d_in, 512, ..., K], "activation": "relu"},
      "feature_names": ["age", "workclass", ...],
      "classes": ["<=50K", ">50K"],
      "preprocessing": {
        "numeric": [{"feature": "age", "mean": 38.6, "scale": 13.6, "impute": 37.0}],
        "categorical": [{"feature": "workclass", "categories": ["Federal-gov", ...]}]
      },
      "output": "logits" | "probabilities",      (ONNX: what the output holds)
      "output_name": "probabilities",            (ONNX: which output to read)
      "meta": {...}
    }
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distill2rules.errors import TeacherError
from distill2rules.limits import SIDECAR_BYTES, read_capped

__all__ = [
    "SIDECAR_FORMAT",
    "Sidecar",
    "find_sidecar",
    "read_sidecar",
    "sidecar_candidates",
    "write_sidecar",
]

SIDECAR_FORMAT = "distill2rules.teacher/1"
_KNOWN_KEYS = {
    "format",
    "architecture",
    "feature_names",
    "classes",
    "preprocessing",
    "output",
    "output_name",
    "meta",
}
_OUTPUTS = ("logits", "probabilities")


@dataclass
class Sidecar:
    """A parsed sidecar JSON."""

    path: Path
    feature_names: list[str] | None = None
    classes: list[Any] | None = None
    preprocessing: dict[str, Any] | None = None
    architecture: dict[str, Any] | None = None
    output: str | None = None
    output_name: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def sidecar_candidates(model_path: str | Path) -> list[Path]:
    """Where a sidecar may sit: ``<stem>.json``, then ``<name up to the first dot>.json``.

    ``model.torchscript.pt`` -> ``model.torchscript.json``, then ``model.json``.
    """
    p = Path(model_path)
    out = [p.with_suffix(".json")]
    base = p.with_name(p.name.split(".", 1)[0] + ".json")
    if base not in out:
        out.append(base)
    return [c for c in out if c != p]


def _looks_like_sidecar(data: Any) -> bool:
    return isinstance(data, dict) and (
        data.get("format") == SIDECAR_FORMAT
        or "format" not in data
        and bool(_KNOWN_KEYS & set(data))
        and "learner" not in data
    )


def find_sidecar(model_path: str | Path, explicit: str | Path | None = None) -> Sidecar | None:
    """The sidecar of ``model_path`` (or ``explicit``), or ``None`` if there is none.

    A JSON file next to the model that is clearly something else (no known keys) is ignored.
    """
    if explicit is not None:
        if not Path(explicit).is_file():
            raise TeacherError(f"sidecar JSON {explicit} does not exist.")
        return read_sidecar(explicit)
    for cand in sidecar_candidates(model_path):
        if cand.exists() and not cand.is_dir():
            data = _load_json(cand)
            if _looks_like_sidecar(data):
                return parse_sidecar(data, cand)
    return None


def read_sidecar(path: str | Path) -> Sidecar:
    """Read and validate a sidecar JSON file."""
    path = Path(path)
    return parse_sidecar(_load_json(path), path)


def _load_json(path: Path) -> Any:
    """A sidecar's JSON: a regular file within ``DISTILL2RULES_MAX_SIDECAR_BYTES``."""
    raw = read_capped(
        path,
        SIDECAR_BYTES,
        TeacherError,
        "sidecar JSON",
        "Pass the sidecar as a regular file (see docs/teachers.md).",
    )
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TeacherError(f"sidecar {path.name} is not valid JSON ({_one_line(exc)}).") from exc
    except RecursionError:
        raise TeacherError(f"sidecar {path.name} is not valid JSON (nested too deeply).") from None


def parse_sidecar(data: Any, path: Path) -> Sidecar:
    """Validate the sidecar's keys and types."""
    name = path.name
    if not isinstance(data, dict):
        raise TeacherError(f"sidecar {name} must hold a JSON object.")
    fmt = data.get("format", SIDECAR_FORMAT)
    if fmt != SIDECAR_FORMAT:
        raise TeacherError(f"sidecar {name} has format {fmt!r}; expected {SIDECAR_FORMAT!r}.")
    names = data.get("feature_names")
    if names is not None and (
        not isinstance(names, list) or not all(isinstance(n, str) for n in names)
    ):
        raise TeacherError(f"sidecar {name}: 'feature_names' must be a list of strings.")
    if names is not None and len(set(names)) != len(names):
        raise TeacherError(f"sidecar {name}: 'feature_names' has duplicates.")
    classes = data.get("classes")
    if classes is not None and (not isinstance(classes, list) or len(classes) < 2):
        raise TeacherError(f"sidecar {name}: 'classes' must be a list of at least 2 labels.")
    arch = data.get("architecture")
    if arch is not None and not isinstance(arch, dict):
        raise TeacherError(f"sidecar {name}: 'architecture' must be a JSON object.")
    prep = data.get("preprocessing")
    if prep is not None and not isinstance(prep, dict):
        raise TeacherError(f"sidecar {name}: 'preprocessing' must be a JSON object.")
    if prep and names is None:
        raise TeacherError(f"sidecar {name} gives 'preprocessing' but no 'feature_names'.")
    output = data.get("output")
    if output is not None and output not in _OUTPUTS:
        raise TeacherError(
            f"sidecar {name}: 'output' must be 'logits' or 'probabilities', got {output!r}."
        )
    output_name = data.get("output_name")
    if output_name is not None and not isinstance(output_name, str):
        raise TeacherError(f"sidecar {name}: 'output_name' must be a string.")
    meta = data.get("meta") or {}
    return Sidecar(
        path=path,
        feature_names=names,
        classes=classes,
        preprocessing=prep,
        architecture=arch,
        output=output,
        output_name=output_name,
        meta=dict(meta) if isinstance(meta, dict) else {},
    )


def write_sidecar(path: str | Path, data: dict[str, Any]) -> Path:
    """Write ``data`` (with the format key first) as an indented JSON file."""
    path = Path(path)
    payload = {"format": SIDECAR_FORMAT, **{k: v for k, v in data.items() if k != "format"}}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
