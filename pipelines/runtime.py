"""Where and how a zoo entry trains: the tf.distribute strategy (TensorFlow)
or the keras.distribution (JAX), the mixed-precision policy and XLA.

`python -m pipelines.train` picks them once (`--strategy`,
`--mixed-precision`, `--jit-compile`) and hands a `Runtime` to the task's
`train()`, which builds and compiles its model inside `Runtime.scope()` and
through `Runtime.compile()`: variables must be created under the strategy
that trains them, and a layer's compute dtype is fixed when it is built.

    runtime = make_runtime("auto", mixed_precision="bfloat16")
    with runtime.scope():
        model = zoo.load("gat_cora", weights=None)
        runtime.compile(model, optimizer="adam", loss=...)

On JAX, `--distribution data_parallel` is `keras.distribution.DataParallel`
over every device (TPU cores, GPUs, or the CPU devices of
`XLA_FLAGS=--xla_force_host_platform_device_count=N`), and several
processes join through `initialize_processes` (jax.distributed, with gloo
collectives between CPU processes). Batches then have static shapes and
are sharded over the devices; Keras gives each process its shard.

The default `Runtime()` changes nothing: the default strategy, the global
dtype policy, Keras' own `jit_compile="auto"` (off on CPU), and the
length-bucketed input pipelines, so the shipped weights are re-created
exactly.
"""

import contextlib
import dataclasses
import os

import keras
import numpy as np
import tensorflow as tf

STRATEGIES = ("auto", "tpu", "gpu", "mirrored", "cpu")
DISTRIBUTIONS = ("none", "data_parallel", "auto")
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
            needs every dimension known, and JAX compiles one per shape too.
        distribution: a `keras.distribution.Distribution` (JAX only), e.g.
            `DataParallel`; None: one device.
    """

    strategy: tf.distribute.Strategy = None
    mixed_precision: str = None
    jit_compile: object = "auto"
    static_shapes: bool = False
    distribution: object = None  # keras.distribution.DataParallel (not exported as a base class)

    def __post_init__(self):
        dtype_policy_name(self.mixed_precision)  # Validates it.

    @property
    def distribute(self):
        """The strategy in use (the default one when none was given)."""
        return self.strategy or tf.distribute.get_strategy()

    @property
    def num_devices(self):
        """The devices a step runs on: the distribution's, else the strategy's replicas."""
        if self.distribution is not None:
            return int(np.prod(self.distribution.device_mesh.shape))
        return self.distribute.num_replicas_in_sync

    @property
    def num_processes(self):
        """How many processes train together (1 unless jax.distributed joined several)."""
        return _jax().process_count() if self.distribution is not None else 1

    @property
    def process_index(self):
        """This process' index; process 0 writes the weights, card and logs."""
        return _jax().process_index() if self.distribution is not None else 0

    @contextlib.contextmanager
    def scope(self):
        """Builds under the strategy or distribution and, if asked, the
        mixed-precision policy; the global policy is restored on exit."""
        policy = dtype_policy_name(self.mixed_precision)
        previous = keras.config.dtype_policy()
        if policy:
            keras.config.set_dtype_policy(policy)
        try:
            placement = (self.distribution.scope() if self.distribution is not None
                         else self.distribute.scope())
            with placement:
                yield
        finally:
            keras.config.set_dtype_policy(previous)

    def summary(self):
        """What a metrics card records of this runtime; None for the default
        TensorFlow one (one device, float32, Keras' jit choice), whose cards
        stay as they were. Every other backend's run is recorded."""
        backend = keras.backend.backend()
        if backend != "tensorflow":
            return dict(backend=backend, devices=self.num_devices, processes=self.num_processes,
                        distribution=type(self.distribution).__name__ if self.distribution
                        else None, mixed_precision=self.mixed_precision)
        summary = dict(strategy=type(self.distribute).__name__,
                       replicas=self.distribute.num_replicas_in_sync,
                       mixed_precision=self.mixed_precision, jit_compile=self.jit_compile)
        default = self.distribute is tf.distribute.get_strategy() and not self.mixed_precision
        return None if default and self.jit_compile == "auto" else summary

    def compile(self, model, **kwargs):
        """`model.compile(**kwargs)` with this runtime's `jit_compile`."""
        model.compile(jit_compile=self.jit_compile, **kwargs)
        return model


def _jax():
    """The jax module: only a distribution (JAX backend) asks, so jax is installed."""
    import jax

    return jax


def distribution(name="auto"):
    """The keras.distribution called `name` (JAX backend).

    Args:
        name: one of `DISTRIBUTIONS`: ``"data_parallel"``:
            `keras.distribution.DataParallel` over every device of every
            process; ``"none"``: one device; ``"auto"``: DataParallel when
            there is more than one device, else none.

    Raises:
        ValueError: an unknown name, or a backend without keras.distribution.
    """
    if name not in DISTRIBUTIONS:
        raise ValueError(f"Unknown distribution. Received: distribution={name!r}; expected one "
                         f"of {', '.join(DISTRIBUTIONS)}.")
    if name == "none":
        return None
    if keras.backend.backend() != "jax":
        if name == "auto":
            return None
        raise ValueError(f"distribution={name!r} needs the JAX backend (keras.distribution is "
                         f"implemented for JAX only); Keras runs on {keras.backend.backend()}. "
                         "Use --backend jax, or --strategy on TensorFlow.")
    if name == "auto" and len(keras.distribution.list_devices()) == 1:
        return None
    return keras.distribution.DataParallel()


def initialize_processes(coordinator_address=None, num_processes=None, process_id=None):
    """Joins the processes of a multi-process JAX run (`keras.distribution.initialize`).

    Missing arguments are read from JAX's environment variables
    (JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES, JAX_PROCESS_ID), then
    Keras' (KERAS_DISTRIBUTION_JOB_ADDRESSES, ..._NUM_PROCESSES,
    ..._PROCESS_ID). Returns False, doing nothing, when neither names more
    than one process. Between CPU processes the collectives are gloo's
    (JAX's CPU default has none across processes).
    """
    environ = os.environ
    coordinator_address = coordinator_address or environ.get("JAX_COORDINATOR_ADDRESS") or \
        environ.get("KERAS_DISTRIBUTION_JOB_ADDRESSES")
    if num_processes is None:
        num_processes = environ.get("JAX_NUM_PROCESSES") or \
            environ.get("KERAS_DISTRIBUTION_NUM_PROCESSES")
    if process_id is None:
        process_id = environ.get("JAX_PROCESS_ID") or environ.get("KERAS_DISTRIBUTION_PROCESS_ID")
    if num_processes is None or int(num_processes) <= 1:
        return False
    if keras.backend.backend() != "jax":
        raise ValueError(f"num_processes={num_processes} needs the JAX backend (multi-process "
                         f"keras.distribution); Keras runs on {keras.backend.backend()}.")
    if not coordinator_address or process_id is None:
        raise ValueError(f"num_processes={num_processes} also needs the coordinator's HOST:PORT "
                         f"and this process' id. Received: coordinator_address="
                         f"{coordinator_address!r}, process_id={process_id!r}.")
    _jax().config.update("jax_cpu_collectives_implementation", "gloo")
    keras.distribution.initialize(coordinator_address, int(num_processes), int(process_id))
    return True


def make_runtime(strategy_name="auto", mixed_precision=None, jit_compile=False,
                 distribution_name="auto"):
    """The `Runtime` of the training command's flags: a tf.distribute
    strategy on TensorFlow, a keras.distribution on JAX (static shapes on a
    TPU and on JAX)."""
    if keras.backend.backend() == "tensorflow":
        distribution(distribution_name)  # Refuses data_parallel here.
        chosen = strategy(strategy_name)
        return Runtime(strategy=chosen, mixed_precision=mixed_precision,
                       jit_compile=True if jit_compile else "auto",
                       static_shapes=isinstance(chosen, tf.distribute.TPUStrategy))
    if strategy_name != "auto":
        raise ValueError(f"strategy={strategy_name!r} is a tf.distribute strategy, for the "
                         f"TensorFlow backend; Keras runs on {keras.backend.backend()}: use "
                         "--distribution (none, data_parallel, auto) instead.")
    on_jax = keras.backend.backend() == "jax"
    chosen = distribution(distribution_name)
    if chosen is not None:
        # For the whole process, not only `scope()`: `fit` reads it when it
        # turns each batch into arrays sharded over the devices.
        keras.distribution.set_distribution(chosen)
    # Keras compiles every JAX step with XLA ("auto" is True there).
    return Runtime(mixed_precision=mixed_precision,
                   jit_compile=True if jit_compile or on_jax else "auto",
                   static_shapes=on_jax, distribution=chosen)
