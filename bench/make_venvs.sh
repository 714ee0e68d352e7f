#!/usr/bin/env bash
# Separate virtual environments for the comparison benchmarks (never imported by luodi itself).
#
#   bench/make_venvs.sh            # both venvs
#   bench/make_venvs.sh rapidocr   # only bench/.venv-rapidocr
#   bench/make_venvs.sh paddleocr  # only bench/.venv-paddleocr
#
# Versions are pinned; onnxruntime is pinned to the version in luodi's own .venv so both sides of a
# comparison run the same inference library. The venvs live under bench/.venv-* (gitignored).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-python3.11}"
ORT_VERSION="$("$ROOT/.venv/bin/python" -c 'import onnxruntime; print(onnxruntime.__version__)')"
RAPIDOCR_VERSION=3.10.0
RAPIDOCR_ORT_VERSION=1.4.4
PADDLEOCR_VERSION=2.9.1
PADDLEPADDLE_VERSION="${PADDLEPADDLE_VERSION:-3.3.1}"

make_rapidocr() {
    local venv="$ROOT/bench/.venv-rapidocr"
    [ -x "$venv/bin/python" ] || "$PY" -m venv "$venv"
    "$venv/bin/pip" install -q "rapidocr==$RAPIDOCR_VERSION" "rapidocr-onnxruntime==$RAPIDOCR_ORT_VERSION" \
        "onnxruntime==$ORT_VERSION"
    "$venv/bin/python" -c 'import onnxruntime, rapidocr, rapidocr_onnxruntime; print("rapidocr venv ok, onnxruntime", onnxruntime.__version__)'
}

make_paddleocr() {
    local venv="$ROOT/bench/.venv-paddleocr"
    [ -x "$venv/bin/python" ] || "$PY" -m venv "$venv"
    "$venv/bin/pip" install -q "paddleocr==$PADDLEOCR_VERSION" "paddlepaddle==$PADDLEPADDLE_VERSION"
    "$venv/bin/python" -c 'import paddle, paddleocr; print("paddleocr venv ok, paddle", paddle.__version__)'
}

case "${1:-all}" in
    rapidocr) make_rapidocr ;;
    paddleocr) make_paddleocr ;;
    all) make_rapidocr; make_paddleocr ;;
    *) echo "usage: $0 [rapidocr|paddleocr|all]" >&2; exit 2 ;;
esac
