"""The spec wing: a fitted student as plain data, and its reference semantics.

Every student lowers itself to a spec; every exporter (ONNX, rule card, reason codes) reads
only the spec. The kinds are classes (:class:`AdditiveSpec`, :class:`RuleListSpec`,
:class:`MLPSpec`, all :class:`Spec`, which is a ``dict``) that own evaluation, size, validation
and calibration folding; renderers dispatch on the class through a :class:`KindTable`.
``evaluate`` is the executable definition of what a spec means; JSON (``distill2rules.spec/1``,
JSON Schema in ``schema.json``) is read and written only by ``from_json`` / ``to_json``.
"""

# registration order is the order of KINDS
# isort: off
from distill2rules.spec._additive import (
    AdditiveSpec,
    additive_contributions,
    axis_index,
    term_features,
)
from distill2rules.spec._rule_list import RuleListSpec, condition_holds, fired_rule
from distill2rules.spec._mlp import MLPSpec, mlp_design_matrix, mlp_scores

# isort: on
from distill2rules.spec._core import (
    MISSING_CATEGORY,
    column_lookup,
    decide,
    link_probabilities,
    n_scores,
    prepare_inputs,
    to_category_strings,
    to_numeric_float32,
)
from distill2rules.spec._evaluate import evaluate, predict_proba, term_names
from distill2rules.spec._format import (
    SPEC_FORMAT,
    from_json,
    jsonable,
    load,
    save,
    to_json,
    validate,
)
from distill2rules.spec._kinds import KindTable, Spec, kind_class, kinds, register_kind, typed
from distill2rules.spec._schema import schema, schema_errors
from distill2rules.spec._special import (
    is_special_value,
    mask_specials,
    special_codes,
    special_key,
    special_label,
    special_values,
    values_mask,
)

KINDS = kinds()  # ("additive", "rule_list", "mlp"): the registered kind names

__all__ = [
    "KINDS",
    "MISSING_CATEGORY",
    "SPEC_FORMAT",
    "AdditiveSpec",
    "KindTable",
    "MLPSpec",
    "RuleListSpec",
    "Spec",
    "additive_contributions",
    "axis_index",
    "column_lookup",
    "condition_holds",
    "decide",
    "evaluate",
    "fired_rule",
    "from_json",
    "is_special_value",
    "jsonable",
    "kind_class",
    "kinds",
    "link_probabilities",
    "load",
    "mask_specials",
    "mlp_design_matrix",
    "mlp_scores",
    "n_scores",
    "predict_proba",
    "prepare_inputs",
    "register_kind",
    "save",
    "schema",
    "schema_errors",
    "special_codes",
    "special_key",
    "special_label",
    "special_values",
    "term_features",
    "term_names",
    "to_category_strings",
    "to_json",
    "to_numeric_float32",
    "typed",
    "validate",
    "values_mask",
]
