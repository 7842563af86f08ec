# Everyday commands. `make run` and `make test` work on a new machine: they
# install and train first, and skip whatever is already up to date.

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
RASA := $(BIN)/rasa
# The Rasa server: `rasa`, without the JAX import that TensorFlow makes (0.5 s of its start).
RASA_SERVER := $(PY) -m scripts.rasa_without_jax
INSTALLED := $(VENV)/.installed
SPACY_PIPELINE := models/spacy_pipeline
MODEL := models/assistant.tar.gz
WEBCHAT_NPM := webchat/node_modules/.installed
WEBCHAT_BUILT := webchat/public/widget.js webchat/public/widget.css webchat/public/socket.io.min.js

# Patient data never leaves the clinic's machines: no Rasa telemetry or error
# reports, from any command run here.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
# Rasa's training cache, by its full path: Rasa records where each cached result is as
# the path it was given, and a relative one cannot be found from a copy of the project
# (tests/test_adding_a_procedure.py trains one with this cache).
export RASA_CACHE_DIRECTORY ?= $(CURDIR)/.rasa/cache
export PYTHONDONTWRITEBYTECODE := 1

# Slack and Telegram (credentials.yml) are off unless these are set, in the
# environment or in `.env` (which `make run` reads). Rasa refuses to start when one
# is missing altogether, so each defaults to empty (= channel off).
CHANNEL_VARIABLES := SLACK_BOT_TOKEN SLACK_SIGNING_SECRET SLACK_API_URL TELEGRAM_TOKEN \
	TELEGRAM_BOT_NAME TELEGRAM_WEBHOOK_URL TELEGRAM_SECRET_TOKEN TELEGRAM_API_URL
$(foreach variable,$(CHANNEL_VARIABLES),$(eval export $(variable) ?=))

# Where `make run` listens, and where it keeps conversations (SQLite, read by
# endpoints.yml), feedback and its API token. The tests run it on other ports and
# folders; endpoints.scale-out.yml is for several replicas (docs/deployment.md).
# The action server is for the Rasa server only: on this machine unless ACTIONS_HOST
# says otherwise; with ACTIONS_TOKEN set (both servers), it refuses requests
# without that token (rasa_sdk_plugins/access.py, docs/deployment.md "Access").
export ACTIONS_HOST ?= 127.0.0.1
export ACTIONS_TOKEN ?=
export ACTIONS_PORT ?= 5055
export RASA_PORT ?= 5005
export WEB_PORT ?= 8080
export STORAGE ?= storage
export ENDPOINTS ?= endpoints.yml
export ACTION_SERVER_URL ?= http://127.0.0.1:$(ACTIONS_PORT)/webhook
export TRACKER_DB ?= $(STORAGE)/conversations.db
export FEEDBACK_DB ?= $(STORAGE)/feedback.db

# endpoints.scale-out.yml (several replicas, docs/deployment.md): PostgreSQL and Redis. Rasa
# refuses to start when a variable that the endpoints file names is unset.
export POSTGRES_HOST ?= localhost
export POSTGRES_PORT ?= 5432
export POSTGRES_DB ?= rasa
export POSTGRES_USER ?= rasa
export POSTGRES_PASSWORD ?=
export REDIS_HOST ?= localhost
export REDIS_PORT ?= 6379
export REDIS_PASSWORD ?=

# The Rasa server's processes (Sanic workers): one per core but one, which the action
# server and TensorFlow's threads use; so 1 on 2 cores, where a second worker measured
# no faster (README, "Performance"). The workers share the conversations' locks and
# the rate limits through the lock store (endpoints.yml: SQLite; scale-out: Redis).
export SANIC_WORKERS ?= $(shell cores=$$(nproc 2>/dev/null || echo 1); echo $$(( cores > 2 ? cores - 1 : 1 )))

# Largest request body the Rasa server reads (Sanic reads SANIC_* variables); the
# guard's limits (channels/guard.py, docs/deployment.md "Reliability and limits") are read the same way.
export SANIC_REQUEST_MAX_SIZE ?= 1000000

# What the spaCy pipeline is built from. The glossary and the plain versions are read by
# the action server only: editing them needs a restart, not a retraining.
KB_FILES := $(filter-out data/knowledge_base/glossary.yml data/knowledge_base/plain,\
	$(wildcard data/knowledge_base/*))
TRAINING_DATA := $(shell find data -name '*.yml' -not -path 'data/knowledge_base/*')
PIPELINE_CODE := scripts/build_spacy_pipeline.py components/procedure_patterns.py \
	actions/knowledge_base.py actions/document_parser.py

.PHONY: help install train run shell test validate nlu-report bench-nlu kb-report report purge backup restore bench lock clean image test-deploy

help:
	@echo "make run        install, train, start the assistant (REST on :5005, actions on :5055)"
	@echo "make shell      talk to the assistant in the terminal, as a patient would"
	@echo "make test       install, train and run every test"
	@echo "make train      rebuild the spaCy pipeline and the model if data or config changed"
	@echo "make nlu-report NLU evaluation on the held-out set (results/nlu)"
	@echo "make bench      speed and memory, against the stock rasa init bot (~10 min)"
	@echo "make bench-nlu  answer quality: held-out, sealed, safety and added-procedure sets, against BM25"
	@echo "make kb-report  reading grade of every section of the knowledge base"
	@echo "make report     questions the assistant could not answer, feedback, the guard's replies per day"
	@echo "make purge      delete conversations older than RETENTION_DAYS (30)"
	@echo "make backup     copy conversations and feedback to BACKUP_DIR (backups), keep BACKUP_KEEP (14)"
	@echo "make restore    FILE=backups/...db: put a backup back (the assistant stopped)"
	@echo "make install    create $(VENV) with the pinned dependencies, build the chat widget"
	@echo "make image      build the container image (docs/deployment.md), tagged with the git commit"
	@echo "make test-deploy build the image and test it with Docker Compose (part of make test)"

install: $(INSTALLED) system-packages $(WEBCHAT_BUILT)

$(INSTALLED): requirements.txt
	@set -e; if [ ! -x $(PY) ]; then \
		python=$$(PYTHON="$(PYTHON)" scripts/find-python310); \
		echo "Creating $(VENV) with $$python"; \
		"$$python" -m venv $(VENV); \
	fi
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# Debian packages, only those missing: npm to build the widget; for the tests,
# also chromium (needs root the first time).
.PHONY: system-packages test-packages
system-packages:
	@scripts/install-system-packages

test-packages:
	@scripts/install-system-packages --tests

# The web chat widget: `npm ci` when the lock file changes, then the files served
# from webchat/public/ next to index.html (copies, gitignored).
$(WEBCHAT_NPM): webchat/package.json webchat/package-lock.json
	cd webchat && npm ci --no-audit --no-fund
	touch $@

webchat/public/socket.io.min.js: $(WEBCHAT_NPM)
	cp webchat/node_modules/socket.io-client/dist/socket.io.min.js $@

webchat/public/%: webchat/src/%
	cp $< $@

train: $(MODEL)

$(SPACY_PIPELINE)/meta.json: $(KB_FILES) $(PIPELINE_CODE) | $(INSTALLED)
	$(PY) -m scripts.build_spacy_pipeline $(SPACY_PIPELINE)

# The spaCy pipeline is loaded from its path at run time; the model only needs
# retraining when training data, config or domain change.
$(MODEL): config.yml domain.yml $(TRAINING_DATA) $(wildcard components/*.py) \
		$(SPACY_PIPELINE)/meta.json | $(INSTALLED)
	$(RASA) train --fixed-model-name assistant --out models
	touch $@

# supervisord starts the servers and restarts any that crashes. The HTTP API is
# behind a token: $RASA_API_TOKEN, else one made once in $(STORAGE)/rasa-api-token.
run: install train
	@mkdir -p $(STORAGE)
	@test -s $(STORAGE)/rasa-api-token || (umask 077; \
		$(PY) -c 'import secrets; print(secrets.token_urlsafe(32))' > $(STORAGE)/rasa-api-token)
	RASA_API_TOKEN=$${RASA_API_TOKEN:-$$(cat $(STORAGE)/rasa-api-token)} \
		$(BIN)/supervisord --configuration supervisord.conf

# The staff shell: both servers on this machine, the Rasa server with the project's
# REST channel (so through the guard, as patients), and a terminal client
# (scripts/shell.py). The servers' output goes to $(STORAGE)/shell.log.
shell: install train
	@mkdir -p $(STORAGE)
	@SANIC_HOST=$(ACTIONS_HOST) $(RASA) run actions --port $(ACTIONS_PORT) >>$(STORAGE)/shell.log 2>&1 & \
	actions=$$!; \
	$(RASA_SERVER) run --model $(MODEL) --endpoints $(ENDPOINTS) --credentials credentials.yml \
		--connector channels.rest.RestInput --interface 127.0.0.1 --port $(RASA_PORT) \
		>>$(STORAGE)/shell.log 2>&1 & \
	rasa=$$!; trap 'kill $$actions $$rasa 2>/dev/null' EXIT; \
	$(PY) -m scripts.shell --url http://127.0.0.1:$(RASA_PORT) --server-pid $$rasa \
		|| { status=$$?; echo "(servers' output: $(STORAGE)/shell.log)"; exit $$status; }

validate: $(INSTALLED)
	$(RASA) data validate --fail-on-warnings

test: install test-packages train validate test-deploy
	$(BIN)/pytest tests --ignore=tests/deploy
	$(RASA) test core --model $(MODEL) --stories tests/test_stories.yml \
		--fail-on-prediction-errors --out results/core

nlu-report: train
	$(RASA) test nlu --model $(MODEL) --nlu tests/heldout/nlu.yml --out results/nlu
	@$(PY) -c "import json; r=json.load(open('results/nlu/intent_report.json')); \
		print('held-out intent accuracy %.3f, macro F1 %.3f' % (r['accuracy'], r['macro avg']['f1-score']))"

bench-nlu: train
	$(PY) -m bench.nlu

# Speed and memory against the stock `rasa init` bot, both trained in the run (~10 min).
bench: train
	$(PY) -m bench.serving

kb-report: $(INSTALLED)
	$(PY) -m scripts.kb_report

report: $(INSTALLED)
	$(PY) -m scripts.content_report

# Deletes conversations and feedback older than RETENTION_DAYS (docs/safety-and-privacy.md, "Privacy").
RETENTION_DAYS ?= 30
purge: $(INSTALLED)
	$(PY) -m scripts.purge --days $(RETENTION_DAYS) --endpoints $(ENDPOINTS)

# SQLite's conversations and feedback (docs/safety-and-privacy.md, "Privacy"): dated copies in
# BACKUP_DIR, the newest BACKUP_KEEP of each kept; `make restore FILE=...` puts one
# back, and refuses while the assistant runs.
BACKUP_DIR ?= backups
BACKUP_KEEP ?= 14
backup: $(INSTALLED)
	$(PY) -m scripts.backup backup --dir $(BACKUP_DIR) --keep $(BACKUP_KEEP)

restore: $(INSTALLED)
	@test -n "$(FILE)" || { echo "Which backup? make restore FILE=$(BACKUP_DIR)/conversations-....db"; exit 2; }
	$(PY) -m scripts.backup restore "$(FILE)" --ports $(RASA_PORT) $(ACTIONS_PORT)

lock:
	rm -rf /tmp/spine-assistant-lock && "$$(scripts/find-python310)" -m venv /tmp/spine-assistant-lock
	/tmp/spine-assistant-lock/bin/pip install --quiet -r requirements.in
	(echo '# Generated by `make lock` from requirements.in on Python 3.10: do not edit by hand.'; \
		/tmp/spine-assistant-lock/bin/pip freeze | grep -v '^pkg.resources') > requirements.txt

# The container image (Dockerfile, docs/deployment.md): the trained model, the spaCy
# pipeline and the widget's files go in as built here. Tagged with the git commit
# (plus -dirty when the work tree has changes) and `latest`. BASE_IMAGE: another
# Python 3.10 base (the tests build one with debootstrap); DOCKER_BUILD_FLAGS:
# e.g. --network=host where containers have no other network.
IMAGE ?= spine-assistant
IMAGE_TAG ?= $(shell git describe --always --dirty --abbrev=12)
BASE_IMAGE ?= python:3.10-slim-bookworm
DOCKER ?= docker
DOCKER_BUILD_FLAGS ?=
image: install train
	DOCKER_BUILDKIT=1 $(DOCKER) build $(DOCKER_BUILD_FLAGS) --build-arg BASE_IMAGE=$(BASE_IMAGE) \
		--tag $(IMAGE):$(IMAGE_TAG) --tag $(IMAGE):latest .

# The image and Compose, tested for real (tests/deploy/, docs/deployment.md): starts
# dockerd (vfs) if none runs, builds a debootstrap base with this machine's Python
# 3.10 once, then `make image` and the Compose default and scale-out. Needs root.
# Each step's time goes to results/deploy/timings.txt.
test-deploy: install test-packages train
	@rm -f results/deploy/timings.txt
	$(BIN)/pytest tests/deploy
	@cat results/deploy/timings.txt

clean:
	rm -rf $(SPACY_PIPELINE) models/*.tar.gz results .pytest_cache
