#!/usr/bin/env bash
# Render the benchmark call corpus with Kokoro neural voices, then transcribe + analyse it with callscope.
# Test split first (what the benchmarks report), then dev. Calls are rendered and analysed in small batches,
# English and Mandarin alternating, so a stopped run leaves a balanced set of finished calls; a re-run skips
# calls already rendered (OUT/audio) or kept in the committed snapshot (bench/corpus/asr/<split>, see
# bench/corpus/snapshot.py). Needs: bench/corpus/setup_kokoro.sh run once, ../shared/tools.
# Usage: bench/corpus/render.sh [OUT=bench/out/corpus] [KOKORO=bench/out/kokoro] [PYTHON=.venv/bin/python]
# Env: CORPUS_SPLITS (default "test dev"), CORPUS_JOBS (make_calls -j, default 2), CORPUS_BATCH (calls per
# batch, default 10), CALLSCOPE_SHARED_TOOLS.
set -euo pipefail
OUT="${1:-bench/out/corpus}"; KOKORO="${2:-bench/out/kokoro}"; PY="${3:-.venv/bin/python}"
TOOLS="${CALLSCOPE_SHARED_TOOLS:-../shared/tools}"
BATCH="${CORPUS_BATCH:-10}"
mkdir -p "$OUT/audio" "$OUT/analysis"
for split in ${CORPUS_SPLITS:-test dev}; do
  # calls of the split still to do, English and Mandarin alternating
  todo=$("$PY" - "$split" "$OUT" <<'PY'
import itertools, json, os, sys
split, out = sys.argv[1], sys.argv[2]
ids = [i for i, part in json.load(open("bench/corpus/split.json"))["split"].items() if part == split]
def done(i):
    return any(os.path.exists(p) for p in (f"{out}/analysis/{i}.stereo.analysis.json",
                                           f"bench/corpus/asr/{split}/{i}.stereo.analysis.json"))
langs = [[i for i in ids if i.startswith(f"c_{lang}_") and not done(i)] for lang in ("en", "zh")]
print(" ".join(i for i in itertools.chain.from_iterable(itertools.zip_longest(*langs)) if i))
PY
)
  set -- $todo
  while [ $# -gt 0 ]; do
    batch=("${@:1:$BATCH}"); shift $(( $# < BATCH ? $# : BATCH ))
    render=(); for id in "${batch[@]}"; do [ -f "$OUT/audio/$id.json" ] || render+=("$id"); done
    if [ ${#render[@]} -gt 0 ]; then
      nice -n 10 "$PY" "$TOOLS/make_calls.py" bench/corpus/scenarios.json -o "$OUT/audio" --encoding mulaw --hold 4,8 \
        --tts kokoro --kokoro-dir "$KOKORO" -j "${CORPUS_JOBS:-2}" --only "${render[@]}"
    fi
    stage="$OUT/stage_$split"; rm -rf "$stage"; mkdir -p "$stage"
    for id in "${batch[@]}"; do ln -sf "$(realpath "$OUT/audio/$id.stereo.wav")" "$stage/"; done
    PYTHONPATH="$PWD" nice -n 10 "$PY" -m callscope analyze "$stage" --output-dir "$OUT/analysis"
  done
done
