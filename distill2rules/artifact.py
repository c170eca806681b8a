"""The artifact directory: written atomically, described by a manifest, verifiable.

``write_artifact`` builds everything in a hidden sibling temp directory and renames it into
place, so an interrupted run (even SIGKILL) leaves the previous artifact or none, never a
half-written one. ``manifest.json`` records the sha256 of every file and the versions used;
``verify_artifact`` re-checks hashes, the spec and ONNX parity.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
from pathlib import Path
from typing import Any, Callable, Mapping

from distill2rules.errors import ArtifactError

MANIFEST = "manifest.json"
ARTIFACT_FORMAT = "distill2rules.artifact/1"
_VERSIONED = ("numpy", "pandas", "scikit-learn", "scipy", "interpret-core", "lightgbm", "torch", "onnx", "onnxruntime", "shap")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("distill2rules",) + _VERSIONED:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def _dump(obj: Any) -> str:
    from distill2rules.spec._format import _jsonable

    return json.dumps(_jsonable(obj), indent=1, sort_keys=True, allow_nan=False) + "\n"


def write_artifact(out_dir: str | Path, files: Mapping[str, str | bytes | Callable[[Path], None]],
                   manifest: Mapping[str, Any]) -> Path:
    """Write ``files`` (name → text, bytes, or a writer ``fn(path)``) plus a manifest, atomically.

    ``manifest`` gives the descriptive part (config, data, teacher); hashes and versions are added.
    Deterministic content: the manifest holds no timestamps, so identical inputs give identical files.
    """
    out = Path(out_dir).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        for name, content in files.items():
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if callable(content):
                content(path)
            elif isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        hashes = {p.relative_to(tmp).as_posix(): sha256_file(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
        full = {"format": ARTIFACT_FORMAT, **dict(manifest), "versions": versions(), "files": hashes}
        (tmp / MANIFEST).write_text(_dump(full), encoding="utf-8")
        _fsync_dir(tmp)
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        if out.exists():
            os.rename(out, old)
        os.rename(tmp, out)
        if old.exists():
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _fsync_dir(path: Path) -> None:
    for p in path.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())


def read_manifest(art_dir: str | Path) -> dict[str, Any]:
    d = Path(art_dir)
    if not d.is_dir():
        raise ArtifactError(f"no artifact directory at {d}.", hint="Run `distill2rules fit ... --out DIR` first.")
    m = d / MANIFEST
    if not m.is_file():
        raise ArtifactError(f"{d} has no {MANIFEST}; it is not a distill2rules artifact (or is incomplete).")
    try:
        return json.loads(m.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ArtifactError(f"{m} is not valid JSON; the artifact is corrupted.", hint="Re-run `distill2rules fit`.") from None


def load_spec(art_dir: str | Path) -> dict[str, Any]:
    from distill2rules import spec as spec_mod

    read_manifest(art_dir)
    return spec_mod.load(Path(art_dir) / "student.json")


def verify_artifact(art_dir: str | Path, *, n_parity_rows: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Check hashes, the spec, and ONNX parity. Returns a report; raises ArtifactError on any mismatch."""
    import numpy as np

    from distill2rules import spec as spec_mod

    d = Path(art_dir)
    manifest = read_manifest(d)
    problems: list[str] = []
    listed = manifest.get("files", {})
    for name, digest in sorted(listed.items()):
        p = d / name
        if not p.is_file():
            problems.append(f"{name} is missing")
        elif sha256_file(p) != digest:
            problems.append(f"{name} does not match its sha256 in the manifest")
    extra = sorted(p.relative_to(d).as_posix() for p in d.rglob("*") if p.is_file() and p.name != MANIFEST and p.relative_to(d).as_posix() not in listed)
    if extra:
        problems.append(f"unlisted file(s): {', '.join(extra[:5])}")
    report: dict[str, Any] = {"artifact": str(d), "files_checked": len(listed)}
    spec = None
    if not problems:
        try:
            spec = spec_mod.load(d / "student.json")
        except Exception as exc:  # noqa: BLE001 - reported as a problem
            problems.append(f"student.json: {exc}")
    if spec is not None and (d / "student.onnx").is_file():
        try:
            report["onnx_max_abs_diff"] = onnx_parity(spec, d / "student.onnx", manifest, n_rows=n_parity_rows, seed=seed)
            if report["onnx_max_abs_diff"] > 1e-5:
                problems.append(f"ONNX probabilities differ from the spec by {report['onnx_max_abs_diff']:.2e} (> 1e-5)")
        except Exception as exc:  # noqa: BLE001
            problems.append(f"student.onnx could not be checked: {exc}")
    report["problems"] = problems
    report["ok"] = not problems
    if problems:
        raise ArtifactError(f"artifact {d} failed verification: {'; '.join(problems)}.")
    return report


def parity_rows(spec: Mapping[str, Any], manifest: Mapping[str, Any] | None, n_rows: int, seed: int):
    """Random and adversarial raw rows for a spec (NaN, ±inf, huge values, unseen categories)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    num_cols = spec["inputs"]["numeric"]
    cat_cols = spec["inputs"]["categorical"]
    ranges = (manifest or {}).get("data", {}).get("numeric_ranges", {})
    cats = (manifest or {}).get("data", {}).get("categories", {})
    num = np.empty((n_rows, len(num_cols)), dtype=np.float32)
    for j, c in enumerate(num_cols):
        lo, hi = ranges.get(c, [-10.0, 10.0])
        span = (hi - lo) or 1.0
        num[:, j] = rng.uniform(lo - 0.1 * span, hi + 0.1 * span, n_rows)
        special = rng.random(n_rows)
        num[special < 0.03, j] = np.nan
        num[(special >= 0.03) & (special < 0.04), j] = np.inf
        num[(special >= 0.04) & (special < 0.05), j] = -np.inf
        num[(special >= 0.05) & (special < 0.06), j] = 3e38
    cat = np.empty((n_rows, len(cat_cols)), dtype=object)
    for j, c in enumerate(cat_cols):
        pool = list(cats.get(c, [])) or ["a", "b"]
        pool = pool + ["", "__unseen__"]
        cat[:, j] = rng.choice(np.asarray(pool, dtype=object), n_rows)
    return num, cat


def onnx_parity(spec: Mapping[str, Any], onnx_path: str | Path, manifest: Mapping[str, Any] | None = None, *,
                n_rows: int = 2000, seed: int = 0) -> float:
    """Max |Δp| between the ONNX graph (onnxruntime) and the spec on random + adversarial rows."""
    import numpy as np
    import onnxruntime as ort

    from distill2rules import spec as spec_mod

    num, cat = parity_rows(spec, manifest, n_rows, seed)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    feeds: dict[str, Any] = {}
    names = {i.name for i in sess.get_inputs()}
    if "numeric" in names:
        feeds["numeric"] = num
    if "categorical" in names:
        feeds["categorical"] = cat.astype(str)
    got = sess.run(["probabilities"], feeds)[0]
    want = spec_mod.evaluate(spec, numeric=num, categorical=cat)["probabilities"]
    return float(np.max(np.abs(got.astype(np.float64) - want))) if len(want) else 0.0


def update_artifact(art_dir: str | Path, files: Mapping[str, str | bytes | Callable[[Path], None]]) -> Path:
    """Add or replace files in an existing artifact, atomically, re-hashing the manifest."""
    d = Path(art_dir)
    manifest = read_manifest(d)
    current: dict[str, Any] = {}
    for name in manifest.get("files", {}):
        p = d / name
        if p.is_file():
            current[name] = p.read_bytes()
    current.update(files)
    descriptive = {k: v for k, v in manifest.items() if k not in ("format", "versions", "files")}
    return write_artifact(d, current, descriptive)
