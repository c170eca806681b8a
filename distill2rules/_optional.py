"""Optional dependencies: import them by need and name the extra that installs them.

The core install (``pip install distill2rules``) scores, explains, verifies and exports
artifacts with numpy, pandas, onnx and onnxruntime. Fitting, torch teachers, SHAP validation,
figures and Dask sweeps need extras. Any import of a missing optional dependency ends in one
line naming the extra::

    >>> lgb = require("lightgbm", extra="fit")          # doctest: +SKIP
    MissingDependencyError: lightgbm is not installed (needed to fit students and load
    LightGBM/scikit-learn teachers); install it with: pip install 'distill2rules[fit]'
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TypeGuard

from distill2rules.errors import Distill2RulesError

__all__ = ["EXTRAS", "MissingDependencyError", "missing_dependency", "require"]

#: import name -> (distribution to install, extra that installs it)
EXTRAS: dict[str, tuple[str, str]] = {
    "sklearn": ("scikit-learn", "fit"),
    "scipy": ("scipy", "fit"),
    "lightgbm": ("lightgbm", "fit"),
    "interpret": ("interpret-core", "fit"),
    "joblib": ("joblib", "fit"),
    "skops": ("skops", "fit"),
    "torch": ("torch", "torch"),
    "shap": ("shap", "validate"),
    "numba": ("shap", "validate"),
    "matplotlib": ("matplotlib", "report"),
    "pyarrow": ("pyarrow", "parquet"),
    "dask": ("dask[distributed]", "dask"),
    "distributed": ("dask[distributed]", "dask"),
}

#: what each extra is for (shown in the error message)
PURPOSE: dict[str, str] = {
    "fit": "fitting students, training and loading LightGBM/scikit-learn teachers",
    "torch": "PyTorch teachers and the MLP student",
    "validate": "SHAP alignment and the validation suite",
    "report": "report figures",
    "parquet": "reading Parquet files",
    "dask": "sweeps on a Dask cluster",
}


class MissingDependencyError(Distill2RulesError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


def _message(module: str, extra: str | None, purpose: str | None) -> str:
    top = module.split(".")[0]
    dist, default_extra = EXTRAS.get(top, (top, None))
    extra = extra or default_extra
    why = purpose or (PURPOSE.get(extra, "") if extra else "")
    what = f"{dist} is not installed" + (f" (needed for {why})" if why else "")
    if extra:
        return f"{what}; install it with: pip install 'distill2rules[{extra}]'"
    return f"{what}; install it with: pip install {dist}"


def missing_dependency(
    exc: ImportError, *, extra: str | None = None, purpose: str | None = None
) -> MissingDependencyError:
    """Turn an ``ImportError`` of an optional module into a one-line :class:`MissingDependencyError`."""
    name = getattr(exc, "name", None) or str(exc).rpartition(" ")[-1].strip("'\"")
    err = MissingDependencyError(_message(name, extra, purpose))
    err.name = name
    return err


def is_optional(exc: BaseException) -> TypeGuard[ModuleNotFoundError]:
    """True for a ``ModuleNotFoundError`` of a known optional dependency."""
    name = getattr(exc, "name", None) or ""
    return isinstance(exc, ModuleNotFoundError) and name.split(".")[0] in EXTRAS


def require(module: str, extra: str | None = None, *, purpose: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the extra that installs it.

    Parameters
    ----------
    module : str
        Import name, e.g. ``"lightgbm"`` or ``"sklearn.linear_model"``.
    extra : str, optional
        The ``distill2rules[extra]`` that installs it (default: looked up in :data:`EXTRAS`).
    purpose : str, optional
        What the caller needs it for, shown in the message.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise missing_dependency(exc, extra=extra, purpose=purpose) from None
