# irl_gan: `make demo` and `make test` work from a fresh clone; each creates .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PIP    := $(BIN)/python -m pip --disable-pip-version-check
export MUJOCO_GL ?= egl

.PHONY: install test demo clean peer-imitation bench-disc-step

# torch goes in first, pinned by constraints.txt to the CPU build 2.13.0, so nothing
# later pulls a CUDA build of the newest torch.
$(STAMP): setup.cfg constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -c constraints.txt "torch>=2.2,<3"
	$(PIP) install -q -c constraints.txt -e ".[test]"
	touch $@

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q

# The main job on shipped demonstrations: inspect the shipped demos, re-record a few
# episodes from the shipped expert, and evaluate it.
demo: $(STAMP)
	$(BIN)/irl-gan demos info demos/hopper.h5
	$(BIN)/irl-gan record hopper --agent agents/hopper --episodes 5 --deterministic --out runs/demo/hopper-5.h5 --force
	$(BIN)/irl-gan eval-policy agents/hopper --task hopper --episodes 5

# imitation 1.0.1, the peer we benchmark against, pins gymnasium 0.29; its code runs on ours,
# so it goes into its own overlay directory (--no-deps), never into irl_gan's dependencies.
PEER := .peer/imitation
$(PEER)/imitation: | $(STAMP)
	$(PIP) install -q --no-deps --target $(PEER) imitation==1.0.1

peer-imitation: $(PEER)/imitation

bench-disc-step: $(STAMP) $(PEER)/imitation
	PYTHONPATH=$(PEER) $(BIN)/python benchmarks/disc_step.py

clean:
	rm -rf $(VENV) .peer runs .pytest_cache .hypothesis
