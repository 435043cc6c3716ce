"""Build or load the models of each family, and keep their attention type honest."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine import archs
from engine.config import RunConfig


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
    """The tokenizer a configuration reads with: the synthetic task's own, or the model's."""
    if config.task.startswith("synthetic"):
        from engine.tasks.synthetic import build_tokenizer

        return build_tokenizer()
    return _pretrained_tokenizer(config)


def _hub_id(config: RunConfig) -> str:
    dims = archs.arch(config.family, config.size)
    return (
        config.weights_path
        or dims.get("hub_id")
        or archs.arch(config.family, archs.sizes(config.family)[-1])["hub_id"]
    )


def _unavailable(what: str, config: RunConfig) -> ModelUnavailable:
    ref = _hub_id(config)
    return ModelUnavailable(
        f"{what} for {config.family}-{config.size} ({ref}) are not on this machine: run "
        f"`hf download {ref}` where the hub is reachable, or set weights_path to a local copy"
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
    if (
        config.weights == "pretrained"
        and config.task.startswith("synthetic")
        and config.size in ("tiny", "small")
    ):
        from engine.pretrain import checkpoint_dir

        path = checkpoint_dir(config.family, config.size)
        model = model_cls.from_pretrained(path, use_safetensors=True)
        checkpoint = f"synthetic-pretrained:{path.name}"
    elif config.weights == "pretrained":
        ref = config.weights_path or archs.arch(config.family, config.size).get("hub_id")
        if ref is None:
            raise ModelUnavailable(
                f"{config.family}-{config.size} has no published checkpoint for task {config.task!r}: "
                "use weights random, a synthetic task, or weights_path"
            )
        local_only = not Path(ref).exists() and os.environ.get("HF_HUB_OFFLINE", "1") != "0"
        try:
            model = model_cls.from_pretrained(ref, use_safetensors=True, local_files_only=local_only)
        except OSError as exc:
            raise _unavailable("weights", config) from exc
        checkpoint = ref
    else:
        model = model_cls(hf_config(config.family, dims, tokenizer))
    dtype = getattr(torch, config.dtype)
    model.to(device=config.device, dtype=dtype)
    dims = {
        **dims,
        "vocab_size": model.config.vocab_size,
        "n_params": sum(p.numel() for p in model.parameters()),
        "checkpoint": checkpoint,
    }
    return Built(model=model, tokenizer=tokenizer, dims=dims)


def reset_attention(model, family: str) -> None:
    """Undo BigBirdPegasus's silent switch to full attention after a short input."""
    if family == "bigbird-pegasus":
        model.get_encoder().set_attention_type("block_sparse")


def attention_type(model, family: str) -> str:
    """The encoder attention actually in force."""
    if family == "led":
        return "sliding_window"
    return model.get_encoder().attention_type
