"""Which Keras backend `python -m pipelines.train` runs on: `--backend
tensorflow|jax|auto`, fixed before keras is imported (Keras reads
`KERAS_BACKEND` once, on import).

    auto: JAX when a TPU is attached and TensorFlow cannot use it (a TPU VM,
          such as Colab's TPU runtime, without a TPU build of TensorFlow:
          tensorflow-tpu stops at 2.20 and we pin 2.21); TensorFlow otherwise.

Without `--backend` the run uses `$KERAS_BACKEND` if set, else `auto`.
Nothing here imports keras, TensorFlow or JAX.
"""

import glob
import importlib.metadata
import os

BACKENDS = ("tensorflow", "jax", "auto")


def tpu_attached():
    """True on a TPU VM (its chips are /dev/accel* or /dev/vfio devices) or
    when a TPU is named by the environment (a TPU node)."""
    return bool(glob.glob("/dev/accel*") or glob.glob("/dev/vfio/[0-9]*")
                or os.environ.get("TPU_NAME") or os.environ.get("COLAB_TPU_ADDR"))


def tensorflow_has_tpu_build():
    """True if the installed TensorFlow is a TPU build (tensorflow-tpu)."""
    try:
        importlib.metadata.distribution("tensorflow-tpu")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def resolve(name):
    """The Keras backend `--backend name` means (``auto`` decided here)."""
    if name not in BACKENDS:
        raise ValueError(f"Unknown backend. Received: backend={name!r}; expected one of "
                         f"{', '.join(BACKENDS)}.")
    if name != "auto":
        return name
    return "jax" if tpu_attached() and not tensorflow_has_tpu_build() else "tensorflow"


def explain(name):
    """`resolve(name)` and why, in a sentence (what the notebooks print)."""
    chosen = resolve(name)
    if name != "auto":
        return f"{chosen} (--backend {name})"
    if chosen == "jax":
        return ("jax: a TPU is attached and this TensorFlow has no TPU build (tensorflow-tpu "
                "stops at 2.20), so Keras reaches the TPU through JAX, with DataParallel over "
                "its cores")
    return "tensorflow: no TPU is attached, or TensorFlow can use it (GPUs and CPUs)"


def requested(argv):
    """The value of `--backend` in `argv` (None if absent); `--backend X`
    and `--backend=X` both count, as argparse reads them."""
    for i, arg in enumerate(argv):
        if arg == "--backend" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--backend="):
            return arg.split("=", 1)[1]
    return None


def default():
    """The backend of a run without `--backend`: $KERAS_BACKEND, else auto."""
    return os.environ.get("KERAS_BACKEND") or "auto"


def select(argv):
    """Sets KERAS_BACKEND from `argv`'s `--backend` (or `default()`), before
    keras is imported. An unknown name is left to argparse's error."""
    name = requested(argv) or default()
    if name in BACKENDS:
        os.environ["KERAS_BACKEND"] = resolve(name)


def check_active(name, active):
    """Raises ValueError if `--backend name` is not the `active` Keras
    backend: keras was imported before the flag could choose it (a call of
    `pipelines.train.main` from Python, not the command line)."""
    wanted = resolve(name)
    if wanted != active:
        raise ValueError(
            f"--backend {name} means {wanted}, but Keras is already running on {active}: the "
            "backend is fixed when keras is first imported. Run `python -m pipelines.train ... "
            f"--backend {name}`, or set KERAS_BACKEND={wanted} before importing keras.")
