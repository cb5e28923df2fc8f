#!/usr/bin/env bash
# Render the benchmark call corpus with Kokoro neural voices, then transcribe + analyse it with callscope.
# Test split first (what the benchmarks report), then dev. Already rendered / analysed calls are skipped,
# so the script can be stopped and re-run. Needs: bench/corpus/setup_kokoro.sh run once, ../shared/tools.
# Usage: bench/corpus/render.sh [OUT=bench/out/corpus] [KOKORO=bench/out/kokoro] [PYTHON=.venv/bin/python]
# Env: CORPUS_SPLITS (default "test dev"), CORPUS_JOBS (make_calls -j, default 2), CALLSCOPE_SHARED_TOOLS.
set -euo pipefail
OUT="${1:-bench/out/corpus}"; KOKORO="${2:-bench/out/kokoro}"; PY="${3:-.venv/bin/python}"
TOOLS="${CALLSCOPE_SHARED_TOOLS:-../shared/tools}"
mkdir -p "$OUT/audio" "$OUT/analysis"
for split in ${CORPUS_SPLITS:-test dev}; do
  ids=$("$PY" -c "import json,sys,os; s=json.load(open('bench/corpus/split.json'))['split']; print(' '.join(i for i,v in s.items() if v=='$split' and not os.path.exists('$OUT/audio/'+i+'.json')))")
  if [ -n "$ids" ]; then
    nice -n 10 "$PY" "$TOOLS/make_calls.py" bench/corpus/scenarios.json -o "$OUT/audio" --encoding mulaw --hold 4,8 \
      --tts kokoro --kokoro-dir "$KOKORO" -j "${CORPUS_JOBS:-2}" --only $ids
  fi
  stage="$OUT/stage_$split"; rm -rf "$stage"; mkdir -p "$stage"
  for id in $("$PY" -c "import json; s=json.load(open('bench/corpus/split.json'))['split']; print(' '.join(i for i,v in s.items() if v=='$split'))"); do
    [ -f "$OUT/analysis/$id.stereo.analysis.json" ] || ln -sf "$(realpath "$OUT/audio/$id.stereo.wav")" "$stage/"
  done
  if [ -n "$(ls "$stage")" ]; then
    PYTHONPATH="$PWD" nice -n 10 "$PY" -m callscope analyze "$stage" --output-dir "$OUT/analysis"
  fi
done
