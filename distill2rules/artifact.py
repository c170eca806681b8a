"""The artifact directory: written atomically, described by a manifest, verifiable.

``write_artifact`` builds everything in a hidden sibling temp directory and renames it into
place, so an interrupted run (even SIGKILL) leaves the previous artifact or none, never a
half-written one. ``manifest.json`` records the sha256 of every file and the versions used.

Every reader checks the hashes first (:func:`check_hashes`, :func:`load_spec`) and refuses a
changed artifact; :func:`update_artifact` never re-blesses one. :func:`verify_artifact` adds
cross-part consistency (classes, inputs, adverse class, calibration), ONNX parity and, with a
key, an HMAC-SHA256 signature (:func:`sign_artifact`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from distill2rules.errors import ArtifactError
from distill2rules.exporters import get_exporter
from distill2rules.exporters.onnx import check_onnx_parity
from distill2rules.spec import from_json, jsonable, to_category_strings, to_json

MANIFEST = "manifest.json"
ARTIFACT_FORMAT = "distill2rules.artifact/1"
KNOWN_FORMATS = (ARTIFACT_FORMAT,)  # manifests this version may replace or read
MAX_MANIFEST_BYTES = 64 << 20
_VERSIONED = (
    "numpy",
    "pandas",
    "scikit-learn",
    "scipy",
    "interpret-core",
    "lightgbm",
    "torch",
    "onnx",
    "onnxruntime",
    "shap",
)


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


def dump_json(obj: Any) -> str:
    """The artifact's JSON text of ``obj`` (sorted keys, one-space indent, no NaN)."""
    return _dump(obj)


def _dump(obj: Any) -> str:
    return json.dumps(jsonable(obj), indent=1, sort_keys=True, allow_nan=False) + "\n"


class Carried:
    """A file carried over unchanged from the artifact being replaced: hard-linked into the new
    one (copied where links are not possible), with the sha256 its manifest already checked."""

    def __init__(self, source: Path, digest: str) -> None:
        self.source, self.digest = Path(source), digest

    def place(self, path: Path) -> None:
        try:
            os.link(self.source, path)
        except OSError:
            shutil.copyfile(self.source, path)
        if (
            sha256_file(path) != self.digest
        ):  # changed since its hash was checked: refuse, never re-bless
            raise ArtifactError(
                f"{self.source} changed while the artifact was being updated; refusing to use it.",
                hint="Re-run the command (or `distill2rules fit`).",
            )


FileContent = str | bytes | Callable[[Path], None] | Carried


def write_artifact(
    out_dir: str | Path, files: Mapping[str, FileContent], manifest: Mapping[str, Any]
) -> Path:
    """Write ``files`` (name → text, bytes, a writer ``fn(path)`` or a :class:`Carried` file) plus a
    manifest, atomically.

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
        known: dict[str, str] = {}
        for name, content in files.items():
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Carried):
                content.place(path)
                known[name] = content.digest
            elif callable(content):
                content(path)
            elif isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        hashes = {}
        for p in sorted(tmp.rglob("*")):
            if p.is_file():
                rel = p.relative_to(tmp).as_posix()
                hashes[rel] = known.get(rel) or sha256_file(p)
        full = {
            "format": ARTIFACT_FORMAT,
            **dict(manifest),
            "versions": versions(),
            "files": hashes,
        }
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


class ArtifactBuilder:
    """Collects an artifact's files and the descriptive part of its manifest, then writes them
    once (:func:`write_artifact`: temp dir, hashes, one rename).

    >>> b = ArtifactBuilder({"config": {"seed": 0}})        # doctest: +SKIP
    >>> b.add_json("metrics.json", {"accuracy": 0.9})       # doctest: +SKIP
    >>> b.write("runs/credit")                              # doctest: +SKIP
    """

    def __init__(self, manifest: Mapping[str, Any] | None = None) -> None:
        self.files: dict[str, FileContent] = {}
        self.manifest: dict[str, Any] = dict(manifest or {})

    def add(self, name: str, content: FileContent) -> ArtifactBuilder:
        self.files[name] = content
        return self

    def add_json(self, name: str, obj: Any) -> ArtifactBuilder:
        """``obj`` as deterministic JSON (sorted keys, :func:`distill2rules._json.jsonable`)."""
        return self.add(name, _dump(obj))

    def add_spec(self, name: str, spec: Mapping[str, Any]) -> ArtifactBuilder:
        return self.add(name, to_json(spec))

    def write(self, out_dir: str | Path) -> Path:
        return write_artifact(out_dir, self.files, self.manifest)


def exporter_files(name: str, spec: Mapping[str, Any], **context: Any) -> dict[str, str | bytes]:
    """The artifact files of the exporter registered as ``name`` (``onnx``, ``rulecard``, ...:
    :data:`distill2rules.exporters.EXPORTERS`); ``context`` as in ``Exporter.write_files``."""
    return get_exporter(name).write_files(spec, **context)


def data_profile(frame: Any, schema: Any, target: str) -> dict[str, Any]:
    """Numeric ranges and category lists of the training data (for parity rows and rule cards)."""
    import numpy as np
    import pandas as pd

    ranges, cats = {}, {}
    for c in frame.columns:
        if c == target:
            continue
        if c in set(schema.categorical_columns):
            vals = [
                v
                for v in pd.unique(to_category_strings(frame[c].to_numpy(dtype=object)))
                if v != ""
            ]
            cats[c] = sorted(map(str, vals))[:200]
        else:
            x = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float)
            x = x[np.isfinite(x)]
            if x.size:
                ranges[c] = [float(x.min()), float(x.max())]
    return {"numeric_ranges": ranges, "categories": cats}


def fit_artifact(
    spec: Mapping[str, Any],
    *,
    metrics: Mapping[str, Any],
    schema: Mapping[str, Any],
    data: Mapping[str, Any],
    teacher: Mapping[str, Any],
    config: Mapping[str, Any],
    n_rows: Mapping[str, int],
    baseline_spec: Mapping[str, Any] | None = None,
    export_onnx: bool = True,
    evaluation: Any = None,
) -> ArtifactBuilder:
    """The files of ``fit``'s artifact: ``student.json``, ``baseline.json``, ``metrics.json``,
    ``schema.json``, ``student.onnx``, the rule cards, and the manifest's ``config`` / ``data`` /
    ``teacher`` (``data``: name, source, target, rows, profile, fingerprint and split record).

    ``evaluation`` (an ``evaluate`` result made in memory, ``fit --report``) is added as
    ``evaluation.json`` and shown on the rule cards.
    """
    b = ArtifactBuilder({"config": dict(config), "data": dict(data), "teacher": dict(teacher)})
    b.add_spec("student.json", spec).add_json("metrics.json", metrics).add_json(
        "schema.json", schema
    )
    if baseline_spec is not None:
        b.add_spec("baseline.json", baseline_spec)
    if export_onnx:
        for name, content in exporter_files("onnx", spec).items():
            b.add(name, content)
    provenance = {
        "teacher": dict(teacher),
        "dataset": data.get("name"),
        "target": data.get("target"),
        "n_rows": dict(n_rows),
        **{k: v for k, v in config.items() if k != "student_params"},
    }
    if evaluation is not None:
        b.add_json("evaluation.json", evaluation)
    cards = exporter_files(
        "rulecard",
        spec,
        metrics=metrics,
        provenance=provenance,
        evaluation=evaluation,
        strict=False,
    )
    for name, content in cards.items():
        b.add(name, content)
    return b


def check_out_dir(out_dir: str | Path) -> None:
    """Refuse to replace an existing path that is not one of our artifacts.

    ``fit``/``export`` replace an old artifact in place; anything else is refused and nothing is
    deleted: a file or device, a non-empty folder without a manifest, a folder whose
    ``manifest.json`` is not ours (another format key or version: web extensions and PWAs have
    one too), or whose file list does not match the folder's contents (extra, missing or
    non-regular files).
    """
    out = Path(out_dir)
    if not out.exists() and not out.is_symlink():
        return
    problem = _foreign_reason(out)
    if problem is None:
        return
    raise ArtifactError(
        f"--out {out} exists and {problem}; refusing to replace it (nothing was deleted).",
        hint="Choose a new --out directory (or remove that one yourself).",
    )


def _foreign_reason(out: Path) -> str | None:
    """Why ``out`` is not a replaceable artifact directory, or None when it is (or is empty)."""
    if out.is_symlink() or not out.is_dir():
        return "is not a directory"
    entries = list(out.iterdir())
    if not entries:
        return None
    m = out / MANIFEST
    if m.is_symlink() or not m.is_file():
        return "is not a distill2rules artifact (no manifest.json)"
    try:
        if m.stat().st_size > MAX_MANIFEST_BYTES:
            return "has a manifest.json too large to be ours"
        manifest = json.loads(m.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return "has a manifest.json that is not ours (not valid JSON)"
    if not isinstance(manifest, dict) or manifest.get("format") not in KNOWN_FORMATS:
        fmt = manifest.get("format") if isinstance(manifest, dict) else None
        return f"has a manifest.json that is not a distill2rules artifact's (format {fmt!r})"
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(_safe_member(n) for n in files):
        return "has a manifest.json without a valid file list"
    listed = set(files)
    present: set[str] = set()
    for p in out.rglob("*"):
        rel = p.relative_to(out).as_posix()
        if p.is_symlink() or not (p.is_file() or p.is_dir()):
            return f"holds {rel}, which is not a regular file"
        if p.is_file() and rel != MANIFEST:
            present.add(rel)
        if p.is_dir() and not any(n.startswith(rel + "/") for n in listed):
            return f"holds a folder {rel}/ its manifest does not list"
    if present != listed:
        extra, missing = sorted(present - listed), sorted(listed - present)
        what = (
            f"files its manifest does not list ({', '.join(extra[:3])})"
            if extra
            else f"lacks files its manifest lists ({', '.join(missing[:3])})"
        )
        return f"is not (only) a distill2rules artifact: it has {what}"
    return None


def write_file(path: str | Path, content: str | bytes | Callable[[Path], None]) -> Path:
    """Write one output file atomically (temp file + rename), never renaming over a special file.

    An existing character device or FIFO (``--out /dev/stdout``) is written to directly; a
    directory, block device or socket is refused.
    """
    import stat

    out = Path(path)
    try:
        st = os.stat(out)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise ArtifactError(f"cannot write {out}: {exc.strerror}.") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        if stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
            if callable(content):
                content(out)
                return out
            if isinstance(content, bytes):
                with open(out, "wb") as fb:
                    fb.write(content)
            else:
                with open(out, "w", encoding="utf-8") as ft:
                    ft.write(content)
            return out
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise ArtifactError(
            f"--out {out} is {kind}; refusing to replace it.", hint="Pass a file path."
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        if callable(content):
            content(tmp)
        elif isinstance(content, bytes):
            tmp.write_bytes(content)
        else:
            tmp.write_text(content, encoding="utf-8")
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out


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
    for sib in _dead_siblings(out, "old"):
        if not out.exists() and (sib / MANIFEST).is_file():
            os.rename(sib, out)  # killed between the two renames: the old artifact is complete
        else:
            shutil.rmtree(sib, ignore_errors=True)
    for sib in _dead_siblings(out, "tmp"):
        shutil.rmtree(sib, ignore_errors=True)


def _dead_siblings(out: Path, role: str) -> Iterator[Path]:
    """Siblings ``.<name>.<role>-<pid>`` of ``out`` whose writer process is dead (sorted)."""
    for sib in sorted(out.parent.glob(f".{out.name}.{role}-*")):
        pid = sib.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _pid_alive(int(pid)):
            yield sib


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
        raise ArtifactError(
            f"no artifact directory at {d}.", hint="Run `distill2rules fit ... --out DIR` first."
        )
    m = d / MANIFEST
    if not m.is_file():
        raise ArtifactError(
            f"{d} has no {MANIFEST}; it is not a distill2rules artifact (or is incomplete)."
        )
    if m.stat().st_size > MAX_MANIFEST_BYTES:
        raise ArtifactError(
            f"{m} is larger than {MAX_MANIFEST_BYTES >> 20} MB; it is not a manifest this version wrote."
        )
    try:
        manifest = json.loads(m.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ArtifactError(
            f"{m} is not valid JSON; the artifact is corrupted.", hint="Re-run `distill2rules fit`."
        ) from None
    if isinstance(manifest, dict) and manifest.get("format") not in KNOWN_FORMATS:
        raise ArtifactError(
            f"{m} is not a distill2rules artifact manifest (format {manifest.get('format')!r}; "
            f"this version reads {ARTIFACT_FORMAT!r}).",
            hint="Re-run `distill2rules fit`.",
        )
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        raise ArtifactError(
            f"{m} has no 'files' table; the artifact is corrupted.",
            hint="Re-run `distill2rules fit`.",
        )
    for name in files:
        if not _safe_member(name):
            raise ArtifactError(
                f"{m} lists a file outside the artifact ({name!r}); refusing to read it.",
                hint="Re-run `distill2rules fit`; do not use artifacts of unknown origin.",
            )
    return manifest


def _safe_member(name: Any) -> bool:
    """A manifest entry must be a relative path that stays inside the artifact directory."""
    from pathlib import PurePosixPath

    if not isinstance(name, str) or not name or "\\" in name or "\x00" in name:
        return False
    parts = PurePosixPath(name).parts
    return not name.startswith("/") and ".." not in parts and not (len(name) > 1 and name[1] == ":")


# ============================================================================ integrity


def _hash_problems(d: Path, manifest: Mapping[str, Any]) -> list[str]:
    """Missing, modified, unlisted or non-regular files of the artifact (empty list: all intact)."""
    problems: list[str] = []
    listed = manifest.get("files", {})
    for name, digest in sorted(listed.items()):
        p = d / name
        if p.is_symlink() or not p.is_file():
            problems.append(
                f"{name} is missing" if not p.exists() else f"{name} is not a regular file"
            )
        elif sha256_file(p) != digest:
            problems.append(f"{name} does not match its sha256 in the manifest")
    extra = []
    for p in sorted(d.rglob("*")):
        rel = p.relative_to(d).as_posix()
        if rel == MANIFEST or rel in listed or (p.is_dir() and not p.is_symlink()):
            continue
        extra.append(rel)
    if extra:
        problems.append(f"unlisted file(s): {', '.join(extra[:5])}")
    return problems


def check_hashes(art_dir: str | Path) -> dict[str, Any]:
    """The manifest, after checking that every file is exactly the one it lists (no more, no less).

    Every command that reads an artifact calls this first, so a file edited after ``fit`` (even
    with a re-hashed manifest, which :func:`verify_artifact` catches through cross-part checks)
    is refused rather than silently used or re-blessed.

    Raises
    ------
    ArtifactError
        A missing, modified, unlisted or non-regular file.
    """
    d = Path(art_dir)
    manifest = read_manifest(d)
    problems = _hash_problems(d, manifest)
    if problems:
        raise ArtifactError(
            f"artifact {d} was changed after it was written ({'; '.join(problems[:3])}); refusing to use it.",
            hint="Re-run `distill2rules fit` (`distill2rules verify DIR` lists every problem).",
        )
    return manifest


def read_member(art_dir: str | Path, manifest: Mapping[str, Any], name: str) -> bytes:
    """The bytes of one listed file, checked against the manifest's sha256 as they are read."""
    p = Path(art_dir) / name
    digest = manifest.get("files", {}).get(name)
    if digest is None:
        raise ArtifactError(
            f"{Path(art_dir)} has no {name} in its manifest.", hint="Re-run `distill2rules fit`."
        )
    data = p.read_bytes()
    if hashlib.sha256(data).hexdigest() != digest:
        raise ArtifactError(
            f"{p} does not match its sha256 in the manifest; refusing to use it.",
            hint="Re-run `distill2rules fit` (`distill2rules verify DIR` lists every problem).",
        )
    return data


def load_spec(art_dir: str | Path) -> dict[str, Any]:
    """The student spec of an artifact, after checking every file's hash (tampered → ArtifactError)."""
    manifest = check_hashes(art_dir)
    return from_json(read_member(art_dir, manifest, "student.json").decode("utf-8"))


def _json_member(d: Path, manifest: Mapping[str, Any], name: str) -> Any:
    try:
        return json.loads(read_member(d, manifest, name).decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ArtifactError(f"{name} is not valid JSON.") from None


def _canon(obj: Any) -> str:
    return json.dumps(jsonable(obj), sort_keys=True, allow_nan=False, default=str)


def _inputs_of(obj: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    inp = obj.get("inputs") or {}
    return [str(c) for c in inp.get("numeric", [])], [str(c) for c in inp.get("categorical", [])]


def consistency_problems(
    art_dir: str | Path, manifest: Mapping[str, Any], spec: Mapping[str, Any]
) -> list[str]:
    """Where the artifact's parts disagree with its spec: classes, inputs, adverse class, calibration.

    Checked against ``student.json``: ``metrics.json`` (classes, calibration), every ONNX graph's
    metadata (the embedded spec, classes, input columns) and probability width, ``baseline.json``
    (classes, inputs), ``rulecard.json`` (classes, adverse class, inputs, calibration),
    ``schema.json`` (every input is a column of the schema, the target is not an input) and the
    manifest (target, the teacher's classes, the configured adverse class).
    """
    d = Path(art_dir)
    files = manifest.get("files", {})
    e = _Expected.of(spec)
    p: list[str] = []
    if len(set(e.classes)) != len(e.classes) or len(e.classes) < 2:
        p.append(f"student.json has invalid classes {e.classes}")
    if e.adverse is not None and str(e.adverse) not in e.classes:
        p.append(
            f"student.json's adverse class {e.adverse!r} is not one of its classes {e.classes}"
        )
    for name, check in _MEMBER_CHECKS.items():
        if name in files:
            p += check(e, _json_member(d, manifest, name))
    p += _manifest_problems(e, manifest)
    for name in sorted(n for n in files if n.endswith(".onnx")):
        p += _onnx_consistency(d, manifest, name, spec, e.classes, e.num, e.cat)
    return p


@dataclasses.dataclass(frozen=True)
class _Expected:
    """What every part of an artifact must agree on, as its ``student.json`` says it."""

    spec: Mapping[str, Any]
    classes: list[str]
    num: list[str]
    cat: list[str]
    adverse: Any

    @classmethod
    def of(cls, spec: Mapping[str, Any]) -> _Expected:
        num, cat = _inputs_of(spec)
        meta = spec.get("meta") or {}
        adverse = meta.get("adverse_class", spec.get("adverse_class"))
        return cls(spec, [str(c) for c in spec.get("classes", [])], num, cat, adverse)

    def class_problems(self, where: str, other: Any) -> list[str]:
        if other is not None and [str(c) for c in other] != self.classes:
            return [
                f"{where} says classes {[str(c) for c in other]}, student.json says {self.classes}"
            ]
        return []

    def same_calibration(self, record: Mapping[str, Any]) -> bool:
        """True unless ``record`` holds a calibration other than the spec's."""
        return "calibration" not in record or _canon(record.get("calibration")) == _canon(
            self.spec.get("calibration")
        )


def _metrics_problems(e: _Expected, m: Any) -> list[str]:
    if not isinstance(m, Mapping):
        return []
    p = e.class_problems("metrics.json", m.get("classes"))
    if not e.same_calibration(m):
        p.append("metrics.json and student.json record different calibrations")
    return p


def _baseline_problems(e: _Expected, b: Any) -> list[str]:
    if not isinstance(b, Mapping):
        return []
    p = e.class_problems("baseline.json", b.get("classes"))
    if _inputs_of(b) != (e.num, e.cat):
        p.append("baseline.json reads other input columns than student.json")
    return p


def _rulecard_problems(e: _Expected, card: Any) -> list[str]:
    summ = card.get("summary") if isinstance(card, Mapping) else None
    if not isinstance(summ, Mapping):
        return []
    p = e.class_problems("rulecard.json", summ.get("classes"))
    if (
        e.adverse is not None
        and summ.get("adverse_class") is not None
        and str(summ["adverse_class"]) != str(e.adverse)
    ):
        p.append(
            f"rulecard.json's adverse class {summ['adverse_class']!r} differs from student.json's {e.adverse!r}"
        )
    if summ.get("inputs") is not None and _inputs_of(summ) != (e.num, e.cat):
        p.append("rulecard.json describes other input columns than student.json")
    if not e.same_calibration(summ):
        p.append("rulecard.json and student.json record different calibrations")
    return p


def _schema_problems(e: _Expected, sch: Any) -> list[str]:
    feats = sch.get("features") if isinstance(sch, Mapping) else None
    if not isinstance(feats, list):
        return []
    cols = {str(f.get("name")) for f in feats if isinstance(f, Mapping)}
    missing = [c for c in e.num + e.cat if c not in cols]
    if missing:
        return [f"student.json reads column(s) schema.json does not have: {', '.join(missing[:5])}"]
    return []


#: The JSON members checked against student.json (in this order), each by its checker.
_MEMBER_CHECKS: dict[str, Callable[[_Expected, Any], list[str]]] = {
    "metrics.json": _metrics_problems,
    "baseline.json": _baseline_problems,
    "rulecard.json": _rulecard_problems,
    "schema.json": _schema_problems,
}


def _manifest_problems(e: _Expected, manifest: Mapping[str, Any]) -> list[str]:
    """The manifest's target, teacher classes and configured adverse class against the spec."""
    p = []
    meta = e.spec.get("meta") or {}
    target = (manifest.get("data") or {}).get("target")
    if target is not None and meta.get("target") is not None and str(meta["target"]) != str(target):
        p.append(f"manifest target {target!r} differs from student.json's {meta['target']!r}")
    if target is not None and str(target) in e.num + e.cat:
        p.append(f"the target {target!r} is one of the student's inputs")
    tclasses = (manifest.get("teacher") or {}).get("classes")
    if isinstance(tclasses, list) and tclasses and sorted(map(str, tclasses)) != sorted(e.classes):
        p.append(
            f"the teacher's classes {[str(c) for c in tclasses]} are not student.json's {e.classes}"
        )
    cfg_adverse = (manifest.get("config") or {}).get("adverse_class")
    if cfg_adverse is not None and e.adverse is not None and str(cfg_adverse) != str(e.adverse):
        p.append(
            f"manifest adverse class {cfg_adverse!r} differs from student.json's {e.adverse!r}"
        )
    return p


def _onnx_consistency(
    d: Path,
    manifest: Mapping[str, Any],
    name: str,
    spec: Mapping[str, Any],
    classes: list[str],
    num: list[str],
    cat: list[str],
) -> list[str]:
    import onnx

    p: list[str] = []
    try:
        model = onnx.load_from_string(read_member(d, manifest, name))
    except Exception as exc:  # noqa: BLE001 - reported as a problem
        return [f"{name} is not a readable ONNX model ({type(exc).__name__})"]
    props = {q.key: q.value for q in model.metadata_props}
    if "spec" in props:
        try:
            embedded = from_json(props["spec"])
        except Exception:  # noqa: BLE001 - reported as a problem
            p.append(f"{name}'s embedded spec is not valid")
        else:
            if _canon(embedded) != _canon(spec):
                p.append(f"{name} was exported from another spec than student.json")
    if "classes" in props:
        try:
            onnx_classes = [str(c) for c in json.loads(props["classes"])]
        except (json.JSONDecodeError, TypeError):
            onnx_classes = None
        if onnx_classes != classes:
            p.append(f"{name} says classes {onnx_classes}, student.json says {classes}")
    for key, cols in (("numeric_columns", num), ("categorical_columns", cat)):
        if key in props:
            try:
                got = [str(c) for c in json.loads(props[key])]
            except (json.JSONDecodeError, TypeError):
                got = None
            if got != cols:
                p.append(f"{name} reads {key.replace('_', ' ')} {got}, student.json {cols}")
    for out in model.graph.output:
        if out.name == "probabilities":
            dims = out.type.tensor_type.shape.dim
            width = dims[-1].dim_value if dims and dims[-1].HasField("dim_value") else None
            if width is not None and width != len(classes):
                p.append(
                    f"{name} outputs {width} probabilities, student.json has {len(classes)} classes"
                )
    return p


# ============================================================================ signing

SIGNATURE_ALG = "hmac-sha256"
MAX_KEY_BYTES = 1 << 20


def read_sign_key(path: str | Path) -> bytes:
    """The HMAC key in ``path`` (a regular file, 16 bytes to 1 MB; one trailing newline is ignored)."""
    import stat

    p = Path(path)
    try:
        st = os.stat(p)
    except OSError as exc:
        raise ArtifactError(f"--sign-key {p}: {exc.strerror}.") from None
    if not stat.S_ISREG(st.st_mode):
        raise ArtifactError(f"--sign-key {p} is not a regular file.")
    if st.st_size > MAX_KEY_BYTES:
        raise ArtifactError(f"--sign-key {p} is larger than 1 MB; it does not look like a key.")
    key = p.read_bytes()
    key = key[:-2] if key.endswith(b"\r\n") else key[:-1] if key.endswith(b"\n") else key
    if len(key) < 16:
        raise ArtifactError(
            f"--sign-key {p} holds {len(key)} bytes; a key needs at least 16.",
            hint='Create one with: python -c "import secrets; print(secrets.token_hex(32))" > key.',
        )
    return key


def key_id(key: bytes) -> str:
    """A public identifier of a key (not the key): lets verify say 'signed with another key'."""
    return hashlib.sha256(b"distill2rules-key-id\0" + key).hexdigest()[:16]


def _signed_bytes(manifest: Mapping[str, Any], names: list[str], fields: list[str]) -> bytes:
    payload = {
        "alg": SIGNATURE_ALG,
        "fields": {k: manifest.get(k) for k in fields},
        "files": {n: manifest.get("files", {}).get(n) for n in names},
    }
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def sign_artifact(art_dir: str | Path, key: bytes) -> dict[str, Any]:
    """Add an HMAC-SHA256 signature over the manifest (every file's hash and the descriptive fields).

    The artifact's hashes are checked first. ``versions`` is not signed (re-written when a file
    is added); files added later (``report.html``, ``evaluation.json``) are listed as unsigned
    by ``verify``, and changing a signed file through ``export``/``report`` is refused.
    """
    import hmac

    d = Path(art_dir)
    manifest = check_hashes(d)
    names = sorted(manifest["files"])
    fields = sorted(k for k in manifest if k not in ("files", "signature", "versions"))
    mac = hmac.new(key, _signed_bytes(manifest, names, fields), hashlib.sha256).hexdigest()
    manifest["signature"] = {
        "alg": SIGNATURE_ALG,
        "key_id": key_id(key),
        "files": names,
        "fields": fields,
        "mac": mac,
    }
    tmp = (
        d.parent / f".{d.name}.manifest.tmp-{os.getpid()}"
    )  # beside the artifact: never an unlisted file inside it
    try:
        tmp.write_text(_dump(manifest), encoding="utf-8")
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, d / MANIFEST)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_entry(d)
    return manifest


def signature_problems(
    manifest: Mapping[str, Any], key: bytes | None
) -> tuple[dict[str, Any], list[str]]:
    """(signature report, problems). Without a key a signature is reported but not checked."""
    import hmac

    sig = manifest.get("signature")
    if not isinstance(sig, Mapping):
        info: dict[str, Any] = {"signed": False}
        return info, (
            ["the artifact is not signed (fit --sign-key signs it)"] if key is not None else []
        )
    names, fields = sig.get("files"), sig.get("fields")
    info = {
        "signed": True,
        "alg": sig.get("alg"),
        "key_id": sig.get("key_id"),
        "checked": key is not None,
    }
    if (
        not isinstance(names, list)
        or not isinstance(fields, list)
        or sig.get("alg") != SIGNATURE_ALG
    ):
        return info, ["the signature block is malformed"]
    info["unsigned_files"] = sorted(set(manifest.get("files", {})) - set(names))
    if key is None:
        return info, []
    if sig.get("key_id") != key_id(key):
        return info, ["the artifact was signed with another key"]
    missing = [n for n in names if n not in manifest.get("files", {})]
    if missing:
        return info, [f"signed file(s) no longer in the manifest: {', '.join(missing[:5])}"]
    mac = hmac.new(key, _signed_bytes(manifest, names, fields), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, str(sig.get("mac", ""))):
        return info, [
            "the signature does not match the manifest (a signed hash or field was changed)"
        ]
    info["valid"] = True
    return info, []


# ============================================================================ verify / update


def verify_artifact(
    art_dir: str | Path,
    *,
    n_parity_rows: int = 10_000,
    seed: int = 0,
    sign_key: bytes | None = None,
) -> dict[str, Any]:
    """Check hashes, the spec, cross-part consistency, ONNX parity and (with a key) the signature.

    Returns a report; raises ArtifactError listing every problem on any mismatch.
    """
    d = Path(art_dir)
    manifest = read_manifest(d)
    problems = _hash_problems(d, manifest)
    listed = manifest.get("files", {})
    report: dict[str, Any] = {"artifact": str(d), "files_checked": len(listed)}
    checks = ["hashes"]
    spec = None
    if not problems:
        if "student.json" not in listed:
            problems.append("student.json is not in the manifest")
        else:
            try:
                spec = from_json(read_member(d, manifest, "student.json").decode("utf-8"))
                checks.append("spec")
            except Exception as exc:  # noqa: BLE001 - reported as a problem
                problems.append(f"student.json: {exc}")
    if spec is not None:
        try:
            problems += consistency_problems(d, manifest, spec)
            checks.append("consistency")
        except Exception as exc:  # noqa: BLE001 - reported as a problem
            problems.append(f"cross-part check failed: {exc}")
    if spec is not None:
        for name in sorted(n for n in listed if n.endswith(".onnx")):
            try:
                parity = check_onnx_parity(d / name, spec, n_rows=n_parity_rows, random_state=seed)
                if name == "student.onnx":
                    report["onnx_parity"] = parity.to_dict()
                    report["onnx_max_abs_diff"] = parity.max_abs_probability
                if not parity.ok:
                    problems.append(
                        f"{name} disagrees with student.json (max |dp| = {parity.max_abs_probability:.2e}, "
                        f"{parity.label_mismatches} label mismatches)"
                    )
            except Exception as exc:  # noqa: BLE001 - reported as a problem
                problems.append(f"{name} could not be checked: {exc}")
        checks.append("onnx_parity")
    sig_info, sig_problems = signature_problems(manifest, sign_key)
    report["signature"] = sig_info
    if sign_key is not None:
        checks.append("signature")
    problems += sig_problems
    report["checks"] = checks
    report["problems"] = problems
    report["ok"] = not problems
    if problems:
        raise ArtifactError(f"artifact {d} failed verification: {'; '.join(problems)}.")
    return report


def update_artifact(
    art_dir: str | Path, files: Mapping[str, str | bytes | Callable[[Path], None]]
) -> Path:
    """Add or replace files in an existing artifact, atomically, re-hashing the manifest.

    The artifact's hashes are checked first and every carried-over file is hard-linked into the
    new directory (not read and rewritten) and re-checked there, so a tampered artifact is
    refused, never re-blessed. Files covered by a signature
    cannot be replaced (that would void it).
    """
    d = Path(art_dir)
    manifest = check_hashes(d)
    sig = manifest.get("signature")
    if isinstance(sig, Mapping):
        touched = sorted(set(files) & set(sig.get("files") or []))
        if touched:
            raise ArtifactError(
                f"artifact {d} is signed and {', '.join(touched)} is covered by the signature; "
                "replacing it would void the signature.",
                hint="Write to another place with --out, or re-run `distill2rules fit --sign-key`.",
            )
    listed = manifest.get("files", {})
    current: dict[str, Any] = {
        name: Carried(d / name, listed[name]) for name in listed if name not in files
    }
    current.update(files)
    descriptive = {k: v for k, v in manifest.items() if k not in ("format", "versions", "files")}
    return write_artifact(d, current, descriptive)
