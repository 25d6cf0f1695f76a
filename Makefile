# shopintent: one command per chore. `make help` lists them.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PYTHON ?= python3.11
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.DEFAULT_GOAL := help
.PHONY: help install lint format typecheck test run data clean floors

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed ## Create .venv/ and install the project with dev extras

lint: install ## Lint and check formatting with ruff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install ## Reformat the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install ## Type-check with mypy
	$(BIN)/mypy

test: install ## Run the test suite (fine-tunes a tiny real model; offline)
	$(BIN)/pytest

# The serving install at the lowest versions pyproject.toml allows (constraints/floor.txt),
# then the serving tests. Left out: the recommender's (they need torch, a [train] extra) and
# three that build Starlette's TestClient with a client address (a test API of Starlette 0.44+).
FLOOR_VENV ?= .venv-floor
floors: ## Install the dependency floors in .venv-floor and run the serving tests there
	test -d $(FLOOR_VENV) || $(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_VENV)/bin/pip install --quiet -c constraints/floor.txt . pytest hypothesis
	$(FLOOR_VENV)/bin/python -m pytest -q -p no:cacheprovider -m "not slow" \
		tests/core tests/test_architecture.py tests/bot tests/actions tests/privacy \
		--ignore=tests/actions/test_personal.py \
		--deselect tests/bot/test_hardening.py::test_a_form_posted_with_another_sessions_csrf_token_is_refused \
		--deselect tests/bot/test_hardening.py::test_repeated_wrong_logins_get_429_but_another_address_may_log_in \
		--deselect tests/bot/test_hardening.py::test_a_browser_address_is_limited_across_its_conversations

data: install ## Rebuild training_data/ from the copies in training_data/sources/
	$(PY) scripts/build_training_data.py

run: install ## Main command: train the default model if missing, seed the shop, start bot + action server
	$(BIN)/shopintent up

clean: ## Remove caches (keeps .venv and models)
	rm -rf .pytest_cache .mypy_cache .ruff_cache build *.egg-info
