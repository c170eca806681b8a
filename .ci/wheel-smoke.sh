#!/usr/bin/env bash
# Install distill2rules the way users do and smoke-test it (called by `make wheel-smoke`).
#
# 1. build the wheel; 2. install it (non-editable) into a fresh venv with the core dependencies
# only and run --help, --version, `python -m distill2rules`, predict/explain/verify/export on the
# committed fixture artifact, and check that a command needing an extra fails with one line naming
# it; 3. install it with [all] into another fresh venv and run `quickstart`.
# Every command runs outside the source tree, so only the installed package is importable.
# Sizes and times are printed (and written to $SMOKE_DIR/summary.txt).
#
#   SMOKE_DIR      work directory (default build/smoke; wiped first)
#   SMOKE_ALL_VENV reuse this venv for the [all] part instead of a fresh one (e.g. .venv)
#   PYTHON         interpreter for the venvs (default python3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-python3}
WORK=${SMOKE_DIR:-build/smoke}
rm -rf "$WORK"
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
FIX="$ROOT/tests/fixtures"
ART="$FIX/artifact_german_logreg"
ROWS="$FIX/german_rows.csv"
SUMMARY="$WORK/summary.txt"
: > "$SUMMARY"

say() { echo "wheel-smoke: $*" | tee -a "$SUMMARY"; }
fail() { echo "wheel-smoke: FAILED: $*" >&2; exit 1; }
install() {  # install VENV SPEC -> prints seconds, MB, distributions
  local venv=$1 spec=$2 t0 t1
  "$PYTHON" -m venv "$venv"
  t0=$(date +%s)
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -c "$ROOT/constraints.txt" "$spec" \
    2> >(grep -v "^WARNING: Location" >&2)
  t1=$(date +%s)
  echo "$((t1 - t0)) s, $(du -sm "$venv" | cut -f1) MB, $("$venv/bin/python" -m pip list --disable-pip-version-check 2>/dev/null | tail -n +3 | wc -l) distributions"
}

# ---------------------------------------------------------------- build
"$PYTHON" -m pip wheel --quiet --disable-pip-version-check --no-deps -w "$WORK/dist" "$ROOT" \
  2> >(grep -v "^WARNING: Location" >&2)
WHEEL=$(ls "$WORK"/dist/distill2rules-*.whl)
say "built $(basename "$WHEEL") ($(du -k "$WHEEL" | cut -f1) kB)"

# ---------------------------------------------------------------- core only
say "core install: $(install "$WORK/core" "$WHEEL")"
cd "$WORK"  # outside the source tree
BIN="$WORK/core/bin"
for mod in sklearn scipy lightgbm interpret torch shap matplotlib; do
  if "$BIN/python" -c "import $mod" 2>/dev/null; then fail "core install pulled in $mod"; fi
done
"$BIN/distill2rules" --help > help.txt || fail "distill2rules --help"
grep -q "predict" help.txt || fail "--help lists no commands"
version=$("$BIN/distill2rules" --version) || fail "distill2rules --version"
want=$("$BIN/python" -c "import importlib.metadata as m; print(m.version('distill2rules'))")
[[ "$version" == *"$want"* ]] || fail "--version printed '$version', expected $want"
"$BIN/python" -m distill2rules --help > /dev/null || fail "python -m distill2rules --help"
"$BIN/distill2rules" verify "$ART" || fail "verify"
"$BIN/distill2rules" predict "$ART" --data "$ROWS" --out p.csv 2>/dev/null || fail "predict"
[[ $(wc -l < p.csv) -eq 9 ]] || fail "predict wrote $(wc -l < p.csv) lines, expected 9"
"$BIN/distill2rules" predict "$ART" --data - --out - < "$ROWS" > p_stdio.csv 2>/dev/null || fail "predict --data - --out -"
cmp -s p.csv p_stdio.csv || fail "predict through stdin/stdout differs from files"
"$BIN/distill2rules" explain "$ART" --data "$ROWS" --json > explain.jsonl || fail "explain"
[[ $(wc -l < explain.jsonl) -eq 8 ]] || fail "explain --json gave $(wc -l < explain.jsonl) lines, expected 8"
"$BIN/distill2rules" export "$ART" --format onnx --out student.onnx > /dev/null || fail "export onnx"
"$BIN/distill2rules" export "$ART" --format rulecard --out card.md > /dev/null || fail "export rulecard"
"$BIN/python" - "$ART" "$ROWS" <<'PY' || fail "scoring student.onnx with onnxruntime"
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd

from distill2rules import spec as spec_mod
from distill2rules.exporters.onnx import onnx_feeds

spec = spec_mod.load(sys.argv[1] + "/student.json")
rows = pd.read_csv(sys.argv[2])
p = spec_mod.evaluate(spec, rows)["probabilities"]
model = onnx.load("student.onnx")
sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
q = sess.run(["probabilities"], onnx_feeds(model, rows))[0]
assert np.abs(p - q).max() < 1e-5, np.abs(p - q).max()
print(f"onnxruntime parity on {len(rows)} rows: max |dp| = {np.abs(p - q).max():.1e}")
PY
set +e
msg=$("$BIN/distill2rules" quickstart --out qs 2>&1 >/dev/null); rc=$?
set -e
[[ $rc -eq 2 && $(printf '%s\n' "$msg" | wc -l) -eq 1 && "$msg" == *"distill2rules[fit]"* ]] \
  || fail "quickstart without [fit] should fail with one line naming the extra (rc=$rc): $msg"
say "core: --help, --version, python -m, verify, predict (files and stdin/stdout), explain, export ok; fit commands name [fit]"

# ---------------------------------------------------------------- [all]
if [[ -n "${SMOKE_ALL_VENV:-}" ]]; then
  ALL=$(cd "$ROOT" && cd "$SMOKE_ALL_VENV" && pwd)
  say "[all]: reusing $ALL"
else
  ALL="$WORK/all"
  say "[all] install: $(install "$ALL" "$WHEEL[all]")"
fi
t0=$(date +%s)
"$ALL/bin/distill2rules" quickstart --out "$WORK/quickstart" --quiet > quickstart.txt || fail "quickstart with [all]"
"$ALL/bin/distill2rules" verify "$(ls -d "$WORK"/quickstart/*/ | head -1)" > /dev/null || fail "verify a quickstart artifact"
say "[all]: quickstart ok in $(( $(date +%s) - t0 )) s"
