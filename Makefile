# Two commands do everything: `make run` (chat UI on the sample articles) and `make test`.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
CODE    := assistant api index mcp_adapter prompts serving ui tests benchmarks
# Offline and quiet: no model hub, no telemetry, no download progress bars.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1 \
       TOKENIZERS_PARALLELISM=false GRADIO_ANALYTICS_ENABLED=False

.PHONY: setup setup-test run test lint chromium wordnet clean train-judge train-selector train-answer docs
.DEFAULT_GOAL := run

# constraints.txt pins the CPU build of torch; without it pip pulls a multi-GB CUDA build.
$(BIN)/.runtime: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e .
	touch $@

$(BIN)/.test: $(BIN)/.runtime
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	touch $@

setup: $(BIN)/.runtime wordnet
setup-test: $(BIN)/.test chromium wordnet

## run: start the chat UI on http://127.0.0.1:7860 (builds the sample index on first run)
run: setup
	$(BIN)/assistant serve

## test: the whole suite: unit, integration with the real model, real Gradio server, real browser
test: setup-test
	$(BIN)/ruff check $(CODE) && $(BIN)/ruff format --check -q $(CODE)
	$(BIN)/python -m pytest

## chromium: Debian's chromium for the browser tests (Playwright's own download can't work offline)
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

## wordnet: Debian's WordNet database, for the faithfulness judge's synonyms and antonyms
wordnet:
	@test -f /usr/share/wordnet/data.noun || { apt-get update -qq && apt-get install -y -qq wordnet-base >/dev/null; } \
	  || echo "warning: wordnet-base not installed; the faithfulness judge runs without synonyms and antonyms"

## train-judge: retrain the faithfulness judge's claim-support model (~75 min on 2 cores; resumes if interrupted)
train-judge: $(BIN)/.runtime wordnet
	$(BIN)/python -m benchmarks.train_judge

## train-answer: retrain the answer model (sentence and span) on RealTime QA (~2 h on 2 cores; resumes if
## interrupted; its work folder is ~/.cache/news-assistant-answer)
train-answer: $(BIN)/.test
	$(BIN)/python -m benchmarks.train_answer_model

## train-selector: retrain the extractive engine's sentence selector on RealTime QA (~3 min on 2 cores; needs the
## 3k haystack index that benchmarks/retrieval_realtimeqa.py builds, ~25 min the first time)
train-selector: $(BIN)/.test
	test -f $(HOME)/.cache/news-assistant-bench/realtimeqa-3k/CURRENT || $(BIN)/python -m benchmarks.retrieval_realtimeqa
	$(BIN)/python -m benchmarks.train_selector
	@echo "now record the printed sha256 as SHA256 in assistant/answering/engines/selector.py"

lint: $(BIN)/.test
	$(BIN)/ruff format $(CODE) && $(BIN)/ruff check $(CODE)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

## the settings reference, written from the settings' descriptions (a test checks it is current)
docs: $(BIN)/.runtime
	$(BIN)/python -m assistant.settings_reference > docs/settings.md
