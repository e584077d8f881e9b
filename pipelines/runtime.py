"""Where and how a zoo entry trains: the tf.distribute strategy, the
mixed-precision policy and XLA.

`python -m pipelines.train` picks them once (`--strategy`,
`--mixed-precision`, `--jit-compile`) and hands a `Runtime` to the task's
`train()`, which builds and compiles its model inside `Runtime.scope()` and
through `Runtime.compile()`: variables must be created under the strategy
that trains them, and a layer's compute dtype is fixed when it is built.

    runtime = make_runtime("auto", mixed_precision="bfloat16")
    with runtime.scope():
        model = zoo.load("gat_cora", weights=None)
        runtime.compile(model, optimizer="adam", loss=...)

The default `Runtime()` changes nothing: the default strategy, the global
dtype policy, Keras' own `jit_compile="auto"` (off on CPU), and the
length-bucketed input pipelines, so the shipped weights are re-created
exactly.
"""

import contextlib
import dataclasses

import keras
import tensorflow as tf

STRATEGIES = ("auto", "tpu", "gpu", "mirrored", "cpu")
PRECISIONS = ("bfloat16", "float16")


def _local_tpu_resolver():
    """A TPUClusterResolver for an attached TPU, or None.

    A TPU node (Colab's and Kaggle's classic runtimes) is named by the
    environment, which `TPUClusterResolver()` reads; a TPU VM has its chips
    as local devices, which need ``tpu="local"``. Both checks are instant
    when there is no TPU.
    """
    try:
        return tf.distribute.cluster_resolver.TPUClusterResolver()
    except ValueError:  # "Please provide a TPU Name to connect to."
        pass
    if tf.config.list_physical_devices("TPU"):
        return tf.distribute.cluster_resolver.TPUClusterResolver(tpu="local")
    return None


def _tpu_strategy(resolver):
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def strategy(name="auto"):
    """The tf.distribute strategy called `name`.

    Args:
        name: one of `STRATEGIES`:
            ``"auto"``: a TPU if one is attached, else MirroredStrategy over
            the GPUs if there are any, else the default strategy (one CPU:
            exactly what a plain Keras `fit` does).
            ``"tpu"``: TPUStrategy; an error if no TPU is attached.
            ``"gpu"``: MirroredStrategy over every GPU; an error without one.
            ``"mirrored"``: MirroredStrategy over every GPU, or over every
            logical CPU device when there is no GPU (how the tests run data
            parallelism on a laptop).
            ``"cpu"``: the first CPU only (OneDeviceStrategy), GPUs unused.

    Raises:
        ValueError: an unknown name, or a device kind that is not there.
    """
    if name not in STRATEGIES:
        raise ValueError(f"Unknown strategy. Received: strategy={name!r}; expected one of "
                         f"{', '.join(STRATEGIES)}.")
    if name in ("auto", "tpu"):
        resolver = _local_tpu_resolver()
        if resolver is not None:
            return _tpu_strategy(resolver)
        if name == "tpu":
            raise ValueError("strategy='tpu' but no TPU is attached (TPUClusterResolver found "
                             "none: set TPU_NAME, or run on a TPU runtime); use "
                             "strategy='auto' to fall back to GPUs or the CPU.")
    gpus = tf.config.list_logical_devices("GPU")
    if name == "gpu" and not gpus:
        raise ValueError("strategy='gpu' but TensorFlow sees no GPU; use strategy='auto' "
                         "or 'cpu'.")
    if name in ("gpu", "mirrored") or (name == "auto" and gpus):
        devices = gpus or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    if name == "cpu":
        return tf.distribute.OneDeviceStrategy("/cpu:0")
    return tf.distribute.get_strategy()  # "auto" without TPU or GPU


def dtype_policy_name(mixed_precision):
    """The Keras dtype policy of `--mixed-precision` (None: float32)."""
    if mixed_precision is None:
        return None
    if mixed_precision not in PRECISIONS:
        raise ValueError(f"Unknown mixed precision. Received: mixed_precision={mixed_precision!r}; "
                         f"expected one of {', '.join(PRECISIONS)} (or None for float32).")
    return f"mixed_{mixed_precision}"


@dataclasses.dataclass(frozen=True)
class Runtime:
    """How a task's `train()` builds, compiles and feeds its model.

    Attributes:
        strategy: a `tf.distribute.Strategy`; None is the default strategy.
        mixed_precision: None (float32), ``"bfloat16"`` (TPUs, recent
            CPUs) or ``"float16"`` (GPUs; Keras adds loss scaling): the
            compute dtype of what is built in `scope()`. Variables stay
            float32, so the saved weights load into a float32 model.
        jit_compile: `model.compile`'s: True compiles the steps with XLA;
            ``"auto"`` is Keras' choice (XLA on a GPU without a distribution
            strategy, so not under MirroredStrategy; none on CPU).
        static_shapes: training batches of a single shape (padded to the
            longest length, incomplete batches dropped) instead of
            length buckets: a TPU compiles one program per input shape and
            needs every dimension known.
    """

    strategy: tf.distribute.Strategy = None
    mixed_precision: str = None
    jit_compile: object = "auto"
    static_shapes: bool = False

    def __post_init__(self):
        dtype_policy_name(self.mixed_precision)  # Validates it.

    @property
    def distribute(self):
        """The strategy in use (the default one when none was given)."""
        return self.strategy or tf.distribute.get_strategy()

    @contextlib.contextmanager
    def scope(self):
        """Builds under the strategy and, if asked, the mixed-precision
        policy; the global policy is restored on exit."""
        policy = dtype_policy_name(self.mixed_precision)
        previous = keras.config.dtype_policy()
        if policy:
            keras.config.set_dtype_policy(policy)
        try:
            with self.distribute.scope():
                yield
        finally:
            keras.config.set_dtype_policy(previous)

    def summary(self):
        """What a metrics card records of this runtime; None for the default
        one (one device, float32, Keras' jit choice), whose cards stay as
        they were."""
        summary = dict(strategy=type(self.distribute).__name__,
                       replicas=self.distribute.num_replicas_in_sync,
                       mixed_precision=self.mixed_precision, jit_compile=self.jit_compile)
        default = self.distribute is tf.distribute.get_strategy() and not self.mixed_precision
        return None if default and self.jit_compile == "auto" else summary

    def compile(self, model, **kwargs):
        """`model.compile(**kwargs)` with this runtime's `jit_compile`."""
        model.compile(jit_compile=self.jit_compile, **kwargs)
        return model


def make_runtime(strategy_name="auto", mixed_precision=None, jit_compile=False):
    """The `Runtime` of the training command's flags (static shapes on a TPU)."""
    chosen = strategy(strategy_name)
    return Runtime(strategy=chosen, mixed_precision=mixed_precision,
                   jit_compile=True if jit_compile else "auto",
                   static_shapes=isinstance(chosen, tf.distribute.TPUStrategy))
