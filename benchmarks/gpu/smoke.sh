#!/usr/bin/env bash
# GPU smoke test: diagnose with vLLM, a short LoRA and a QLoRA train, and a two-process
# (DDP) train when two GPUs are present; prints tokens per second and step times.
#
#   benchmarks/gpu/smoke.sh [OUT_DIR]        (from the repository root, on a CUDA machine)
#
# Needs the worker and gpu extras (vLLM, bitsandbytes) in $PYTHON's environment, and the
# model on local disk (no download is attempted). Settings from the environment:
#   PYTHON  interpreter with model_hospital installed   (default .venv/bin/python)
#   MODEL   the patient                                   (default bundled:smollm2-135m-instruct)
#   BUDGET  probes per symptom for the diagnosis          (default 32)
#   STEPS   training steps of each train                  (default 20)
# Every command's output is kept under OUT_DIR (default runs/gpu-smoke); the figures are
# printed last, one line each, and also written to OUT_DIR/figures.txt.
set -euo pipefail

out="${1:-runs/gpu-smoke}"
python="${PYTHON:-.venv/bin/python}"
model="${MODEL:-bundled:smollm2-135m-instruct}"
budget="${BUDGET:-32}"
steps="${STEPS:-20}"
export DO_NOT_TRACK=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false

hospital() { "$python" -m model_hospital.cli "$@"; }
figure() { "$python" benchmarks/gpu/figures.py "$@" | tee -a "$out/figures.txt"; }

train_input() {  # FILE Q_LORA(true|false): a train stage input for a short run on the smoke's cure data
  printf '{"diagnosis": "%s", "cure": "%s", "max_steps": %d, "q_lora": %s}\n' \
    "$out/diagnose/diagnosis.json" "$out/cure" "$steps" "$2" > "$1"
}

if ! command -v nvidia-smi > /dev/null; then
  echo "error: nvidia-smi not found: this smoke test needs a CUDA machine" >&2
  exit 2
fi
gpus="$(nvidia-smi --query-gpu=index --format=csv,noheader | wc -l)"
if [ "$gpus" -lt 1 ]; then
  echo "error: nvidia-smi lists no GPU" >&2
  exit 2
fi
mkdir -p "$out"
: > "$out/figures.txt"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpus.txt"

echo "== diagnose $model with vLLM ($budget probes per symptom)"
hospital diagnose --model "$model" --engine vllm --full-scan --budget "$budget" --max-new-tokens 96 \
  --output "$out/diagnose" > "$out/diagnose.log" 2>&1

echo "== cure data"
hospital cure --diagnosis "$out/diagnose/diagnosis.json" --output "$out/cure" --min 20 --max 200 \
  > "$out/cure.log" 2>&1

echo "== LoRA, $steps steps"
train_input "$out/lora-input.json" false
hospital stage train --input "$out/lora-input.json" --output "$out/lora" > "$out/lora.log" 2>&1

echo "== QLoRA, $steps steps"
train_input "$out/qlora-input.json" true
hospital stage train --input "$out/qlora-input.json" --output "$out/qlora" > "$out/qlora.log" 2>&1

ddp_seconds=""
if [ "$gpus" -ge 2 ]; then
  echo "== LoRA on two processes (DDP, GPUs 0 and 1), $steps steps"
  started="$(date +%s)"
  CUDA_VISIBLE_DEVICES=0,1 "$python" -m oumi distributed torchrun -m oumi train -c "$out/lora/recipe.yaml" \
    --training.output_dir "$out/ddp/adapter" > "$out/ddp.log" 2>&1
  ddp_seconds="$(( $(date +%s) - started ))"
fi

echo "== figures"
figure diagnose "$out/diagnose/diagnosis.json"
figure train "$out/lora/result.json" "$steps" --label "train LoRA (1 GPU)"
figure train "$out/qlora/result.json" "$steps" --label "train QLoRA (1 GPU)"
if [ -n "$ddp_seconds" ]; then
  # Timed from outside: includes both processes' start-up and model load.
  figure timed "train LoRA (2 processes, DDP, wall clock)" "$ddp_seconds" "$steps"
else
  echo "train LoRA (2 processes): not run, $gpus GPU present" | tee -a "$out/figures.txt"
fi
