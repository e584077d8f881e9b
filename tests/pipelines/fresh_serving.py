"""Runs an exported SavedModel's `serving_default` in a fresh interpreter that
cannot import zoo or pipelines (imports tensorflow and tensorflow_text only,
as TF Serving links TF and TF Text ops and nothing of this project), and
reads the TF Serving warm-up requests an export wrote."""

import pathlib
import subprocess
import sys
import tempfile
import textwrap

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2

from pipelines.export import SIGNATURE, WARMUP_FILE

# Request k's inputs are files request_k/<input name>.pb (serialised
# TensorProtos, as in a PredictRequest); its outputs go to output_k.npz.
SERVE = textwrap.dedent("""
    import pathlib, sys
    sys.modules["zoo"] = None
    sys.modules["pipelines"] = None
    import numpy as np
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the text ops the translator uses)
    from tensorflow.core.framework import tensor_pb2
    path, folder = sys.argv[1], pathlib.Path(sys.argv[2])
    serve = tf.saved_model.load(path).signatures["serving_default"]
    for k, request in enumerate(sorted(folder.glob("request_*"))):
        inputs = {f.stem: tf.make_ndarray(tensor_pb2.TensorProto.FromString(f.read_bytes()))
                  for f in request.iterdir()}
        try:
            result = serve(**{name: tf.constant(value) for name, value in inputs.items()})
        except tf.errors.OpError as error:  # a refused request: TF Serving's error status
            if "--errors" not in sys.argv:
                raise
            (folder / f"error_{k:03d}.txt").write_text(f"{type(error).__name__}: {error.message}")
            continue
        # Strings come back as object arrays; bytes arrays need no pickle.
        np.savez(folder / f"output_{k:03d}.npz",
                 **{name: v.numpy().astype(bytes) if v.dtype == tf.string else v.numpy()
                    for name, v in result.items()})
""")


def serve_in_fresh_process(path, requests, workdir, errors=False):
    """Outputs (dicts of arrays) of `serving_default` for each request, a
    dict of input name -> array or `TensorProto`, all served by one process.
    With `errors`, a request the graph refuses gives its error (the string
    "<OpError class>: <message>") in its place instead of failing them all."""
    folder = pathlib.Path(tempfile.mkdtemp(prefix="fresh_serving_", dir=workdir))
    for k, inputs in enumerate(requests):
        request = folder / f"request_{k:03d}"
        request.mkdir(parents=True)
        for name, value in inputs.items():
            proto = value if isinstance(value, tensor_pb2.TensorProto) else tf.make_tensor_proto(value)
            (request / f"{name}.pb").write_bytes(proto.SerializeToString())
    script = folder / "serve.py"
    script.write_text(SERVE)
    subprocess.run([sys.executable, str(script), str(path), str(folder)] + ["--errors"] * errors,
                   check=True, cwd=folder)
    return [(folder / f"error_{k:03d}.txt").read_text() if (folder / f"error_{k:03d}.txt").exists()
            else dict(np.load(folder / f"output_{k:03d}.npz")) for k in range(len(requests))]


def read_warmup_requests(path):
    """The inputs (name -> TensorProto) of each `PredictRequest` in the
    export's `assets.extra/tf_serving_warmup_requests`, as TF Serving reads them."""
    from tensorflow_serving.apis import prediction_log_pb2

    requests = []
    for record in tf.data.TFRecordDataset(str(pathlib.Path(path) / WARMUP_FILE)):
        request = prediction_log_pb2.PredictionLog.FromString(record.numpy()).predict_log.request
        assert request.model_spec.signature_name == SIGNATURE
        requests.append(dict(request.inputs))
    return requests
