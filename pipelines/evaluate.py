"""Evaluates a zoo entry on its test data: `python -m pipelines.evaluate NAME`.

Prints the metrics as JSON (and writes them with `--output`): accuracy for
node classification; corpus BLEU-1..4 (sacrebleu) with greedy and beam-3
decoding for captioning; dev and test accuracy and loss for text
classification; test BLEU (lower-cased sacreBLEU) and chrF with greedy and
beam-4 decoding for translation.
"""

import argparse
import json

import zoo
from pipelines.configs import get_config
from pipelines.settings import run_config
from pipelines.tasks import task_for


def evaluate(name, weights="trained", data_dir=None):
    config = run_config(name, weights, get_config)  # a card beside a weights path names its data
    task = task_for(config)
    model = zoo.load(name, weights=weights)
    return task.evaluate(model, task.evaluation_data(model, config, data_dir))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m pipelines.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="zoo entry (see `zoo.list_models()`)")
    parser.add_argument("--weights", default="trained", help="a .weights.h5 file, or the folder "
                        "a training wrote (default: shipped)")
    parser.add_argument("--data-dir", help="dataset folder (default: $ZOO_DATA_DIR or the cache)")
    parser.add_argument("--output", help="also write the metrics to this JSON file")
    args = parser.parse_args(argv)
    metrics = evaluate(args.name, args.weights, args.data_dir)
    text = json.dumps({"name": args.name, "metrics": metrics}, indent=2)
    print(text)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text + "\n")
    return metrics


if __name__ == "__main__":
    main()
