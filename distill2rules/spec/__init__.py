"""The spec wing: a fitted student as plain data, and its reference semantics.

Every student lowers itself to a spec; every exporter (ONNX, rule card, reason codes) reads
only the spec. ``evaluate`` is the executable definition of what a spec means.
"""

from distill2rules.spec._evaluate import (
    MISSING_CATEGORY,
    additive_contributions,
    axis_index,
    evaluate,
    fired_rule,
    link_probabilities,
    predict_proba,
    prepare_inputs,
    term_names,
    to_category_strings,
    to_numeric_float32,
)
from distill2rules.spec._format import (
    KINDS,
    SPEC_FORMAT,
    from_json,
    jsonable,
    load,
    n_scores,
    save,
    to_json,
    validate,
)

__all__ = [
    "KINDS",
    "MISSING_CATEGORY",
    "SPEC_FORMAT",
    "additive_contributions",
    "axis_index",
    "evaluate",
    "fired_rule",
    "from_json",
    "jsonable",
    "link_probabilities",
    "load",
    "n_scores",
    "predict_proba",
    "prepare_inputs",
    "save",
    "term_names",
    "to_category_strings",
    "to_json",
    "to_numeric_float32",
    "validate",
]
