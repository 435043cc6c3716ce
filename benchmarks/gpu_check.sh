#!/usr/bin/env bash
# On a GPU machine: LED base and large and BigBird-Pegasus large with random weights at 1024 and 4096
# tokens, train, infer and eval (benchmarks/gpu_check.toml), then the NVML counter and the power
# sampler side by side (benchmarks/gpu_check.py). Prints the records' key figures; writes the
# database and exports to $OUT (a temporary folder by default). Under 10 minutes on one recent GPU.
# PY selects the Python (default: .venv/bin/python, made by `make install` if absent).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
[ -x "$PY" ] || { make -s install && PY=.venv/bin/python; }
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
out="${OUT:-$(mktemp -d)}"
nvidia-smi --query-gpu=index,uuid,name,driver_version,power.limit,power.draw,memory.total --format=csv || true
echo "CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-<unset>}"
"$PY" -m tui.cli --preset benchmarks/gpu_check.toml --dry-run
status=0
timeout 480 "$PY" -m tui.cli --preset benchmarks/gpu_check.toml --db "$out/gpu_check.sqlite" --fresh \
  --export "$out/gpu_check.json" --export "$out/gpu_check.txt" || status=$?
echo "sweep exit status $status"
"$PY" - "$out/gpu_check.json" <<'PY'
import json, sys
from engine.record import Record
keys = ("family", "size", "input_len", "padded_len", "batch_size", "status", "energy_source", "hardware",
        "train_steps", "train_seconds", "train_energy_j", "train_power_w", "train_peak_memory_mb",
        "infer_median_s", "infer_p10_s", "infer_p90_s", "infer_energy_j", "infer_power_w",
        "infer_gen_median_s", "infer_gen_tokens_per_s", "infer_attention_type", "eval_seconds", "score",
        "error")
for r in json.load(open(sys.argv[1]))["records"]:
    record = Record.from_dict(r)
    row = record.flat()
    env = {k: record.env.get(k) for k in ("gpu_uuid", "driver", "power_limit_w", "gpu_memory_mb")}
    print(json.dumps({**{k: row.get(k) for k in keys}, **env}))
PY
timeout 120 "$PY" benchmarks/gpu_check.py 10 || echo "side-by-side exit status $?"
echo "outputs in $out"
exit "$status"
