# Two commands matter: `make demo` and `make test`. Everything they need is installed
# here, into virtualenvs under build/ and infra/.venv: nothing by hand.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := build/venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR := build/demo
DEMO_SIZE ?= small
# The many-models sample's demo size: small is 200 stores x 3 brands = 600 series.
DEMO_MANY_MODELS_SIZE ?= small
# The generated projects' Makefiles find uv here and install with it.
export PATH := $(CURDIR)/$(BIN):$(PATH)
# pyspark ships only as a 450 MB sdist. A registry that sends no cache headers makes uv fetch,
# unpack and build it again on every install, and keep each copy (1.4 GB) in its cache: the dozen
# installs of one `make test` would fill a CI disk. So it is built once into a wheelhouse that
# every install under this Makefile (the generated projects' too) finds first.
WHEELHOUSE := build/wheels
PYSPARK_PIN := $(shell grep -o 'pyspark==[0-9.]*' '{{cookiecutter.project}}/pyproject.toml')
PYSPARK_WHEEL := $(WHEELHOUSE)/$(subst ==,-,$(PYSPARK_PIN))-py2.py3-none-any.whl
export UV_FIND_LINKS := $(CURDIR)/$(WHEELHOUSE)
export PIP_FIND_LINKS := $(CURDIR)/$(WHEELHOUSE)

ACTIONLINT := build/bin/actionlint
# The security scanners template CI runs (ci/scanners.py), pinned, each in its own virtualenv:
# checkov pins packaging and python-dateutil below build/venv's, and ships its own fork of
# detect-secrets under the same module name, so neither can share build/venv or each other's.
CHECKOV_PIN := checkov==3.3.30
DETECT_SECRETS_PIN := detect-secrets==1.5.0
CHECKOV := build/checkov/.installed
DETECT_SECRETS := build/detect-secrets/.installed

## List the targets and what they do (this list).
help:
	@echo "make <target>, where <target> is one of:"
	@awk '/^## /{doc=substr($$0,4); next} /^[a-zA-Z][a-zA-Z0-9_-]*:/{if (doc) {split($$0,t,":"); printf "  %-14s %s\n", t[1], doc}} {doc=""}' $(firstword $(MAKEFILE_LIST))

.PHONY: help setup demo test test-template test-infra lint clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11, or run with PYTHON=/path/to/python3.11"; exit 2; }
	@command -v java >/dev/null 2>&1 || { echo "java not found: Spark 4 needs Java 17 on PATH"; exit 2; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	mkdir -p $(WHEELHOUSE)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e ".[dev]"
	touch $(STAMP)

$(PYSPARK_WHEEL): {{cookiecutter.project}}/pyproject.toml | $(STAMP)
	$(BIN)/python -m pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir $(WHEELHOUSE) '$(PYSPARK_PIN)'

# actionlint from the Go module proxy (a Go toolchain is fetched from it too when Go is missing).
$(ACTIONLINT): ci/install_actionlint.sh
	ci/install_actionlint.sh

$(CHECKOV): Makefile | $(STAMP)
	$(BIN)/uv venv --quiet --allow-existing --python $(PYTHON) build/checkov
	$(BIN)/uv pip install --quiet --python build/checkov/bin/python '$(CHECKOV_PIN)'
	touch $@

$(DETECT_SECRETS): Makefile | $(STAMP)
	$(BIN)/uv venv --quiet --allow-existing --python $(PYTHON) build/detect-secrets
	$(BIN)/uv pip install --quiet --python build/detect-secrets/bin/python '$(DETECT_SECRETS_PIN)'
	touch $@

## Install the root tooling (build/venv), the pyspark wheel, actionlint, the scanners and infra/.venv.
setup: $(STAMP) $(PYSPARK_WHEEL) $(ACTIONLINT) $(CHECKOV) $(DETECT_SECRETS)
	$(MAKE) -C infra setup

# Generate a project with default answers, set it up, run each sample's pipeline, print their summaries.
## Generate a project with default answers, run its pipelines locally, print the summaries.
demo: $(STAMP) $(PYSPARK_WHEEL)
	@rm -rf $(DEMO_DIR)
	@echo "== Generating a project with the default answers into $(DEMO_DIR) =="
	@$(BIN)/cookiecutter --no-input --output-dir $(DEMO_DIR) . >/dev/null
	@project=$$(ls -d $(DEMO_DIR)/*/) && \
	echo "== Setting up $$project (virtualenv, Delta Lake jars) ==" && \
	$(MAKE) --no-print-directory -s -C $$project setup PYTHON=$(PYTHON) && \
	if [ -d $$project/code/*/batch_scoring ]; then echo "" && echo "== Batch-scoring sample (SIZE=$(DEMO_SIZE)) ==" && \
	$(MAKE) --no-print-directory -s -C $$project pipeline SIZE=$(DEMO_SIZE); fi && \
	if [ -d $$project/code/*/many_models ]; then echo "" && echo "== Many-models sample (SIZE=$(DEMO_MANY_MODELS_SIZE)) ==" && \
	$(MAKE) --no-print-directory -s -C $$project many-models SIZE=$(DEMO_MANY_MODELS_SIZE); fi && \
	echo "" && echo "Demo project: $$project" && \
	echo "Next: cd $$project && make mlflow-ui  (the runs and the registry; 'make serve' serves the many-models champion, 'make help' lists the rest)"

# ci/make_test.py runs template CI, the template tests and the infra tests together (each uses
# about one core), then the generated projects' own make test alone (their Spark JVMs slow
# whatever runs beside them). Logged suites print their summary, or their failure, at the end.
## Everything: lint, template CI, template tests, infra tests (docs/performance.md: how long).
test: lint $(PYSPARK_WHEEL) $(ACTIONLINT) $(CHECKOV) $(DETECT_SECRETS)
	$(BIN)/python -m ci.make_test

# The template CI command: every option combination against the official validators, and the
# generated repositories' own fast tests per (cicd x compute) pair; then the template tests.
## Template CI (every option combination vs. official validators and scanners) and the template tests.
test-template: $(STAMP) $(PYSPARK_WHEEL) $(ACTIONLINT) $(CHECKOV) $(DETECT_SECRETS)
	$(BIN)/python -m ci.template_ci
	$(BIN)/python -m pytest tests

## The infra tests under Pulumi mocks (make -C infra test).
test-infra: $(PYSPARK_WHEEL)
	$(MAKE) -C infra test

## ruff over hooks, tests, ci and dsplatform.
lint: $(STAMP)
	$(BIN)/ruff check hooks tests ci dsplatform

## Remove build/ (virtualenvs, wheels, demo project).
clean:
	rm -rf build
