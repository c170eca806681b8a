"""The spec wing: a fitted student as plain data, and its reference semantics.

Every student lowers itself to a spec; every exporter (ONNX, rule card, reason codes) reads
only the spec. ``evaluate`` is the executable definition of what a spec means.
"""

from distill2rules.spec._evaluate import (
    MISSING_CATEGORY,
    additive_contributions,
    axis_index,
    decide,
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
from distill2rules.spec._special import (
    is_special_value,
    mask_specials,
    special_codes,
    special_key,
    special_label,
    special_values,
)

__all__ = [
    "KINDS",
    "MISSING_CATEGORY",
    "SPEC_FORMAT",
    "additive_contributions",
    "axis_index",
    "decide",
    "evaluate",
    "fired_rule",
    "from_json",
    "is_special_value",
    "jsonable",
    "link_probabilities",
    "load",
    "mask_specials",
    "n_scores",
    "predict_proba",
    "prepare_inputs",
    "save",
    "special_codes",
    "special_key",
    "special_label",
    "special_values",
    "term_names",
    "to_category_strings",
    "to_json",
    "to_numeric_float32",
    "validate",
]
