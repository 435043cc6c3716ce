#!/usr/bin/env bash
# On a GPU machine: measure LED base at 1024 and 4096 tokens with the nvml-counter source and print
# the records. Installs into .venv first (make install); takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s install
out="${OUT:-$(mktemp -d)}"
nvidia-smi --query-gpu=name,driver_version,power.draw --format=csv || true
timeout 420 .venv/bin/tradeoff-tui --preset benchmarks/gpu_check.toml --db "$out/gpu_check.sqlite" \
  --fresh --timeout 300 --export "$out/gpu_check.json" --export "$out/gpu_check.txt" || echo "exit status $?"
.venv/bin/python - "$out/gpu_check.json" <<'PY'
import json, sys
records = json.load(open(sys.argv[1]))["records"]
keys = ("input_len", "padded_len", "batch_size", "status", "energy_source", "hardware", "infer_median_s",
        "infer_p10_s", "infer_p90_s", "infer_energy_j", "infer_power_w", "infer_gen_median_s",
        "infer_gen_tokens_per_s", "train_seconds", "train_energy_j", "train_power_w", "train_peak_memory_mb",
        "infer_attention_type", "rouge_mean", "error")
from engine.record import Record
for r in records:
    row = Record.from_dict(r).flat()
    print(json.dumps({k: row.get(k) for k in keys}))
PY
