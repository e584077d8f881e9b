"""Metrics cards: what trained a zoo entry's weights and what they measured."""

import datetime
import json
import platform
from pathlib import Path

from zoo.registry import CARD_FILE, WEIGHTS_FILE, sha256_of


def save_inference_weights(model, output_dir):
    """Writes `output_dir/model.weights.h5` without the optimizer's state.

    A compiled model's weights file also holds the optimizer's variables
    (Adam: twice the model's size), which inference never reads; an
    uncompiled copy of the model saves only the model's own weights.
    """
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    inference = type(model).from_config(model.get_config())
    inference.set_weights(model.get_weights())
    inference.save_weights(str(Path(output_dir) / WEIGHTS_FILE))


def write_card(output_dir, name, command, seed, metrics, builder_kwargs, extra=None):
    """Writes `metrics.json` and a `README.md` beside the weights file.

    The card pins the weights' sha256, so `zoo.load` detects a corrupt or
    swapped file.
    """
    output_dir = Path(output_dir)
    card = {
        "name": name,
        "command": command,
        "seed": seed,
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {platform.system()}, python {platform.python_version()}",
        "metrics": metrics,
        "builder_kwargs": builder_kwargs,
        "weights_sha256": sha256_of(output_dir / WEIGHTS_FILE),
        **(extra or {}),
    }
    (output_dir / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n")
    lines = [f"# {name}", "", f"Trained with `{command}` (seed {seed}) on {card['date']}.", "",
             "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in metrics.items()]
    lines += ["", f"Weights: `{WEIGHTS_FILE}`, sha256 `{card['weights_sha256']}`.", ""]
    (output_dir / "README.md").write_text("\n".join(lines))
    return card
