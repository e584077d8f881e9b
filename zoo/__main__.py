"""The registry from the command line.

    python -m zoo list          every entry, its task and its measured metrics
    python -m zoo info NAME     one entry as JSON (paper, dataset, target,
                                command, metrics, weights folder) and the
                                `--set` keys of `python -m pipelines.train
                                NAME` with their defaults ("settings")
"""

import argparse
import json
import sys

from zoo import registry


def _metrics_line(metrics):
    return ", ".join(f"{k}={v}" for k, v in metrics.items()) or "(no trained weights)"


def _with_settings(name, info):
    """`info` plus "settings": the keys `python -m pipelines.train NAME --set`
    takes, with their defaults (architecture: the preset; training: the
    config). pipelines.settings reads plain-dict configs, no TensorFlow; a
    zoo installed without pipelines lists no settings."""
    try:
        from pipelines import settings
    except ImportError:
        return info
    architecture, training = settings.defaults(name)
    return {**info, "settings": {"architecture": architecture, "training": training}}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m zoo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="every entry with its measured metrics")
    info = commands.add_parser("info", help="one entry as JSON")
    info.add_argument("name")
    args = parser.parse_args(argv)
    if args.command == "list":
        for name in registry.list_models():
            entry = registry.info(name)
            # An unreadable card is one entry's problem: list the others.
            metrics = (f"(metrics card unreadable: {entry['card_error']})" if entry["card_error"]
                       else _metrics_line(entry["metrics"]))
            print(f"{name}  [{entry['task']}]  {metrics}")
        return 0
    try:
        print(json.dumps(_with_settings(args.name, registry.info(args.name)), indent=2))
    except ValueError as error:  # unknown name: the registry's message names close matches
        print(error, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
