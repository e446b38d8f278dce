#!/bin/bash
# The ablation of the default recipe: each addition taken out alone, on two tasks, seed 0; then the table.
#   bash experiments/default-recipe/ablation.sh [TASK ...]    (default: hopper walker2d)
# Runs go to runs/default-recipe/ablation/; a finished run is not run again, a stopped one resumes.
# The recipe itself on these tasks and seed is bench-default's cell (runs/bench/default/TASK-default-s0).
set -e
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} MUJOCO_GL=egl
tasks=${*:-hopper walker2d}
declare -A budget=([hopper]=1000000 [walker2d]=2000000 [halfcheetah]=2000000 [ant]=2000000)
for task in $tasks; do
  for variant in no-ranking no-floor all-demos plain; do
    config=experiments/default-recipe/$variant.yaml
    [ $variant = plain ] && config=experiments/before-recipe.yaml
    out=runs/default-recipe/ablation/$task-$variant-s0
    steps=${budget[$task]}
    if [ -f $out/metrics.csv ] && tail -1 $out/metrics.csv | awk -F, -v s=$steps '$2 >= s {f=1} END {exit !f}'; then continue; fi
    resume=""; [ -f $out/config.yaml ] && resume=--resume
    .venv/bin/irl-gan train --task $task --demos demos/$task.h5 --config $config --steps $steps --seed 0 --out $out --no-progress $resume
  done
done
args=()
for task in $tasks; do
  [ -d runs/bench/default/$task-default-s0 ] && args+=("$task recipe=runs/bench/default/$task-default-s0")
  for variant in no-ranking no-floor all-demos plain; do
    [ -d runs/default-recipe/ablation/$task-$variant-s0 ] && args+=("$task $variant=runs/default-recipe/ablation/$task-$variant-s0")
  done
done
.venv/bin/python benchmarks/run_curves.py --title "Ablation of the default recipe, seed 0" "${args[@]}" > experiments/default-recipe/ablation.md
