"""What the encoder actually ran, seen at its first layer: the length after padding, the attention in
force (BigBird-Pegasus switches to full attention on short inputs) and LED's global tokens."""

from __future__ import annotations

from costmodel.encoder import SLIDING


class EncoderWatch:
    """A forward pre-hook on the encoder's first layer that notes, at its first call, what it runs.

    `facts` is None until then, then {"padded_len", "attention", "global_tokens"}; the hook removes
    itself once it has seen one forward (a record's phases all run at one input length).
    """

    def __init__(self, model, family: str) -> None:
        self.family = family
        self.facts: dict | None = None
        self._encoder = model.get_encoder()
        self._handle = self._encoder.layers[0].register_forward_pre_hook(self._see, with_kwargs=True)

    def _see(self, module, args, kwargs) -> None:
        hidden = args[0] if args else kwargs["hidden_states"]
        if self.family == "led":
            global_mask = kwargs.get("is_index_global_attn")
            g = 0 if global_mask is None else int(global_mask.sum(dim=-1).max())
            attention = SLIDING
        else:
            g, attention = 0, self._encoder.attention_type
        self.facts = {"padded_len": int(hidden.shape[1]), "attention": attention, "global_tokens": g}
        self.close()

    def close(self) -> None:
        self._handle.remove()
