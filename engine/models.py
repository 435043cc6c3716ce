"""Build or load the models of each family, and keep their attention type honest."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from costmodel.encoder import SLIDING
from engine import archs
from engine.checkpoints import checkpoint_dir
from engine.config import RunConfig

HALF = ("float16", "bfloat16")  # trained as mixed precision: float32 weights, autocast, (scaler)
_PRECISION = {
    "float16": "mixed float16 (autocast, GradScaler)",
    "bfloat16": "mixed bfloat16 (autocast)",
}


class ModelUnavailable(Exception):
    """Pretrained weights that are not on this machine; the message is one line saying how to get them."""


@dataclass
class Built:
    model: object  # a transformers PreTrainedModel
    tokenizer: object
    dims: dict  # dimensions actually built, plus n_params and checkpoint


def _classes(family: str):
    if family == "led":
        from transformers import LEDConfig, LEDForConditionalGeneration

        return LEDConfig, LEDForConditionalGeneration
    from transformers import BigBirdPegasusConfig, BigBirdPegasusForConditionalGeneration

    return BigBirdPegasusConfig, BigBirdPegasusForConditionalGeneration


def hf_config(family: str, dims: dict, tokenizer):
    """A transformers config for a family from our dimension table."""
    config_cls, _ = _classes(family)
    common = dict(
        vocab_size=max(dims["vocab_size"], len(tokenizer)),
        d_model=dims["d_model"],
        encoder_layers=dims["encoder_layers"],
        decoder_layers=dims["decoder_layers"],
        encoder_attention_heads=dims["heads"],
        decoder_attention_heads=dims["heads"],
        encoder_ffn_dim=dims["ffn_dim"],
        decoder_ffn_dim=dims["ffn_dim"],
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.bos_token_id,
        dropout=0.0,
        attention_dropout=0.0,
    )
    if family == "led":
        return config_cls(
            **common,
            attention_window=dims["attention_window"],
            max_encoder_position_embeddings=dims["max_encoder_positions"],
            max_decoder_position_embeddings=dims["max_decoder_positions"],
        )
    return config_cls(
        **common,
        attention_type="block_sparse",
        block_size=dims["block_size"],
        num_random_blocks=dims["num_random_blocks"],
        max_position_embeddings=dims["max_encoder_positions"],
    )


def task_tokenizer(config: RunConfig):
    """The tokenizer a configuration reads with: the synthetic task's own; for a size without a
    published checkpoint, one trained on the task's text (engine.vocab); else the model's."""
    if config.task.startswith("synthetic"):
        from engine.tasks.synthetic import build_tokenizer

        return build_tokenizer()
    arch = archs.entry(config)
    if "hub_id" not in arch and not config.weights_path:
        from engine.vocab import task_tokenizer as trained

        return trained(config.task, arch["vocab_size"], config.data_path)
    return _pretrained_tokenizer(config)


def _hub_id(config: RunConfig) -> str:
    dims = archs.entry(config)
    return (
        config.weights_path
        or dims.get("hub_id")
        or archs.arch(config.family, archs.sizes(config.family)[-1])["hub_id"]
    )


def _unavailable(what: str, config: RunConfig) -> ModelUnavailable:
    ref = _hub_id(config)
    return ModelUnavailable(
        f"{what} for {config.family}-{config.size} ({ref}) are not on this machine: run "
        f"`hf download {ref}` where the hub is reachable and copy ~/.cache/huggingface/hub here, or "
        f"map {config.family}-{config.size} to a local copy in the preset's [weights] table"
    )


def _pretrained_tokenizer(config: RunConfig):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(_hub_id(config), local_files_only=True)
    except OSError as exc:
        raise _unavailable("tokenizer files", config) from exc


def build(config: RunConfig, tokenizer=None) -> Built:
    """The model of a configuration on its device and dtype, in train mode, with its tokenizer."""
    import torch

    tokenizer = tokenizer or task_tokenizer(config)
    dims = archs.of(config)
    _, model_cls = _classes(config.family)
    checkpoint = "random"
    torch.manual_seed(config.seed)
    weights_format = ""
    if (
        config.weights == "pretrained"
        and config.task.startswith("synthetic")
        and config.size in ("tiny", "small")
        and not config.weights_path
    ):
        path = checkpoint_dir(config.family, config.size)
        model = model_cls.from_pretrained(path, use_safetensors=True)
        checkpoint, weights_format = f"synthetic-pretrained:{path.name}", "safetensors"
    elif config.weights == "pretrained":
        ref = config.weights_path or archs.entry(config).get("hub_id")
        if ref is None:
            raise ModelUnavailable(
                f"{config.family}-{config.size} has no published checkpoint for task {config.task!r}: "
                f"use weights random, a synthetic task, or a [weights] entry {config.family}-{config.size}"
            )
        model, weights_format = _load_pretrained(model_cls, ref, config)
        checkpoint = ref
    else:
        model = model_cls(hf_config(config.family, dims, tokenizer))
    model.to(
        device=config.device, dtype=torch.float32 if config.dtype in HALF else getattr(torch, config.dtype)
    )
    dims = {
        **dims,
        "vocab_size": model.config.vocab_size,
        "n_params": sum(p.numel() for p in model.parameters()),
        "checkpoint": checkpoint,
        "weights_format": weights_format,
        "train_precision": _PRECISION.get(config.dtype, config.dtype),
    }
    return Built(model=model, tokenizer=tokenizer, dims=dims)


def _load_pretrained(model_cls, ref: str, config: RunConfig):
    """(model, weights format): safetensors, else a pytorch_model.bin through transformers' weights-only
    torch.load, which refuses anything but tensors (never an unrestricted pickle)."""
    local_only = not Path(ref).exists() and os.environ.get("HF_HUB_OFFLINE", "1") != "0"
    try:
        return model_cls.from_pretrained(
            ref, use_safetensors=True, local_files_only=local_only
        ), "safetensors"
    except OSError as exc:
        if not _has_bin(ref):
            raise _unavailable("weights", config) from exc
    try:
        model = model_cls.from_pretrained(
            ref, use_safetensors=False, weights_only=True, local_files_only=local_only
        )
    except Exception as exc:  # noqa: BLE001 - an UnpicklingError from the weights-only load, or worse
        raise ModelUnavailable(
            f"{ref}: its pytorch_model.bin does not load as plain tensors ({type(exc).__name__}); where you "
            f'trust the file, convert it with `python -c "import transformers as t; '
            f"t.AutoModelForSeq2SeqLM.from_pretrained('{ref}', weights_only=False)"
            f".save_pretrained('{ref}-safetensors')\"` and point [weights] at {ref}-safetensors"
        ) from exc
    return model, "pytorch_model.bin (weights-only)"


def _has_bin(ref: str) -> bool:
    """A pytorch_model.bin in the local folder, or in the hub cache for a hub id."""
    if Path(ref).exists():
        return (Path(ref) / "pytorch_model.bin").is_file()
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(ref, "pytorch_model.bin"), str)


def weights_mb(model) -> float:
    """The memory of the model's parameters and buffers, in MB."""
    tensors = [*model.parameters(), *model.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors) / 2**20


def inference_dtype(model, config: RunConfig) -> None:
    """Cast a model trained in mixed precision to its dtype for infer and eval (a no-op otherwise)."""
    if config.dtype in HALF:
        import torch

        model.to(dtype=getattr(torch, config.dtype))


def reset_attention(model, family: str) -> None:
    """Undo BigBirdPegasus's silent switch to full attention after a short input."""
    if family == "bigbird-pegasus":
        model.get_encoder().set_attention_type("block_sparse")


def attention_type(model, family: str) -> str:
    """The encoder attention actually in force."""
    if family == "led":
        return SLIDING
    return model.get_encoder().attention_type
