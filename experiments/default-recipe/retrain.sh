#!/bin/bash
# Do the default recipe's rewards train a fresh agent? For each task and seed, `irl-gan retrain` at its
# defaults (the task's generator and budget; the mean of the cell's cost snapshots, or its final cost
# where it kept none) on bench-default's cell TASK-default-sS (one reward per seed, no snapshot
# chosen), then the table retrain.md here.
#   bash experiments/default-recipe/retrain.sh [TASK ...]    (default: halfcheetah hopper walker2d)
# A finished retrain is not run again, a stopped one resumes; a cell not finished is skipped.
set -e
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} MUJOCO_GL=egl
tasks=${*:-halfcheetah hopper walker2d}
dirs=()
for task in $tasks; do
  for seed in 0 1 2; do
    run=runs/bench/default/$task-default-s$seed
    out=runs/default-recipe/retrain/$task-s$seed
    # a cell is finished once the suite has written its result (a stopped one has a cost.pt too)
    if [ ! -f runs/bench/default/cells/$(basename $run).json ]; then echo "$run: not finished yet, skipped"; continue; fi
    if [ ! -f $out/retrain.yaml ]; then
      resume=""; [ -f $out/config.yaml ] && resume=--resume
      .venv/bin/irl-gan retrain $run --seed $seed --out $out --no-progress $resume
    fi
    dirs+=($out)
  done
done
.venv/bin/python experiments/default-recipe/retrain_table.py "${dirs[@]}" > experiments/default-recipe/retrain.md
cat experiments/default-recipe/retrain.md
