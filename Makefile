# gnnviz developer commands. `make demo` and `make test` set everything up on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
# The CPU build installs quickly; an unpinned torch pulls gigabytes of CUDA packages.
# Override for a GPU machine, e.g. `make install TORCH_SPEC="torch==2.13.0 --index-url ..."`.
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
MIRROR ?= $(abspath ../shared/datasets)

.PHONY: install demo test lint check bench stress clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH_SPEC)
	$(BIN)/pip install --quiet -e ".[dev]"
	# Bytecode for gnnviz's own modules: where PYTHONDONTWRITEBYTECODE is set, Python would compile
	# them from source on every start (0.1 to 0.3 s of a 3 s `gnnviz compare`, measured).
	$(BIN)/python -m compileall -q gnnviz
	touch $@

demo: install
	$(BIN)/gnnviz train --config configs/gat_karate.yaml --name demo-karate-$$(date +%Y%m%d-%H%M%S) --out outputs > .demo-run
	$(BIN)/gnnviz visualize --run "$$(tail -n 1 .demo-run)" > .demo-viz
	@cat .demo-viz
	@echo "open $$(tail -n 1 .demo-viz)/index.html for every figure, or $$(tail -n 1 .demo-viz)/explorer.html to explore the graph"
	@rm -f .demo-run .demo-viz

# Test files run in parallel (pytest-xdist), one file per worker at a time so that a file's shared
# trained runs are made once; TEST_JOBS=0 runs them in one process.
TEST_JOBS ?= auto
test: install
	GNNVIZ_DATA_MIRROR=$${GNNVIZ_DATA_MIRROR:-$(MIRROR)} $(BIN)/python -m pytest -q -n $(TEST_JOBS) --dist loadfile

lint: install
	$(BIN)/ruff check gnnviz tests bench
	$(BIN)/ruff format --check gnnviz tests bench

# What CI runs: the linter, the format check, then the test suite.
check: lint test

bench: install
	GNNVIZ_DATA_MIRROR=$${GNNVIZ_DATA_MIRROR:-$(MIRROR)} $(BIN)/python bench/run.py

# visualize interrupted at random moments under a busy loop per core: no hang, no damage (README: Performance).
stress: install
	GNNVIZ_DATA_MIRROR=$${GNNVIZ_DATA_MIRROR:-$(MIRROR)} $(BIN)/python bench/stress_viz.py --runs $${STRESS_RUNS:-200}

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache bench/results
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find outputs -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
