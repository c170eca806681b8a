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
from distill2rules.limits import TEACHER_BYTES, check_file_size, check_regular_file
from distill2rules.teachers._plugin import TEACHER_FORMATS, Probe

__all__ = ["check_zip_members", "detect_format", "normalise_format", "require_file"]


def _unknown(path: Path) -> TeacherError:
    return TeacherError(
        f"cannot tell the format of {path.name};",
        hint="pass --teacher-format " + "|".join(TEACHER_FORMATS.names()) + ".",
    )


def require_file(path: str | Path) -> Path:
    """``path`` as a Path, or a one-line TeacherError if it is missing, a directory, not a
    regular file (FIFO, device: checked with ``os.stat``, never opened) or over the size limit
    (:data:`distill2rules.limits.TEACHER_BYTES`)."""

    p = Path(path)
    st = check_regular_file(p, TeacherError, "teacher file", "Check the --teacher path.")
    check_file_size(st, TEACHER_BYTES, TeacherError, f"teacher file {p.name}")
    return p


def normalise_format(fmt: str) -> str:
    """Canonical format name (accepts a few aliases such as ``gbt`` or ``state_dict``)."""
    key = str(fmt).strip().lower().replace("-", "_")
    if key not in TEACHER_FORMATS and key not in TEACHER_FORMATS.aliases:
        raise TEACHER_FORMATS.unknown(fmt, TEACHER_FORMATS.names())  # type: ignore[misc]
    return TEACHER_FORMATS.canonical(key)


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
    with open(p, "rb") as fh:
        head = fh.read(4096)
    if not head:
        raise TeacherError(
            f"teacher file {p.name} is empty.", hint="Re-save the model; the file holds no bytes."
        )
    is_zip = zipfile.is_zipfile(p)
    probe = Probe(p, head, is_zip, tuple(check_zip_members(p)) if is_zip else ())
    formats = sorted(TEACHER_FORMATS.items(), key=lambda item: item[1].sniff_rank)
    for name, fmt in formats:
        if fmt.sniffs(probe):
            return name
    if not is_zip:  # an archive no format recognised is never claimed by its suffix alone
        for name, fmt in formats:
            if probe.suffix in fmt.suffixes:
                return name
    for _, fmt in formats:
        err = fmt.misfit_error(probe)
        if err is not None:
            raise err
    raise _unknown(p)
