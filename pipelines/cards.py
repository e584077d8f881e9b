"""Metrics cards: what trained a zoo entry's weights and what they measured."""

import datetime
import json
import platform
from pathlib import Path

from zoo.registry import CARD_FILE, WEIGHTS_FILE, info, sha256_of


def save_inference_weights(model, output_dir):
    """Writes `output_dir/model.weights.h5` without the optimizer's state.

    A compiled model's weights file also holds the optimizer's variables
    (Adam: twice the model's size), which inference never reads; an
    uncompiled copy of the model saves only the model's own weights. A
    model that was not compiled itself (a translator or captioner trained
    through a wrapper model) is saved as it is.
    """
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    inference = model
    if getattr(model, "optimizer", None) is not None:  # never compiled: no such attribute
        inference = type(model).from_config(model.get_config())
        inference.set_weights(model.get_weights())
    inference.save_weights(str(Path(output_dir) / WEIGHTS_FILE))


def asset_hashes(output_dir, name):
    """{file name: sha256} of entry `name`'s asset files in `output_dir`
    (those the entry names that are there), sorted by name."""
    files = sorted(set(info(name)["assets"].values()))
    return {file: sha256_of(Path(output_dir) / file) for file in files
            if (Path(output_dir) / file).is_file()}


def write_card(output_dir, name, command, seed, metrics, builder_kwargs, extra=None):
    """Writes `metrics.json` and a `README.md` beside the weights file.

    The card pins the sha256 of the weights and of every asset file of the
    entry present in `output_dir` (vocabularies, labels, subwords), so
    `zoo.load` detects a corrupt, edited or swapped file. Write the assets
    before the card.
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
        "assets_sha256": asset_hashes(output_dir, name),
        **(extra or {}),
    }
    (output_dir / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n")
    lines = [f"# {name}", "", f"Trained with `{command}` (seed {seed}) on {card['date']}.", "",
             "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in metrics.items()]
    lines += ["", f"Weights: `{WEIGHTS_FILE}`, sha256 `{card['weights_sha256']}`."]
    lines += [f"Asset `{file}`, sha256 `{digest}`." for file, digest in card["assets_sha256"].items()]
    lines += [""]
    (output_dir / "README.md").write_text("\n".join(lines))
    return card
