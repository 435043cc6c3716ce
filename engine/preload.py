"""Imported once by the fork server, so each configuration's child starts without re-importing torch.

The server only imports (no tensor work, so no thread pools exist to be broken by fork); every
configuration still runs in a fresh child process of its own.
"""

import torch  # noqa: F401
import transformers
import transformers.models.bigbird_pegasus.modeling_bigbird_pegasus  # noqa: F401
import transformers.models.led.modeling_led  # noqa: F401

import engine.phases.evaluate  # noqa: F401
import engine.phases.infer  # noqa: F401
import engine.phases.train  # noqa: F401
import engine.runner  # noqa: F401
from engine.metrics.scoring import load_metric

transformers.logging.set_verbosity_error()  # records carry what matters (the attention type in force)
transformers.logging.disable_progress_bar()
for _name in ("rouge", "squad_f1"):  # evaluate's import and module loading cost seconds: pay them once
    load_metric(_name)
