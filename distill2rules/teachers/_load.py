"""``load_teacher``: one entry point for every teacher format, and ``check_features``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from distill2rules.errors import SchemaError
from distill2rules.teachers._base import Teacher, _short_list, resolve_columns
from distill2rules.teachers._detect import detect_format, normalise_format, require_file
from distill2rules.teachers._plugin import TEACHER_FORMATS
from distill2rules.teachers._sidecar import find_sidecar

__all__ = ["check_features", "load_teacher", "trust_code_default", "trusting_code"]

_TRUST_CODE: ContextVar[bool] = ContextVar("distill2rules_trust_code", default=False)


@contextmanager
def trusting_code(enabled: bool = True) -> Iterator[None]:
    """Within the block, ``load_teacher(trust_code=None)`` means ``trust_code=enabled``.

    The CLI's ``--trust-code`` uses it so that every teacher a command loads (fit, its
    ``--report``, ``--sizes``, evaluate, sweep) gets the same answer.
    """
    token = _TRUST_CODE.set(bool(enabled))
    try:
        yield
    finally:
        _TRUST_CODE.reset(token)


def trust_code_default() -> bool:
    """What ``load_teacher(trust_code=None)`` means here: the :func:`trusting_code` setting."""
    return _TRUST_CODE.get()


def load_teacher(
    path: str | Path,
    *,
    format: str | None = None,
    trust_pickle: bool = False,
    trust_code: bool | None = None,
    feature_names: Sequence[str] | None = None,
    classes: Sequence[Any] | None = None,
    sidecar: str | Path | None = None,
) -> Teacher:
    """Load a teacher model from a file.

    Parameters
    ----------
    path : str or Path
        The model file: LightGBM ``model.txt``, TorchScript ``.pt``, state_dict ``.pt`` (with a
        sidecar JSON), ``.onnx``, ``.skops``, or a pickle (only with ``trust_pickle=True``).
    format : str, optional
        Skip detection: ``lightgbm``, ``torchscript``, ``torch_state_dict``, ``onnx``,
        ``skops`` or ``pickle``.
    trust_pickle : bool, default False
        Allow loading files that run code when loaded (pickles, pickled torch modules, skops
        files with untrusted types). Only for files whose origin you trust.
    feature_names : sequence of str, optional
        Names of the input columns, for a model file that records none (bare TorchScript /
        ONNX). Must agree with names the file or sidecar records.
    classes : sequence, optional
        Class labels in logit-column order, when the file does not record them.
    sidecar : str or Path, optional
        The sidecar JSON; by default ``<stem>.json`` next to the model (see docs/teachers.md).

    Returns
    -------
    Teacher

    Raises
    ------
    TeacherError
        Missing, unreadable or corrupted file, unknown format, unusable outputs.
    UnsafeFileError
        The file is a pickle and ``trust_pickle`` is False, or a program (TorchScript, ONNX)
        that fails the checks in docs/security.md and ``trust_code`` is False.

    Examples
    --------
    >>> teacher = load_teacher("model.txt")            # doctest: +SKIP
    >>> teacher.logits(X).shape                         # doctest: +SKIP
    (1000, 2)
    """
    if trust_code is None:
        trust_code = _TRUST_CODE.get()
    p = require_file(path)
    fmt = normalise_format(format) if format is not None else detect_format(p)
    side = find_sidecar(p, sidecar)
    teacher = TEACHER_FORMATS.get(fmt).load_file(
        p, side, trust_pickle=trust_pickle, trust_code=trust_code
    )
    if feature_names is not None:
        teacher.bind_feature_names(list(feature_names))
    if classes is not None:
        teacher.set_classes(list(classes))
    return teacher


def check_features(teacher: Teacher, columns: Sequence[Any]) -> None:
    """Check that the data has the columns ``teacher`` needs.

    A teacher that records its feature names needs each of them among ``columns`` (extra
    columns are fine); a name LightGBM rewrote (``fixed_acidity`` for ``fixed acidity``) is
    matched and the teacher adopts the data's spelling. A teacher without names (bare
    TorchScript/ONNX) needs exactly as many columns as it has inputs, and then adopts
    ``columns`` as its feature names, in order.

    Raises
    ------
    SchemaError
        ``"teacher expects columns a, b that the data lacks"``, or a column-count mismatch.
    """
    cols = list(columns)
    if teacher.feature_names:
        found, missing = resolve_columns(teacher.feature_names, cols)
        if missing:
            raise SchemaError(
                f"teacher expects columns {_short_list(missing)} that the data lacks.",
                hint="Pass the data the teacher was trained on (same column names).",
            )
        if [str(c) for c in found] != teacher.feature_names:  # e.g. LightGBM stored 'fixed_acidity'
            teacher._adopt_names([str(c) for c in found])
        return
    if teacher.n_features_in is not None and len(cols) != teacher.n_features_in:
        raise SchemaError(
            f"teacher takes {teacher.n_features_in} input columns but the data has {len(cols)} "
            "feature columns.",
            hint="The teacher file records no names, so it must get exactly its feature columns "
            "in training order; add a sidecar JSON with 'feature_names' to select columns by name.",
        )
    teacher.bind_feature_names([str(c) for c in cols])
