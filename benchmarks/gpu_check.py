"""On a GPU: the NVML energy counter and the 20 Hz power sampler side by side over one window.

LED large's encoder runs at 4096 tokens for about `seconds`; both meters read the same GPU (the one
torch runs on, found by UUID) over the same window. Prints one JSON line: joules from each, their
ratio, the window, the GPU. The design expects them within a few percent on Volta and newer (Zeus'
maintainers report <= 1%); a GPU that averages power over 1 s (Ampere GA10x) may differ more.
"""

from __future__ import annotations

import json
import sys
import time

import torch

from engine.config import RunConfig
from engine.meters.energy import NvmlCounterMeter, NvmlPowerMeter
from engine.models import build


def main(seconds: float = 10.0, device: str = "cuda") -> None:
    built = build(RunConfig("led", "large", 4096, device=device))
    encoder = built.model.eval().get_encoder()
    ids = torch.randint(5, 1000, (4, 4096), device=device)
    mask = torch.ones_like(ids)
    glob = torch.zeros_like(ids)
    glob[:, 0] = 1

    def forward() -> None:
        encoder(input_ids=ids, attention_mask=mask, global_attention_mask=glob)

    counter, sampler = NvmlCounterMeter(device), NvmlPowerMeter(device)
    with torch.inference_mode():
        for _ in range(3):
            forward()
        torch.cuda.synchronize()
        windows = counter.begin(), sampler.begin()
        t0, calls = time.perf_counter(), 0
        while time.perf_counter() - t0 < seconds:
            forward()
            calls += 1
        torch.cuda.synchronize()
        counter_j, counter_s = counter.end(windows[0])
        sampler_j, sampler_s = sampler.end(windows[1])
    print(
        json.dumps(
            {
                "counter_j": round(counter_j, 1),
                "sampler_j": round(sampler_j, 1),
                "sampler_over_counter": round(sampler_j / counter_j, 4),
                "counter_s": round(counter_s, 3),
                "sampler_s": round(sampler_s, 3),
                "counter_w": round(counter_j / counter_s, 1),
                "calls": calls,
                "gpu_uuid": counter.gpu.uuid,
                "gpu": torch.cuda.get_device_name(device),
            }
        )
    )
    counter.close()
    sampler.close()


if __name__ == "__main__":
    main(*(float(a) if i == 0 else a for i, a in enumerate(sys.argv[1:])))
