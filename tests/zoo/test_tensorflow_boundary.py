"""TensorFlow stays in the preprocessors (issue 19 item 2).

As in keras-hub, strings become ids and ids strings in one preprocessor per
family, in TensorFlow ops that run in tf.data on any backend; the layers and
models compute with keras.ops alone, so they run on JAX and PyTorch.
"""

import ast
import pathlib

ZOO = pathlib.Path(__file__).resolve().parents[2] / "zoo"

# The preprocessing modules: the text families' shared tokenizer and each
# family's preprocessor with its tokenizers.
PREPROCESSING = {
    "models/word_tokenizer.py",
    "models/seq2seq/seq2seq_preprocessor.py",
    "models/show_attend_tell/show_attend_tell_preprocessor.py",
    "models/transformer_encoder/subword_tokenizer.py",
    "models/transformer_encoder/transformer_encoder_preprocessor.py",
}
# The one import elsewhere, inside a function that runs on the TensorFlow
# backend only: whether the graph is compiled by XLA (the padding fast path
# cannot run there), a question only TensorFlow can answer.
TENSORFLOW_BACKEND_ONLY = {"ops/packing.py"}


def _imports_tensorflow(path):
    """(line, top level?) of every import of tensorflow or tensorflow_text."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        if any(name.split(".")[0] in ("tensorflow", "tensorflow_text") for name in names):
            found.append((node.lineno, id(node) in top_level))
    return found


def test_only_the_preprocessors_import_tensorflow():
    offenders = []
    for path in sorted(ZOO.rglob("*.py")):
        name = path.relative_to(ZOO).as_posix()
        if name in PREPROCESSING:
            continue
        for line, top_level in _imports_tensorflow(path):
            if name in TENSORFLOW_BACKEND_ONLY and not top_level:
                continue
            offenders.append(f"zoo/{name}:{line}")
    assert not offenders, f"TensorFlow imported outside the preprocessors: {offenders}"


def test_the_preprocessing_modules_exist_and_use_tensorflow():
    """The list above names real files that do import TensorFlow (so a
    renamed preprocessor cannot leave the check looking at nothing)."""
    for name in PREPROCESSING | TENSORFLOW_BACKEND_ONLY:
        assert _imports_tensorflow(ZOO / name), f"zoo/{name} imports no TensorFlow"


def test_the_check_finds_an_import(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("import keras\nfrom tensorflow.python.ops import control_flow_util\n"
                      "def f():\n    import tensorflow_text as text\n")
    assert _imports_tensorflow(module) == [(2, True), (4, False)]
