"""The reason catalogue: applicant language for reason codes (``--labels labels.csv|json``).

Per feature a plain label, an optional adverse-action code and statement templates by
direction. JSON::

    {"features": {
       "duration_months": {"label": "Duration of the credit", "code": "D01",
                           "high": "Credit duration too long ({value} months)",
                           "low": "Credit duration too short ({value} months)"},
       "checking_status": {"label": "Checking account", "code": "C01",
                           "category": "Checking account balance: {value}",
                           "missing": "No checking account information"},
       "months_since_delinq": {"special": {"-9": "No credit file"}}},
     "decisions": {"bad": "declined", "good": "approved"}}

CSV: one row per feature, columns ``feature`` (required), ``label``, ``code``, ``high``,
``low``, ``category``, ``missing`` and ``special`` (``-9=No credit file|-8=No usable
trades``). Templates may use ``{value}`` (the applicant's value), ``{label}`` and
``{reference}`` (the reference the reason is measured against). ``high`` is used when the
applicant's value is above the reference, ``low`` when below, ``category`` for categories,
``missing`` for a missing value, ``special`` for a declared special value.

``fit --labels`` stores the catalogue in the spec (``meta["reason_catalogue"]``, so the
artifact's manifest hashes it and ``verify`` passes); ``explain --labels`` overrides it.
"""

from __future__ import annotations

import csv
import io
import json
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from distill2rules.errors import ConfigError
from distill2rules.limits import CATALOGUE_BYTES, SPEC_DEPTH, json_depth, read_capped

__all__ = [
    "CATALOGUE_FORMAT",
    "TEMPLATE_KEYS",
    "catalogue_of",
    "load_catalogue",
    "normalise_catalogue",
    "render_template",
]

CATALOGUE_FORMAT = "distill2rules.reasons/1"
TEMPLATE_KEYS = ("high", "low", "category", "missing")
_FIELDS = {"label", "code", "special", *TEMPLATE_KEYS}
_PLACEHOLDERS = {"value", "label", "reference"}


def _check_template(feature: str, key: str, text: Any) -> str:
    if not isinstance(text, str):
        raise ConfigError(
            f"reason catalogue: '{feature}'.{key} must be text, got {type(text).__name__}."
        )
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError as exc:
        raise ConfigError(
            f"reason catalogue: '{feature}'.{key} is not a valid template ({exc}).",
            hint="Use {value}, {label} or {reference}; write {{ and }} for braces.",
        ) from None
    bad = sorted(n for n in names if n not in _PLACEHOLDERS)
    if bad:
        raise ConfigError(
            f"reason catalogue: '{feature}'.{key} uses unknown placeholder(s) {', '.join(bad)}.",
            hint="Templates may use {value}, {label} and {reference}.",
        )
    return text


def _parse_special(feature: str, raw: Any) -> dict[str, str]:
    if raw in (None, ""):
        return {}
    if isinstance(raw, str):
        out = {}
        for part in raw.split("|"):
            code, sep, text = part.partition("=")
            if not sep or not code.strip():
                raise ConfigError(
                    f"reason catalogue: special of '{feature}' must read 'CODE=text|CODE=text', "
                    f"got {raw!r}."
                )
            out[code.strip()] = text.strip()
        raw = out
    if not isinstance(raw, Mapping):
        raise ConfigError(f"reason catalogue: special of '{feature}' must map codes to statements.")
    return {_code_key(k): _check_template(feature, f"special[{k}]", v) for k, v in raw.items()}


def _code_key(code: Any) -> str:
    try:
        f = float(code)
    except (TypeError, ValueError):
        return str(code).strip()
    return str(int(f)) if f.is_integer() else repr(f)


def normalise_catalogue(obj: Any) -> dict[str, Any]:
    """Validate a catalogue (mapping) and return its canonical form (see module docs)."""
    if not isinstance(obj, Mapping):
        raise ConfigError("a reason catalogue must be a JSON object with a 'features' map.")
    unknown = sorted(set(obj) - {"format", "features", "decisions"})
    if unknown:
        raise ConfigError(
            f"reason catalogue: unknown key(s) {', '.join(unknown)}.",
            hint="A catalogue has 'features' and optionally 'decisions'.",
        )
    feats = obj.get("features")
    if not isinstance(feats, Mapping) or not feats:
        raise ConfigError(
            "a reason catalogue needs a non-empty 'features' map (feature -> label, templates)."
        )
    out: dict[str, Any] = {}
    for f, entry in feats.items():
        f = str(f)
        if isinstance(entry, str):
            entry = {"label": entry}
        if not isinstance(entry, Mapping):
            raise ConfigError(f"reason catalogue: entry of '{f}' must be an object or a label.")
        extra = sorted(set(entry) - _FIELDS)
        if extra:
            raise ConfigError(
                f"reason catalogue: '{f}' has unknown field(s) {', '.join(extra)}.",
                hint=f"Fields: {', '.join(sorted(_FIELDS))}.",
            )
        item: dict[str, Any] = {}
        for key in ("label", "code"):
            if entry.get(key) not in (None, ""):
                item[key] = str(entry[key])
        for key in TEMPLATE_KEYS:
            if entry.get(key) not in (None, ""):
                item[key] = _check_template(f, key, entry[key])
        special = _parse_special(f, entry.get("special"))
        if special:
            item["special"] = special
        out[f] = item
    decisions = obj.get("decisions") or {}
    if not isinstance(decisions, Mapping):
        raise ConfigError(
            'reason catalogue: \'decisions\' must map class labels to words (e.g. {"1": "declined"}).'
        )
    return {
        "format": CATALOGUE_FORMAT,
        "features": out,
        "decisions": {str(k): str(v) for k, v in decisions.items()},
    }


def load_catalogue(path: str | Path) -> dict[str, Any]:
    """Read ``labels.csv`` or ``labels.json`` into a validated catalogue."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(
            f"no reason catalogue at {p}.", hint="Pass --labels labels.csv or labels.json."
        )
    raw = read_capped(  # a regular file within DISTILL2RULES_MAX_CATALOGUE_BYTES
        p, CATALOGUE_BYTES, ConfigError, "reason catalogue", "Pass --labels as a regular file."
    )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"reason catalogue {p} is not UTF-8 text.") from None
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{p} is not valid JSON ({exc.msg} at line {exc.lineno}).") from None
        except RecursionError:
            raise ConfigError(f"{p} is not valid JSON (nested too deeply).") from None
        if json_depth(data, SPEC_DEPTH.value()) > SPEC_DEPTH.value():
            raise SPEC_DEPTH.exceeded(
                ConfigError, f"reason catalogue {p.name}", json_depth(data, 1e9)
            )
        return normalise_catalogue(data)
    if p.suffix.lower() not in (".csv", ".txt"):
        raise ConfigError(f"reason catalogue {p} must be .csv or .json.")
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or "feature" not in (rows[0].keys() if rows else ()):
        raise ConfigError(
            f"{p} needs a header row with a 'feature' column (and label, code, high, low, "
            "category, missing, special)."
        )
    extra = sorted(set(rows[0]) - _FIELDS - {"feature"})
    if extra:
        raise ConfigError(
            f"{p} has unknown column(s) {', '.join(map(str, extra))}.",
            hint=f"Columns: feature, {', '.join(sorted(_FIELDS))}.",
        )
    feats = {}
    for r in rows:
        name = (r.get("feature") or "").strip()
        if name:
            feats[name] = {k: v for k, v in r.items() if k != "feature" and v not in (None, "")}
    return normalise_catalogue({"features": feats})


def catalogue_of(spec: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The catalogue stored in a spec at fit time, if any."""
    cat = (spec.get("meta") or {}).get("reason_catalogue")
    return cat if isinstance(cat, Mapping) else None


def render_template(template: str, **values: Any) -> str:
    """Fill a (validated) template."""
    return template.format(**{k: values.get(k, "") for k in _PLACEHOLDERS})
