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
    from distill2rules.spec import jsonable

    return json.dumps(jsonable(obj), indent=1, sort_keys=True, allow_nan=False) + "\n"


def write_artifact(out_dir: str | Path, files: Mapping[str, str | bytes | Callable[[Path], None]],
                   manifest: Mapping[str, Any]) -> Path:
    """Write ``files`` (name → text, bytes, or a writer ``fn(path)``) plus a manifest, atomically.

    ``manifest`` gives the descriptive part (config, data, teacher); hashes and versions are added.
    Deterministic content: the manifest holds no timestamps, so identical inputs give identical files.
    """
    out = Path(out_dir).resolve()
    check_out_dir(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _recover_interrupted(out)
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
        if not out.exists():
            os.rename(tmp, out)
        elif _exchange(tmp, out):  # one atomic syscall: `out` is always a complete artifact
            shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old artifact
        else:  # no renameat2: a two-rename window, repaired by _recover_interrupted
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            os.rename(out, old)
            os.rename(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        _fsync_entry(out.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def check_out_dir(out_dir: str | Path) -> None:
    """Refuse to replace an existing path that is not an artifact (a file, or a non-empty folder).

    ``fit``/``export`` replace an old artifact in place; this guards ``--out ~/Documents`` and
    the like from being swapped out and deleted.
    """
    out = Path(out_dir)
    if not out.exists():
        return
    if out.is_dir() and ((out / MANIFEST).is_file() or not any(out.iterdir())):
        return
    raise ArtifactError(f"{out} exists and is not a distill2rules artifact; refusing to replace it.",
                        hint="Choose a new --out directory (or remove that one yourself).")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _recover_interrupted(out: Path) -> None:
    """Clean up after a writer that was killed: drop its temp dir, restore an old artifact.

    Only siblings ``.<name>.tmp-<pid>`` / ``.<name>.old-<pid>`` of dead processes are touched.
    """
    for kind in ("old", "tmp"):
        for sib in sorted(out.parent.glob(f".{out.name}.{kind}-*")):
            pid = sib.name.rsplit("-", 1)[-1]
            if not pid.isdigit() or _pid_alive(int(pid)):
                continue
            if kind == "old" and not out.exists() and (sib / MANIFEST).is_file():
                os.rename(sib, out)  # killed between the two renames: the old artifact is complete
            else:
                shutil.rmtree(sib, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing paths (Linux ``renameat2(RENAME_EXCHANGE)``); False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes
    import errno

    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _fsync_entry(directory: Path) -> None:
    """Make a rename inside ``directory`` durable (best effort; not all systems allow it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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
        manifest = json.loads(m.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ArtifactError(f"{m} is not valid JSON; the artifact is corrupted.", hint="Re-run `distill2rules fit`.") from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        raise ArtifactError(f"{m} has no 'files' table; the artifact is corrupted.", hint="Re-run `distill2rules fit`.")
    for name in files:
        if not _safe_member(name):
            raise ArtifactError(f"{m} lists a file outside the artifact ({name!r}); refusing to read it.",
                                hint="Re-run `distill2rules fit`; do not use artifacts of unknown origin.")
    return manifest


def _safe_member(name: Any) -> bool:
    """A manifest entry must be a relative path that stays inside the artifact directory."""
    from pathlib import PurePosixPath

    if not isinstance(name, str) or not name or "\\" in name or "\x00" in name:
        return False
    parts = PurePosixPath(name).parts
    return not name.startswith("/") and ".." not in parts and not (len(name) > 1 and name[1] == ":")


def load_spec(art_dir: str | Path) -> dict[str, Any]:
    from distill2rules import spec as spec_mod

    read_manifest(art_dir)
    return spec_mod.load(Path(art_dir) / "student.json")


def verify_artifact(art_dir: str | Path, *, n_parity_rows: int = 10_000, seed: int = 0) -> dict[str, Any]:
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
            from distill2rules.exporters.onnx import check_onnx_parity

            parity = check_onnx_parity(d / "student.onnx", spec, n_rows=n_parity_rows, random_state=seed)
            report["onnx_parity"] = parity.to_dict()
            report["onnx_max_abs_diff"] = parity.max_abs_probability
            if not parity.ok:
                problems.append(f"student.onnx disagrees with student.json (max |dp| = {parity.max_abs_probability:.2e}, "
                                f"{parity.label_mismatches} label mismatches)")
        except Exception as exc:  # noqa: BLE001 - reported as a problem
            problems.append(f"student.onnx could not be checked: {exc}")
    report["problems"] = problems
    report["ok"] = not problems
    if problems:
        raise ArtifactError(f"artifact {d} failed verification: {'; '.join(problems)}.")
    return report


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
