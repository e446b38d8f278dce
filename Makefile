# irl_gan: `make demo` and `make test` work from a fresh clone; each creates .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PIP    := $(BIN)/python -m pip --disable-pip-version-check
export MUJOCO_GL ?= egl
# Small networks train fastest on one thread, and a second process never fights the first for cores.
export OMP_NUM_THREADS ?= 1

.PHONY: install test demo clean peer-imitation bench-disc-step bench-quick bench bench-fair bench-default

# torch goes in first, pinned by constraints.txt to the CPU build 2.13.0, so nothing
# later pulls a CUDA build of the newest torch.
$(STAMP): setup.cfg constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -c constraints.txt "torch>=2.6,<3"
	$(PIP) install -q -c constraints.txt -e ".[test]"
	touch $@

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q

# The main job on shipped demonstrations: learn a policy and a cost for Hopper, a task that can fall,
# from 4 expert episodes (the default recipe, PPO generator, 500k env steps), then evaluate the learned policy
# on the true reward over 20 episodes.
DEMO_RUN := runs/demo-hopper
demo: $(STAMP)
	$(BIN)/irl-gan demos info demos/hopper.h5
	rm -rf $(DEMO_RUN)
	$(BIN)/irl-gan train --task hopper --demos demos/hopper.h5 --steps 500000 --seed 0 --out $(DEMO_RUN)
	$(BIN)/irl-gan eval-policy $(DEMO_RUN) --episodes 20

# imitation 1.0.1, the peer we benchmark against, pins gymnasium 0.29; its code runs on ours,
# so it goes into its own overlay directory (--no-deps), never into irl_gan's dependencies.
PEER := .peer/imitation
$(PEER)/imitation: | $(STAMP)
	$(PIP) install -q --no-deps --target $(PEER) imitation==1.0.1

peer-imitation: $(PEER)/imitation

# The benchmark runner (benchmarks/bench.py): every method, ours and imitation's, and the oracle,
# on the same demos, envs and budgets; resumable. Results in benchmarks/results/bench-SUITE.*
bench-quick: $(STAMP) $(PEER)/imitation
	$(BIN)/python benchmarks/bench.py --suite quick --jobs 2

bench: $(STAMP) $(PEER)/imitation
	$(BIN)/python benchmarks/bench.py --suite full --jobs 2

# The default recipe (no --config) on the seven MuJoCo tasks, 3 seeds, beside the oracle (hours on
# 2 cores; resumable, and --adopt-committed goes on from the committed results).
bench-default: $(STAMP)
	$(BIN)/python benchmarks/bench.py --suite default --jobs 2 --adopt-committed

# The comparison the peer's authors would accept: imitation as they run it on a fixed horizon,
# ours beside it on both protocols (days on 2 cores; resumable). `--dry-run` lists its cells.
bench-fair: $(STAMP) $(PEER)/imitation
	$(BIN)/python benchmarks/bench.py --suite fair --jobs 2

bench-disc-step: $(STAMP) $(PEER)/imitation
	PYTHONPATH=$(PEER) $(BIN)/python benchmarks/disc_step.py

clean:
	rm -rf $(VENV) .peer runs .pytest_cache .hypothesis
