"""Tell a teacher file's format from its bytes (the extension only breaks ties).

* zip with ``constants.pkl`` / ``code/`` members -> ``torchscript``
* zip with ``schema.json`` at the root -> ``skops``
* zip with ``data.pkl`` -> ``torch_state_dict`` (a whole pickled module is caught at load)
* text starting with ``tree`` or holding ``version=v`` -> ``lightgbm``
* ONNX protobuf (``.onnx``, or bytes that parse as a ModelProto with a graph) -> ``onnx``
* pickle / joblib bytes -> ``pickle`` (``.pt``/``.pth`` pickles go to ``torch_state_dict``,
  which loads them with ``torch.load(weights_only=True)``)
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from distill2rules.errors import TeacherError

__all__ = ["FORMATS", "check_zip_members", "detect_format", "require_file"]

FORMATS = ("lightgbm", "torchscript", "torch_state_dict", "onnx", "skops", "pickle")
_ALIASES = {
    "gbt": "lightgbm",
    "lgbm": "lightgbm",
    "txt": "lightgbm",
    "jit": "torchscript",
    "script": "torchscript",
    "state_dict": "torch_state_dict",
    "torch": "torch_state_dict",
    "joblib": "pickle",
    "pkl": "pickle",
}
_PICKLE_SUFFIXES = {".pkl", ".pickle", ".joblib", ".sav", ".dill"}
_TORCH_SUFFIXES = {".pt", ".pth", ".ckpt"}
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"x\x9c", b"x\x01", b"x\xda", b"BZh", b"\xfd7zXZ", b'\x04"M\x18')


def _unknown(path: Path) -> TeacherError:
    return TeacherError(
        f"cannot tell the format of {path.name};",
        hint="pass --teacher-format " + "|".join(FORMATS) + ".",
    )


def require_file(path: str | Path) -> Path:
    """``path`` as a Path, or a one-line TeacherError if it is missing, a directory, not a
    regular file (FIFO, device: checked with ``os.stat``, never opened) or over the size limit
    (:data:`distill2rules.limits.TEACHER_BYTES`)."""
    from distill2rules.limits import TEACHER_BYTES, check_file_size, check_regular_file

    p = Path(path)
    st = check_regular_file(p, TeacherError, "teacher file", "Check the --teacher path.")
    check_file_size(st, TEACHER_BYTES, TeacherError, f"teacher file {p.name}")
    return p


def normalise_format(fmt: str) -> str:
    """Canonical format name (accepts a few aliases such as ``gbt`` or ``state_dict``)."""
    key = str(fmt).strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key not in FORMATS:
        raise TeacherError(
            f"unknown teacher format {fmt!r};", hint="use one of " + ", ".join(FORMATS) + "."
        )
    return key


def check_zip_members(path: str | Path) -> list[str]:
    """Member names of a zip archive; reject any that could escape an extraction directory.

    Raises
    ------
    TeacherError
        If a member name is absolute, has a drive letter or a ``..`` component.
    """
    p = Path(path)
    try:
        with zipfile.ZipFile(p) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise TeacherError(f"{p.name} is not a readable zip archive ({exc}).") from exc
    for name in names:
        norm = name.replace("\\", "/")
        parts = PurePosixPath(norm).parts
        if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":") or ".." in parts:
            raise TeacherError(
                f"{p.name} holds an archive member with an unsafe path {name!r};",
                hint="refusing to load it (re-export the model from a trusted source).",
            )
    return names


def _zip_kind(path: Path) -> str | None:
    names = check_zip_members(path)
    inner = {n.split("/", 1)[1] if "/" in n else n for n in names}
    if "constants.pkl" in inner or any(n.startswith("code/") for n in inner):
        return "torchscript"
    if "schema.json" in names:
        return "skops"
    if "data.pkl" in inner:
        return "torch_state_dict"
    return None


def _looks_like_lightgbm(head: bytes) -> bool:
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff")
    return text.startswith(("tree\n", "tree\r\n")) or ("version=v" in text and "num_class=" in text)


def _looks_like_onnx(path: Path, head: bytes) -> bool:
    if not head or head[0] != 0x08:  # ModelProto field 1 (ir_version, varint)
        return False
    try:
        import onnx

        model = onnx.load_model(str(path), load_external_data=False)
    except Exception:  # noqa: BLE001 - not parseable means "not ONNX"
        return False
    return model.ir_version > 0 and len(model.graph.node) > 0


def detect_format(path: str | Path) -> str:
    """The teacher format of ``path``, read from the file's content.

    Returns
    -------
    str
        One of ``lightgbm``, ``torchscript``, ``torch_state_dict``, ``onnx``, ``skops``,
        ``pickle``.

    Raises
    ------
    TeacherError
        If the file is missing or its format cannot be told.
    """
    p = require_file(path)
    suffix = p.suffix.lower()
    with open(p, "rb") as fh:
        head = fh.read(4096)
    if not head:
        raise TeacherError(f"teacher file {p.name} is empty.", hint="Re-save the model; the file holds no bytes.")
    if zipfile.is_zipfile(p):
        kind = _zip_kind(p)
        if kind is not None:
            return kind
        if suffix == ".pt2":
            raise TeacherError(
                f"{p.name} looks like a torch.export archive, which is not supported;",
                hint=(
                    "save the model with torch.jit.save, or as a state_dict with a sidecar "
                    "JSON, or as ONNX."
                ),
            )
        raise _unknown(p)
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        return "torch_state_dict" if suffix in _TORCH_SUFFIXES else "pickle"
    if suffix in _PICKLE_SUFFIXES and head.startswith(_COMPRESSED_MAGIC):
        return "pickle"
    if _looks_like_lightgbm(head):
        return "lightgbm"
    if suffix == ".onnx" or _looks_like_onnx(p, head):
        return "onnx"
    if suffix in _PICKLE_SUFFIXES:
        return "pickle"
    if suffix in _TORCH_SUFFIXES:
        raise TeacherError(
            f"{p.name} is not a valid PyTorch file (neither a zip archive nor a pickle);",
            hint="it may be truncated or corrupted: re-save it with torch.jit.save or torch.save.",
        )
    if suffix == ".skops":
        raise TeacherError(
            f"{p.name} is not a valid skops file (not a zip archive); it may be corrupted."
        )
    if suffix == ".txt":
        raise TeacherError(
            f"{p.name} is not a LightGBM model.txt (no 'tree' header);",
            hint="save it with booster.save_model('model.txt').",
        )
    raise _unknown(p)
