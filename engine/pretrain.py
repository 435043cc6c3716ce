"""One-time pre-training of the CPU sizes on the synthetic task, cached per architecture and task version.

Randomly initialised tiny models learn the synthetic task slowly (copying only begins after
hundreds of steps), so, like the study's fine-tuning of published checkpoints, `weights =
"pretrained"` at sizes tiny and small starts from a checkpoint trained here once: first on short
documents where facts are dense (the copy mechanism), then on longer ones with random truncation
(reading a prefix, guessing what it does not show).
"""

from __future__ import annotations

import json
import random
import shutil
import time
from pathlib import Path

from engine.checkpoints import CURRICULUM, LR, checkpoint_dir, is_cached, locked
from engine.tasks import synthetic

__all__ = ["ensure", "is_cached"]

COPY_LEARNED = 0.3  # mean loss over the last 20 steps at which the first stage has done its job
ATTEMPTS = 3
TARGET_LEN = 24


def ensure(family: str, size: str, log=print) -> Path:
    """The cached checkpoint, training it first if absent; safe when several processes ask at once."""
    path = checkpoint_dir(family, size)
    with locked(path):
        if not is_cached(family, size):
            _train(family, size, path, log)
    return path


def _train(family: str, size: str, path: Path, log) -> None:
    t0 = time.perf_counter()
    for attempt in range(ATTEMPTS):
        model, steps, loss = _attempt(family, size, attempt, log)
        if model is not None:
            break
        log(
            f"pre-training {family}-{size}: copying not learned from initialisation {attempt}; trying another"
        )
    else:
        raise RuntimeError(
            f"pre-training {family}-{size} did not learn the synthetic task in {ATTEMPTS} attempts"
        )
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    info = {
        "family": family,
        "size": size,
        "attempts": attempt + 1,
        "steps": steps,
        "final_loss": loss,
        "seconds": time.perf_counter() - t0,
        "corpus_version": synthetic.CORPUS_VERSION,
    }
    (tmp / "done.json").write_text(json.dumps(info))
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)


def _attempt(family: str, size: str, seed: int, log):
    """One run of the curriculum from initialisation `seed`: (model, steps, loss), model None if the
    first stage ended without the copy mechanism (learning it is abrupt and depends on the start)."""
    import torch

    from engine.batching import encode
    from engine.config import RunConfig
    from engine.models import build

    built = build(RunConfig(family, size, 512, weights="random", seed=seed))
    model, tok = built.model, built.tokenizer
    model.train()
    rng = random.Random(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=LR[family], weight_decay=0.01)
    decay = {"from": None}
    last_stage = CURRICULUM[-1][0]

    def shape(s: int) -> float:  # constant, then linear decay over the last stage
        return 1.0 if decay["from"] is None else max(0.1, 1 - (s - decay["from"]) / last_stage)

    sched = torch.optim.lr_scheduler.LambdaLR(opt, shape)
    step, losses = 0, []
    for number, (steps, batch_size, lengths, task_names, fractions) in enumerate(CURRICULUM):
        if number == len(CURRICULUM) - 1:
            decay["from"] = step
        for i in range(steps):
            if number == 0 and _copying(losses):
                break
            task = task_names[i % len(task_names)]
            doc = lengths[min(len(lengths) - 1, i * len(lengths) // steps)]
            examples = synthetic.examples(task, "pretrain", batch_size, seed=step, doc_tokens=doc)
            n = max(32, int(doc * rng.choice(fractions)))
            batch = encode(
                tok, examples, input_len=n, target_len=TARGET_LEN, family=family, task=task, device="cpu"
            )
            out = model(**batch)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            losses.append(out.loss.item())
            step += 1
            if step % 100 == 0:
                log(f"pre-training {family}-{size}: step {step}, loss {losses[-1]:.3f}")
        if number == 0 and not _copying(losses):
            return None, step, losses[-1]
    return model, step, losses[-1]


def _copying(losses: list[float]) -> bool:
    return len(losses) >= 20 and sum(losses[-20:]) / 20 < COPY_LEARNED
