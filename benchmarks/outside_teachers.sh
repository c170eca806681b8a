#!/usr/bin/env bash
# Issue 2 "done when": teachers trained outside the project, distilled by `fit` into logreg and EBM.
set -u
cd "$(dirname "$0")/.."
export DISTILL2RULES_DATA="${DISTILL2RULES_DATA:-$(cd ../shared/datasets 2>/dev/null && pwd)}" OMP_NUM_THREADS=2
PY=.venv/bin/python
for ds in german_credit adult; do
  d=runs/outside/$ds; mkdir -p $d
  $PY -c "
from distill2rules.data import load_dataset, split_frame
ds=load_dataset('$ds'); ds.frame.to_csv('$d/data.csv', index=False)
split_frame(ds.frame, ds.target, seed=0).train.to_csv('$d/train.csv', index=False)  # the teacher never sees fit's test rows
print(ds.target)" > $d/target
  tgt=$(cat $d/target)
  $PY examples/train_teacher_outside.py --data $d/train.csv --target $tgt --out-dir $d > $d/train.log 2>&1
  # the MLP's feature CSV is written from train.csv; rebuild it from the full data with the same columns
  $PY -c "
import pandas as pd
cols=list(pd.read_csv('$d/mlp_features.csv', nrows=1).columns); pd.read_csv('$d/data.csv')[cols].to_csv('$d/mlp_features.csv', index=False)"
  for st in logreg ebm; do
    .venv/bin/distill2rules fit --teacher $d/model.txt --data $d/data.csv --target $tgt --student $st --out $d/gbt_$st -q --json > $d/gbt_$st.json 2>$d/gbt_$st.err
    .venv/bin/distill2rules fit --teacher $d/mlp.pt --data $d/mlp_features.csv --target $tgt --student $st --out $d/mlp_$st -q --json > $d/mlp_$st.json 2>$d/mlp_$st.err
  done
done
$PY - <<'PY'
import json, glob
for f in sorted(glob.glob('runs/outside/*/*_*.json')):
    try:
        m = json.load(open(f)); t = m['test']
        print(f.split('/')[-2], f.split('/')[-1][:-5], 'teacher acc %.4f' % t['teacher']['accuracy'], 'student acc %.4f fid %.4f' % (t['student']['accuracy'], t['student']['fidelity']), 'noKD acc %.4f fid %.4f' % (t['baseline']['accuracy'], t['baseline']['fidelity']), 'timings', m.get('timings'))
    except Exception as e:
        print(f, 'FAILED', e, open(f[:-5]+'.err').read()[-300:])
PY
