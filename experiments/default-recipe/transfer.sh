#!/bin/bash
# Does the default recipe's Ant reward transfer? `irl-gan retrain` at its defaults on ant-disabled
# (the two front legs shortened, their motors off) with the final cost of bench-default's cell
# ant-default-sS, beside the same generator trained on ant-disabled's own reward for the same env steps;
# then the ratio of their true returns (the AIRL paper's: 0.41), in transfer.md here.
#   bash experiments/default-recipe/transfer.sh [SEED ...]    (default: 0)
# A finished run is not run again, a stopped one resumes.
set -e
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} MUJOCO_GL=egl
pairs=()
for seed in ${*:-0}; do
  run=runs/bench/default/ant-default-s$seed
  retrain=runs/default-recipe/transfer/ant-disabled-s$seed
  oracle=runs/default-recipe/transfer/ant-disabled-rl-s$seed
  # a cell is finished once the suite has written its result (a stopped one has a cost.pt too)
  if [ ! -f runs/bench/default/cells/$(basename $run).json ]; then echo "$run: not finished yet, skipped"; continue; fi
  if [ ! -f $retrain/retrain.yaml ]; then
    resume=""; [ -f $retrain/config.yaml ] && resume=--resume
    .venv/bin/irl-gan retrain $run --task ant-disabled --seed $seed --out $retrain --no-progress $resume
  fi
  resume=""; [ -f $oracle/config.yaml ] && resume=--resume
  .venv/bin/irl-gan train --task ant-disabled --algo rl --seed $seed --out $oracle --no-progress $resume
  pairs+=("$retrain=$oracle")
done
.venv/bin/python experiments/default-recipe/transfer_ratio.py "${pairs[@]}" > experiments/default-recipe/transfer.md
cat experiments/default-recipe/transfer.md
