"""Structural check of a LightGBM ``model.txt`` before LightGBM parses it.

LightGBM's C++ loader aborts or segfaults on some damaged files (a tree cut short, a
truncated ``[param: value]`` line, ``num_tree_per_iteration`` edited from 1 to 2: "double free
or corruption"), and a tree whose child indices loop makes it hang. This module re-checks the
structure in Python first, so a damaged file gives a one-line TeacherError:

* header: ``num_class``, ``num_tree_per_iteration`` (must equal ``num_class``),
  ``max_feature_idx`` vs ``feature_names`` / ``feature_infos``, and the objective line
  (``binary``/``cross_entropy`` need ``num_class=1``, ``multiclass``/``multiclassova`` need
  ``num_class >= 2`` and agree with its ``num_class:K``; ``sigmoid:k`` finite and > 0);
* trees: count a multiple of ``num_tree_per_iteration``, ``tree_sizes`` matching, every array
  of the length ``num_leaves`` implies, feature indices below ``max_feature_idx + 1``, child
  indices in range and forming a tree (every node and leaf reached exactly once from the root:
  no cycle, no sharing, nothing unreachable).
"""

from __future__ import annotations

import itertools
import json
import math
import re

from distill2rules.errors import TeacherError

__all__ = ["check_model_text", "objective_params"]

_PARAM_LINE = re.compile(r"^\[[^\[\]:]+:[^\n]*\]$")


class _Bad(Exception):
    """Internal: the reason a model text is malformed."""


_INT = re.compile(r"^[-+]?\d+$")
_FLOAT = re.compile(r"^[-+]?((\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?|inf|nan|infinity)$", re.IGNORECASE)
_TREE_KEYS = {
    "num_leaves",
    "num_cat",
    "split_feature",
    "split_gain",
    "threshold",
    "decision_type",
    "left_child",
    "right_child",
    "leaf_value",
    "leaf_weight",
    "leaf_count",
    "internal_value",
    "internal_weight",
    "internal_count",
    "is_linear",
    "shrinkage",
    "cat_boundaries",
    "cat_threshold",
    "leaf_const",
    "num_features",
    "leaf_features",
    "leaf_coeff",
}
_MAX_TREE_LINES = 22  # LightGBM reads at most this many key=value lines per tree


def _tokens(block: dict[str, str], key: str, pattern: re.Pattern[str], n: int | None) -> list[str]:
    raw = block.get(key)
    if raw is None:
        raise _Bad(f"missing {key}")
    toks = raw.split()
    if any(not pattern.match(t) for t in toks):
        raise _Bad(f"{key} holds a malformed number")
    if n is not None and len(toks) != n:
        raise _Bad(f"{key} has {len(toks)} values, expected {n}")
    return toks


def _ints(block: dict[str, str], key: str, n: int | None = None) -> list[int]:
    return [int(t) for t in _tokens(block, key, _INT, n)]


def _floats(block: dict[str, str], key: str, n: int | None = None) -> list[float]:
    return [float(t) for t in _tokens(block, key, _FLOAT, n)]


def _kv(lines: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines:
        if not line.strip():
            continue
        if "=" not in line:
            raise _Bad(f"unexpected line {line[:40]!r}")
        key, _, value = line.partition("=")
        if key.strip() in out:
            raise _Bad(f"duplicated key {key.strip()!r}")
        out[key.strip()] = value.strip()
    return out


def _tree_lines(block: str) -> list[str]:
    """Key lines of a tree block: contiguous, then only blank lines (as LightGBM reads them)."""
    lines = block.split("\n")[1:]
    n = 0
    while n < len(lines) and lines[n].strip():
        n += 1
    if any(ln.strip() for ln in lines[n:]):
        raise _Bad("blank line inside a tree")
    if n > _MAX_TREE_LINES:
        raise _Bad("too many lines in a tree")
    return lines[:n]


def _check_tree(block: dict[str, str], n_features: int) -> None:
    unknown = set(block) - _TREE_KEYS
    if unknown:
        raise _Bad(f"unknown key {min(unknown)!r}")
    (n_leaves,) = _ints(block, "num_leaves", 1)
    (n_cat,) = _ints(block, "num_cat", 1)
    if n_leaves < 1 or n_cat < 0:
        raise _Bad("num_leaves < 1 or num_cat < 0")
    _floats(block, "leaf_value", n_leaves)
    if block.get("shrinkage") is not None:
        _floats(block, "shrinkage", 1)
    if block.get("is_linear", "0") not in ("0", "1"):
        raise _Bad("is_linear must be 0 or 1")
    if n_leaves > 1:
        n_split = n_leaves - 1
        feats = _ints(block, "split_feature", n_split)
        if any(f < 0 or f >= n_features for f in feats):
            raise _Bad("split_feature out of range")
        thresholds = _floats(block, "threshold", n_split)
        dtypes = _ints(block, "decision_type", n_split)
        children = {}
        for key in ("left_child", "right_child"):
            children[key] = _ints(block, key, n_split)
            if any(c < -n_leaves or c > n_split - 1 for c in children[key]):
                raise _Bad(f"{key} out of range")
        _check_shape(children["left_child"], children["right_child"], n_leaves)
        for key in ("split_gain", "internal_value", "internal_weight", "internal_count"):
            _floats(block, key, n_split)
        for key in ("leaf_weight", "leaf_count"):
            _floats(block, key, n_leaves)
        for dt, th in zip(dtypes, thresholds):
            if dt < 0 or dt > 127:
                raise _Bad("decision_type out of range")
            if dt & 1 and not (math.isfinite(th) and 0 <= th < n_cat and th == int(th)):
                raise _Bad("categorical split points outside cat_boundaries")
    if n_cat > 0:
        bounds = _ints(block, "cat_boundaries", n_cat + 1)
        if bounds[0] != 0 or any(b < a for a, b in itertools.pairwise(bounds)):
            raise _Bad("cat_boundaries not increasing from 0")
        _ints(block, "cat_threshold", bounds[-1])
    if block.get("is_linear") == "1":
        _floats(block, "leaf_const", n_leaves)
        counts = _ints(block, "num_features", n_leaves)
        if any(c < 0 for c in counts):
            raise _Bad("negative num_features")
        feats = _ints(block, "leaf_features", sum(counts))
        if any(f < 0 or f >= n_features for f in feats):
            raise _Bad("leaf_features out of range")
        _floats(block, "leaf_coeff", sum(counts))


def _check_shape(left: list[int], right: list[int], n_leaves: int) -> None:
    """Every internal node and leaf is reached exactly once from node 0 (a tree: no cycle)."""
    seen_nodes = [False] * len(left)
    seen_leaves = [False] * n_leaves
    stack = [0]
    while stack:
        node = stack.pop()
        if seen_nodes[node]:
            raise _Bad(f"node {node} is reached twice (the child indices loop or share nodes)")
        seen_nodes[node] = True
        for child in (left[node], right[node]):
            if child >= 0:
                stack.append(child)
            else:
                leaf = ~child
                if seen_leaves[leaf]:
                    raise _Bad(f"leaf {leaf} is reached twice")
                seen_leaves[leaf] = True
    if not all(seen_nodes) or not all(seen_leaves):
        raise _Bad("some nodes or leaves are not reachable from the root")


def objective_params(line: str) -> tuple[str, dict[str, str]]:
    """``"binary sigmoid:2"`` -> ``("binary", {"sigmoid": "2"})``."""
    tokens = line.split()
    if not tokens:
        return "", {}
    params: dict[str, str] = {}
    for tok in tokens[1:]:
        key, sep, value = tok.partition(":")
        if not sep or not key:
            raise _Bad(f"malformed objective parameter {tok[:40]!r}")
        params[key] = value
    return tokens[0], params


_BINARY = {"binary", "cross_entropy", "xentropy", "cross_entropy_lambda", "xentlambda"}
_MULTI = {"multiclass", "softmax", "multiclassova", "multiclass_ova", "ova", "ovr"}


def _check_objective(header: dict[str, str], num_class: int, per_iter: int) -> None:
    if per_iter != num_class:
        raise _Bad(
            f"num_tree_per_iteration={per_iter} disagrees with num_class={num_class} "
            "(LightGBM grows one tree per class and iteration)"
        )
    name, params = objective_params(header.get("objective", ""))
    if name in _BINARY and num_class != 1:
        raise _Bad(f"objective {name} with num_class={num_class} (a binary model has 1)")
    if name in _MULTI:
        if num_class < 2:
            raise _Bad(f"objective {name} with num_class={num_class} (needs >= 2)")
        if "num_class" in params and params["num_class"] != str(num_class):
            raise _Bad(f"objective says num_class:{params['num_class']} but num_class={num_class}")
    if "sigmoid" in params:
        try:
            k = float(params["sigmoid"])
        except ValueError:
            raise _Bad(f"objective sigmoid:{params['sigmoid'][:20]} is not a number") from None
        if not (math.isfinite(k) and k > 0):
            raise _Bad(f"objective sigmoid:{params['sigmoid'][:20]} must be finite and > 0")


def _check_tail(lines: list[str]) -> None:
    section = None
    ended_params = False
    for line in lines:
        s = line.strip()
        if not s:
            continue
        if s == "feature_importances:":
            section = "importances"
        elif s == "parameters:":
            section = "parameters"
        elif s == "end of parameters":
            if section != "parameters":
                raise _Bad("'end of parameters' without 'parameters:'")
            section, ended_params = None, True
        elif s.startswith("pandas_categorical:"):
            try:
                json.loads(s[len("pandas_categorical:") :])
            except json.JSONDecodeError:
                raise _Bad("pandas_categorical is not valid JSON") from None
            section = None
        elif section == "parameters":
            if not _PARAM_LINE.match(s):
                raise _Bad(f"malformed parameter line {s[:40]!r}")
        elif section == "importances":
            if "=" not in s:
                raise _Bad(f"malformed feature importance line {s[:40]!r}")
        else:
            raise _Bad(f"unexpected line {s[:40]!r} after the trees")
    if section == "parameters" and not ended_params:
        raise _Bad("the parameters section is cut short")


def _check(text: str) -> None:
    first = text.find("\nTree=")
    end = text.find("\nend of trees")
    if first < 0 or end < 0 or end < first:
        raise _Bad("no complete list of trees ('end of trees' missing)")
    header = _kv(text[:first].splitlines()[1:])
    for key in (
        "version",
        "num_class",
        "num_tree_per_iteration",
        "max_feature_idx",
        "feature_names",
    ):
        if key not in header:
            raise _Bad(f"header lacks {key}")
    (num_class,) = _ints(header, "num_class", 1)
    (per_iter,) = _ints(header, "num_tree_per_iteration", 1)
    (max_idx,) = _ints(header, "max_feature_idx", 1)
    if num_class < 1 or per_iter < 1 or max_idx < 0:
        raise _Bad("num_class, num_tree_per_iteration or max_feature_idx out of range")
    _check_objective(header, num_class, per_iter)
    n_features = max_idx + 1
    if len(header["feature_names"].split()) != n_features:
        raise _Bad("feature_names does not match max_feature_idx")
    if "feature_infos" in header and len(header["feature_infos"].split()) != n_features:
        raise _Bad("feature_infos does not match max_feature_idx")
    body = text[first + 1 : end + 1]
    starts = [m.start() for m in re.finditer(r"^Tree=", body, flags=re.MULTILINE)]
    bounds = starts + [len(body)]
    blocks = [body[bounds[i] : bounds[i + 1]] for i in range(len(starts))]
    if not blocks or len(blocks) % per_iter:
        raise _Bad(f"{len(blocks)} trees is not a multiple of num_tree_per_iteration={per_iter}")
    if "tree_sizes" in header:
        sizes = _ints(header, "tree_sizes", len(blocks))
        if sizes != [len(b.encode("utf-8")) for b in blocks]:
            raise _Bad("tree_sizes do not match the trees")
    for i, blk in enumerate(blocks):
        label = blk.split("\n", 1)[0].strip()
        if label != f"Tree={i}":
            raise _Bad(f"tree {i} is labelled {label!r}")
        try:
            _check_tree(_kv(_tree_lines(blk)), n_features)
        except _Bad as exc:
            raise _Bad(f"tree {i}: {exc}") from None
    _check_tail(text[end + 1 :].splitlines()[1:])


def check_model_text(text: str, name: str) -> None:
    """Raise TeacherError unless ``text`` is a structurally complete LightGBM model.

    Parameters
    ----------
    text : str
        The model file's content.
    name : str
        File name for the message.
    """
    try:
        _check(text.replace("\r\n", "\n"))
    except _Bad as exc:
        raise TeacherError(
            f"{name} is not a complete LightGBM model ({exc});",
            hint="the file may be truncated or corrupted: re-save it with booster.save_model.",
        ) from None
    except (ValueError, IndexError) as exc:
        raise TeacherError(f"{name} is not a complete LightGBM model ({exc}).") from None
