"""Attention plots: word alignment heatmaps, image overlays, graph neighbourhoods.

The lecture's interpretability slides show the attention weights α as
pictures: a words × words matrix for translation (Bahdanau et al., 2015), one
image overlay per generated word for captioning (Xu et al., 2015, "Show,
Attend and Tell") and the coefficients α_ij on a node's incoming edges for GAT
(Veličković et al., 2018). This module draws all three with NumPy and
matplotlib only.

Every figure is a `matplotlib.figure.Figure` attached to the non-interactive
Agg canvas, so nothing here touches `pyplot`'s global state or needs a display
(safe in tests, training callbacks and headless servers). Inputs may be
anything `np.asarray` accepts, including eager TensorFlow, JAX and PyTorch
tensors. Every plotting function returns the figure and, when `path` is given,
also writes a PNG there (parent folders are created).

Example:

>>> from zoo import viz
>>> fig = viz.plot_attention_heatmap(
...     [[0.9, 0.1], [0.2, 0.8]], ["the", "cat"], ["el", "gato"],
...     path="/tmp/alignment.png")
"""

import math
import os

import matplotlib
import numpy as np
from matplotlib import cm
from matplotlib import colors as mcolors
from matplotlib import patches as mpatches
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = [
    "plot_attention_heatmap",
    "plot_image_attention",
    "plot_graph_attention",
    "attention_heatmap_image",
    "image_attention_image",
]

_DPI = 100
_HEATMAP_CMAP = "viridis"
# Opacity of the dark layer over unattended regions of an image overlay.
_OVERLAY_DIM = 0.8
# Largest side, in pixels, of the upsampled attention layer of an overlay.
_OVERLAY_PX = 512
# Edges on a white background: start the colour map at a visible blue so that
# weak edges stay visible (their width already says they are weak).
_EDGE_CMAP = mcolors.ListedColormap(
    matplotlib.colormaps["Blues"](np.linspace(0.3, 1.0, 256)),
    name="attention_edges",
)
# Beyond this many neighbours only the largest α values are written, since
# more labels than that overlap on a circle of readable size.
_MAX_EDGE_LABELS = 24


# --------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------
def _new_figure(figsize):
    """A pyplot-free figure on the Agg canvas (no display, no global state)."""
    fig = Figure(figsize=figsize, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path):
    """Writes `fig` as PNG to `path`, creating missing parent folders."""
    if path is None:
        return
    path = os.fspath(path)
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    fig.savefig(path, format="png", dpi=fig.dpi, facecolor="white")


def _to_numpy(x, name):
    """`np.asarray` that also takes tensors needing grad, and names `name`."""
    if not isinstance(x, np.ndarray) and hasattr(x, "detach"):
        # PyTorch: np.asarray refuses tensors that require grad or live on GPU.
        x = x.detach()
        if hasattr(x, "cpu"):
            x = x.cpu()
    try:
        return np.asarray(x)
    except (TypeError, ValueError, RuntimeError) as e:
        raise ValueError(
            f"`{name}` must be a numeric array (NumPy array, list or tensor). "
            f"Received: {name} of type {type(x).__name__} ({e})"
        ) from None


def _to_float_array(x, name):
    """`_to_numpy` as float64 (also normalises bfloat16/float16 for matplotlib)."""
    arr = _to_numpy(x, name)
    try:
        return arr.astype(np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(
            f"`{name}` must be numeric. Received: {name} with dtype {arr.dtype} ({e})"
        ) from None


def _as_labels(tokens, name, expected, what):
    """Token/word labels as a list of str, checked to have `expected` items."""
    if tokens is None:
        return None
    if isinstance(tokens, (str, bytes)):
        raise ValueError(
            f"`{name}` must be a sequence of tokens ({what}), not a single "
            f"string; split it first, e.g. {name}=text.split(). "
            f"Received: {name}={tokens!r}"
        )
    if not isinstance(tokens, np.ndarray) and hasattr(tokens, "numpy"):
        tokens = tokens.numpy()  # tf.string tensors -> bytes objects
    arr = np.asarray(tokens, dtype=object)
    if arr.ndim != 1:
        raise ValueError(
            f"`{name}` must be a 1-D sequence of tokens ({what}). "
            f"Received: {name} with shape {arr.shape}"
        )
    if len(arr) != expected:
        raise ValueError(
            f"`{name}` must have one token per {what}: expected {expected}, "
            f"received {len(arr)}. Received: {name}={list(arr)!r}"
        )
    return [
        t.decode("utf-8", errors="replace") if isinstance(t, bytes) else str(t)
        for t in arr
    ]


def _label_fontsize(n):
    if n <= 20:
        return 10
    if n <= 40:
        return 9
    if n <= 60:
        return 8
    return 6


# --------------------------------------------------------------------------
# 1. Heatmap (translation alignment)
# --------------------------------------------------------------------------
def _check_heatmap_args(weights, query_tokens, key_tokens):
    w = _to_float_array(weights, "weights")
    if w.ndim != 2:
        hint = ""
        if w.ndim == 3:
            hint = " Select one example first, e.g. weights[0]."
        elif w.ndim == 4:
            hint = " Select one example and head first, e.g. weights[0, h]."
        raise ValueError(
            "`weights` must be a 2-D [Tq, Tv] matrix (queries/output tokens "
            f"× keys/input tokens).{hint} Received: weights with shape {w.shape}"
        )
    if w.size == 0:
        raise ValueError(
            f"`weights` must not be empty. Received: weights with shape {w.shape}"
        )
    tq, tv = w.shape
    q = _as_labels(query_tokens, "query_tokens", tq, "row of weights (Tq)")
    k = _as_labels(key_tokens, "key_tokens", tv, "column of weights (Tv)")
    return w, q, k


def _heatmap_figsize(w, q, k):
    """Square-ish cells plus room for the longest labels and the colorbar."""
    tq, tv = w.shape
    longest_axis = max(tq, tv)
    cell = 0.42 if longest_axis <= 30 else 0.3 if longest_axis <= 60 else 0.2
    longest_q = max((len(t) for t in q), default=2) if q else 3
    longest_k = max((len(t) for t in k), default=2) if k else 3
    width = cell * tv + 0.085 * longest_q + 2.2
    height = cell * tq + 0.065 * longest_k + 1.4
    return (min(max(width, 4.0), 20.0), min(max(height, 3.0), 20.0))


def _draw_heatmap(ax, w, q, k, title):
    """Draws the alignment matrix into `ax` (the one drawing path of 1 and 4)."""
    tq, tv = w.shape
    im = ax.imshow(
        w, cmap=_HEATMAP_CMAP, vmin=0.0, vmax=1.0, aspect="auto",
        interpolation="nearest",
    )
    # As in Bahdanau et al. (2015), Fig. 3: input words along the top, output
    # words down the side, so the matrix reads like the sentence pair.
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    if k is not None:
        ax.set_xticks(
            np.arange(tv), k, rotation=60, ha="left", rotation_mode="anchor",
            fontsize=_label_fontsize(tv), parse_math=False,
        )
    if q is not None:
        ax.set_yticks(np.arange(tq), q, fontsize=_label_fontsize(tq), parse_math=False)
    ax.tick_params(length=0)
    ax.set_xlabel("input (keys)")
    ax.set_ylabel("output (queries)")
    if title:
        ax.set_title(title, parse_math=False)
    ax.figure.colorbar(im, ax=ax, fraction=0.05, pad=0.03, label="attention weight α")
    return im


def _heatmap_figure(weights, query_tokens, key_tokens, title):
    w, q, k = _check_heatmap_args(weights, query_tokens, key_tokens)
    fig = _new_figure(_heatmap_figsize(w, q, k))
    ax = fig.add_subplot()
    _draw_heatmap(ax, w, q, k, title)
    return fig


def plot_attention_heatmap(
    weights, query_tokens=None, key_tokens=None, path=None, title=None, ax=None
):
    """Plots a `[Tq, Tv]` attention matrix as a word alignment heatmap.

    Row t holds α_t· = norm_i a(h_i, h'_t), the weights output token t puts on
    the input tokens i (Bahdanau et al., 2015, Fig. 3): output tokens run down
    the side, input tokens along the top with rotated labels, colour range is
    fixed to [0, 1] so plots are comparable.

    Args:
        weights: `[Tq, Tv]` array-like (NumPy, list, TF/JAX/PyTorch tensor).
            For a batch `[B, Tq, Tv]` or multi-head `[B, H, Tq, Tv]` output
            pass one slice, e.g. `weights[0]` or `weights[0, h]`.
        query_tokens: `Tq` labels for the rows (output/decoder tokens), str or
            bytes. None labels rows by index.
        key_tokens: `Tv` labels for the columns (input/encoder tokens).
        path: where to write a PNG (parent folders are created). None: no file.
        title: optional axes title.
        ax: optional existing axes to draw into (with its colorbar); the
            figure that owns it is returned and saved.

    Returns:
        The `matplotlib.figure.Figure`.

    Raises:
        ValueError: `weights` is not 2-D, or a token list does not match its
            axis length.

    Example:

    >>> w = np.array([[0.8, 0.1, 0.1], [0.1, 0.2, 0.7]])
    >>> fig = plot_attention_heatmap(
    ...     w, query_tokens=["hello", "world"],
    ...     key_tokens=["hola", "el", "mundo"], path="/tmp/attn.png")
    """
    if ax is None:
        fig = _heatmap_figure(weights, query_tokens, key_tokens, title)
    else:
        w, q, k = _check_heatmap_args(weights, query_tokens, key_tokens)
        _draw_heatmap(ax, w, q, k, title)
        fig = ax.figure
    _save(fig, path)
    return fig


def attention_heatmap_image(weights, query_tokens=None, key_tokens=None, title=None):
    """Renders the heatmap of `plot_attention_heatmap` to an RGBA array.

    Meant for image summaries during training, e.g.
    `tf.summary.image("attention", img[None])`, which accepts 4 channels.

    Args:
        weights: `[Tq, Tv]` array-like, as in `plot_attention_heatmap`.
        query_tokens: optional `Tq` row labels.
        key_tokens: optional `Tv` column labels.
        title: optional title.

    Returns:
        `np.ndarray` of dtype uint8 and shape `[H, W, 4]` (RGBA, opaque).

    Raises:
        ValueError: as `plot_attention_heatmap`.

    Example:

    >>> img = attention_heatmap_image(np.eye(3), ["a", "b", "c"], ["x", "y", "z"])
    >>> img.dtype, img.shape[-1]
    (dtype('uint8'), 4)
    """
    return _figure_to_rgba(_heatmap_figure(weights, query_tokens, key_tokens, title))


def _figure_to_rgba(fig):
    fig.patch.set_facecolor("white")
    fig.canvas.draw()
    # Copy: the buffer belongs to the canvas and is freed with the figure.
    return np.array(fig.canvas.buffer_rgba(), dtype=np.uint8, copy=True)


# --------------------------------------------------------------------------
# 2. Image overlays (Show, Attend and Tell)
# --------------------------------------------------------------------------
def _check_image(image):
    """The image to display: uint8 as is, or float in [0, 1]; no big copies."""
    img = _to_numpy(image, "image")
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if not (img.ndim == 2 or (img.ndim == 3 and img.shape[-1] in (3, 4))):
        raise ValueError(
            "`image` must be [H, W, 3] (RGB), [H, W, 4] or [H, W] (grey). "
            f"Received: image with shape {img.shape}"
        )
    if img.size == 0:
        raise ValueError(f"`image` must not be empty. Received: shape {img.shape}")
    if img.dtype.kind not in "biuf":
        img = _to_float_array(img, "image")  # e.g. bfloat16
    lo, hi = float(np.nanmin(img)), float(np.nanmax(img))
    if img.dtype.kind in "iu":
        if lo < 0 or hi > 255:
            raise ValueError(
                "`image` as integers must be in [0, 255] (uint8). "
                f"Received: image with values in [{lo:g}, {hi:g}]"
            )
        return img.astype(np.uint8, copy=False)
    if lo < 0 or hi > 1:
        raise ValueError(
            "`image` as float must be in [0, 1] (use image / 255 or uint8, and "
            "undo any mean/std normalisation first). "
            f"Received: image with values in [{lo:g}, {hi:g}]"
        )
    return img.astype(np.float32, copy=False)


def _check_maps(attention):
    a = _to_float_array(attention, "attention")
    if a.ndim == 2:
        # Show-Attend-Tell returns α as [T, L] over L = h·w flattened regions.
        side = math.isqrt(a.shape[1])
        if side * side != a.shape[1]:
            raise ValueError(
                "`attention` must be [T, h, w], or [T, L] with L = h·w a "
                "perfect square (a flattened square feature grid). "
                f"Received: attention with shape {a.shape}"
            )
        a = a.reshape(a.shape[0], side, side)  # [T, L] -> [T, h, w]
    if a.ndim != 3 or a.shape[0] == 0 or a.shape[1] == 0 or a.shape[2] == 0:
        raise ValueError(
            "`attention` must be [T, h, w]: one non-empty h × w map per "
            f"generated word. Received: attention with shape {a.shape}"
        )
    return a


def _bilinear_resize(m, out_h, out_w):
    """Bilinear resize of a 2-D map with half-pixel centres (as tf.image.resize)."""
    in_h, in_w = m.shape

    def axis(n_out, n_in):
        x = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        lo = np.floor(x).astype(np.int64)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, x - lo

    y0, y1, wy = axis(out_h, in_h)
    x0, x1, wx = axis(out_w, in_w)
    top = m[y0][:, x0] * (1 - wx) + m[y0][:, x1] * wx  # [out_h, out_w]
    bottom = m[y1][:, x0] * (1 - wx) + m[y1][:, x1] * wx  # [out_h, out_w]
    return top * (1 - wy)[:, None] + bottom * wy[:, None]


def plot_image_attention(image, attention, words, path=None, ncols=5, title=None):
    """Plots one attention overlay per generated word (Show, Attend and Tell).

    Panel t shows the image with α_t, the soft attention of word t over the
    `h × w` feature grid, stretched to the image size with bilinear
    interpolation; a semi-transparent dark layer dims the regions with low
    α and a yellow contour outlines where α exceeds half its peak, so the
    part of the image the word looked at stands out (Xu et al., 2015,
    Fig. 2-3). Each map is scaled by its own maximum, since α_t sums to 1 over h·w
    regions and would otherwise be nearly invisible on large grids.

    Args:
        image: `[H, W, 3]` RGB (also `[H, W, 4]` or `[H, W]`), uint8 in
            [0, 255] or float in [0, 1].
        attention: `[T, h, w]` maps, one per word; `[T, h·w]` with a square
            grid is reshaped.
        words: the `T` generated words (str or bytes), used as panel titles.
        path: where to write a PNG. None: no file.
        ncols: panels per row (at most `T`).
        title: optional figure title, e.g. the full caption.

    Returns:
        The `matplotlib.figure.Figure` with exactly `T` axes.

    Raises:
        ValueError: bad shapes or value ranges, or `len(words) != T`.

    Example:

    >>> img = np.random.rand(224, 224, 3)
    >>> alphas = np.random.dirichlet(np.ones(49), size=3).reshape(3, 7, 7)
    >>> fig = plot_image_attention(img, alphas, ["a", "dog", "<end>"],
    ...                            path="/tmp/overlay.png")
    """
    img = _check_image(image)
    maps = _check_maps(attention)
    t = maps.shape[0]
    labels = _as_labels(words, "words", t, "attention map (T)")
    if labels is None:
        raise ValueError("`words` must list the T generated words. Received: words=None")
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(f"`ncols` must be a positive integer. Received: ncols={ncols!r}")

    ncols = min(int(ncols), t)
    nrows = math.ceil(t / ncols)
    h, w = img.shape[:2]
    panel_w = 2.6
    panel_h = panel_w * h / w + 0.35  # + room for the word
    fig = _new_figure((panel_w * ncols, panel_h * nrows + (0.4 if title else 0.0)))
    fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02, wspace=0.02, hspace=0.02)
    # The map is upsampled to at most _OVERLAY_PX pixels a side (panels are
    # ~260 px wide), not to the photo's full size, to keep memory small.
    scale = min(1.0, _OVERLAY_PX / max(h, w))
    oh, ow = max(1, round(h * scale)), max(1, round(w * scale))
    extent = (-0.5, w - 0.5, h - 0.5, -0.5)  # pixel edges of the image
    ys = (np.arange(oh) + 0.5) * h / oh - 0.5  # overlay pixel centres in image
    xs = (np.arange(ow) + 0.5) * w / ow - 0.5  # coordinates, for the contour
    grey = img.ndim == 2
    for i in range(t):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        ax.imshow(img, cmap="gray" if grey else None, vmin=0, vmax=1 if img.dtype.kind == "f" else 255)
        peak = np.nanmax(maps[i])
        m = maps[i] / peak if peak > 0 else np.zeros_like(maps[i])
        m = np.nan_to_num(_bilinear_resize(m, oh, ow))  # [h', w'] -> [oh, ow]
        # A spotlight: a black layer, transparent where α is high, dims the
        # regions the word did not look at, in the spirit of Xu et al.'s
        # white-highlight figures; it reads on any image, unlike a colour map.
        shade = np.zeros((oh, ow, 4), dtype=np.float32)
        shade[..., 3] = _OVERLAY_DIM * (1.0 - np.clip(m, 0.0, 1.0))
        ax.imshow(shade, extent=extent)
        if m.min() < 0.5 <= m.max():
            # Outline half the peak: the attended region stays findable on
            # photos that are dark already.
            ax.contour(xs, ys, m, levels=[0.5], colors="#ffe14d", linewidths=1.2,
                       alpha=0.9)
        ax.set_title(labels[i], fontsize=11, parse_math=False)
        ax.set_axis_off()
    if title:
        fig.suptitle(title, parse_math=False)
    _save(fig, path)
    return fig


def image_attention_image(image, attention, words, ncols=5, title=None):
    """Renders the overlays of `plot_image_attention` to an RGBA uint8 array
    `[H, W, 4]`, for `tf.summary.image` during training."""
    return _figure_to_rgba(plot_image_attention(image, attention, words, ncols=ncols, title=title))


# --------------------------------------------------------------------------
# 3. Graph neighbourhood (GAT)
# --------------------------------------------------------------------------
def _ink(face):
    """Black or white text, whichever reads better on the colour `face`."""
    r, g, b, _ = mcolors.to_rgba(face)
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


def _check_graph_args(edges, weights, node, num_nodes, labels, head):
    e = _to_float_array(edges, "edges")
    if e.ndim != 2 or e.shape[1] != 2:
        hint = ""
        if e.ndim == 2 and e.shape[0] == 2:
            hint = " For a PyG-style [2, E] edge_index pass edges.T."
        raise ValueError(
            f"`edges` must be [E, 2] integer (source, target) pairs.{hint} "
            f"Received: edges with shape {e.shape}"
        )
    if e.size and (np.any(e != np.round(e)) or e.min() < 0):
        raise ValueError(
            "`edges` must hold non-negative integer node ids. "
            f"Received: edges with values in [{e.min():g}, {e.max():g}]"
        )
    e = e.astype(np.int64)

    a = _to_float_array(weights, "weights")
    if a.ndim == 1:
        a = a[:, None]  # [E] -> [E, 1]
    if a.ndim != 2:
        raise ValueError(
            "`weights` must be [E] or [E, H] (H heads). "
            f"Received: weights with shape {a.shape}"
        )

    max_id = int(e.max()) if e.size else -1
    if num_nodes is not None:
        if isinstance(num_nodes, bool) or not isinstance(num_nodes, (int, np.integer)) or num_nodes < 1:
            raise ValueError(
                f"`num_nodes` must be a positive integer or None. Received: num_nodes={num_nodes!r}"
            )
        n = int(num_nodes)
        if max_id >= n:
            raise ValueError(
                f"`edges` refer to node {max_id} but `num_nodes` is {n}. "
                f"Received: num_nodes={num_nodes!r}"
            )
    elif labels is not None:
        labels = np.asarray(labels)
        n = labels.shape[0] if labels.ndim else 0
        if max_id >= n:
            raise ValueError(
                f"`labels` must hold one class id per node, but `edges` refer to "
                f"node {max_id}. Received: labels of length {n}"
            )
    else:
        n = max_id + 1

    num_edges = e.shape[0]
    if a.shape[0] == num_edges + n and a.shape[0] != num_edges:
        # GraphAttention(return_attention_scores=True) returns [E + N, H]:
        # the input edges, then one self-loop per node in node order.
        loops = np.repeat(np.arange(n, dtype=np.int64)[:, None], 2, axis=1)  # [N, 2]
        e = np.concatenate([e, loops], axis=0)
    elif a.shape[0] != num_edges:
        raise ValueError(
            f"`weights` must have one row per edge: {num_edges} (E), or "
            f"{num_edges + n} (E + N, as GraphAttention returns with its added "
            f"self-loops; pass num_nodes if N is not max id + 1). "
            f"Received: weights with shape {a.shape}"
        )

    num_heads = a.shape[1]
    if head is None:
        alpha = a.mean(axis=1)
    else:
        if isinstance(head, bool) or not isinstance(head, (int, np.integer)) or not 0 <= head < num_heads:
            raise ValueError(
                f"`head` must be None (mean over heads) or an int in "
                f"[0, {num_heads}). Received: head={head!r}"
            )
        alpha = a[:, int(head)]

    if isinstance(node, bool) or not isinstance(node, (int, np.integer)) or not 0 <= node < n:
        raise ValueError(
            f"`node` must be an int in [0, {n}) (the graph has {n} nodes). "
            f"Received: node={node!r}"
        )
    node = int(node)
    incoming = e[:, 1] == node
    if not incoming.any():
        raise ValueError(
            f"`node` has no incoming edges: no edge in `edges` has target {node}, "
            f"so there is no attention to show. Received: node={node}"
        )

    lab = None
    if labels is not None:
        lab = np.asarray(labels)
        if lab.ndim != 1 or len(lab) != n:
            raise ValueError(
                f"`labels` must be one class id per node: shape [{n}]. "
                f"Received: labels with shape {lab.shape}"
            )
    return e, alpha, num_heads, node, n, lab


def plot_graph_attention(
    edges, weights, node, num_nodes=None, labels=None, path=None, head=None, title=None
):
    """Plots the GAT attention a node puts on its in-neighbours.

    GAT computes, for target t and its neighbours i ∈ N(t),
    α_ti = softmax_i LeakyReLU(aᵀ[W h_i ‖ W h_t]) and h'_t = σ(Σ_i α_ti W h_i).
    The target `node` is drawn in the centre, each source i of an edge
    (i, node) on a circle around it with an arrow i → node whose width and
    colour grow with α_ti, and α_ti written on it. A self-loop (node, node)
    is drawn as a copy of the node at the top of the circle with a dashed
    edge. Repeated edges between the same pair are summed.
    With more than 24 neighbours only the 24 largest α values are written.

    Args:
        edges: `[E, 2]` int (source, target) pairs, as `GraphAttention` takes.
        weights: `[E]` or `[E, H]` attention weights. The `[E + N, H]` output
            of `GraphAttention(return_attention_scores=True)` is accepted as
            is: its last N rows are taken as the self-loops (i, i) in node
            order.
        node: id of the target node to show.
        num_nodes: N; default `len(labels)`, else the largest id in `edges` + 1.
        labels: optional `[N]` class ids (or names); nodes are coloured by class.
        path: where to write a PNG. None: no file.
        head: which head to show; None averages α over the H heads.
        title: optional title; default names the node and head.

    Returns:
        The `matplotlib.figure.Figure`.

    Raises:
        ValueError: bad shapes, `node` out of range or without incoming edges,
            `head` out of range.

    Example:

    >>> edges = np.array([[1, 0], [2, 0], [3, 0], [0, 1]])
    >>> alphas = np.array([0.5, 0.3, 0.2, 1.0])
    >>> fig = plot_graph_attention(edges, alphas, node=0, path="/tmp/gat.png")
    """
    e, alpha, num_heads, node, n, lab = _check_graph_args(
        edges, weights, node, num_nodes, labels, head
    )
    incoming = e[:, 1] == node
    sources = e[incoming, 0]
    # Sum repeated edges: the mass α a node receives from one neighbour.
    uniq, inverse = np.unique(sources, return_inverse=True)
    mass = np.zeros(len(uniq))
    np.add.at(mass, inverse, alpha[incoming])
    # The self-loop goes first, at the top of the circle, as neighbour `node`.
    order = np.argsort(uniq != node, kind="stable")
    neigh, neigh_alpha = uniq[order], mass[order]
    has_loop = bool(np.any(neigh == node))
    k = len(neigh)

    a_max = float(max(mass.max(), 1e-12))
    norm = mcolors.Normalize(vmin=0.0, vmax=a_max)
    fmt = "{:.2f}" if a_max >= 0.1 else "{:.3f}"

    fig = _new_figure((7.0, 6.0))
    ax = fig.add_subplot()
    ax.set_aspect("equal")
    ax.set_xlim(-1.3, 1.3)
    ax.set_ylim(-1.3, 1.3)
    ax.set_axis_off()

    angles = np.pi / 2 - 2 * np.pi * np.arange(k) / k  # clockwise from the top
    pos = np.stack([np.cos(angles), np.sin(angles)], axis=1)  # [K, 2]

    # Markers shrink with the neighbour count so they stay apart (1 data unit
    # is about 150 pt at this figure size).
    diam = float(np.clip(0.75 * 2 * np.pi * 150.0 / k, 7.0, 30.0))
    ids_inside = diam >= 22.0 and max(len(str(int(i))) for i in neigh) <= 4
    centre_diam = 34.0

    labelled = set(np.argsort(-neigh_alpha)[:_MAX_EDGE_LABELS].tolist())
    label_fs = 9 if k <= 12 else 8 if k <= 24 else 7
    for j in range(k):
        a = neigh_alpha[j]
        width = 0.8 + 6.0 * max(a, 0.0) / a_max
        ax.add_patch(mpatches.FancyArrowPatch(
            pos[j], (0.0, 0.0),
            # Arrow heads crowd the centre of large neighbourhoods.
            arrowstyle="-|>" if k <= _MAX_EDGE_LABELS else "-",
            mutation_scale=10 + 2 * width, color=_EDGE_CMAP(norm(a)),
            linewidth=width, shrinkA=diam / 2 + 1, shrinkB=centre_diam / 2 + 1,
            linestyle="--" if neigh[j] == node else "-", zorder=1,
        ))
        if j in labelled:
            # Stagger along the edge when crowded so neighbouring labels clear.
            r = 0.55 if (k <= 12 or j % 2 == 0) else 0.78
            ax.text(
                *(r * pos[j]), fmt.format(a), ha="center", va="center",
                fontsize=label_fs, zorder=4, gid="alpha",
                bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85),
            )

    # Node colours: by class when labels are given.
    if lab is not None:
        classes = np.unique(lab)
        palette = matplotlib.colormaps["tab10" if len(classes) <= 10 else "tab20"]
        class_index = {c: i for i, c in enumerate(classes.tolist())}

        def face(i):
            return palette(class_index[lab[i].item()] % palette.N)
    else:
        def face(i):
            return "#ffcc66" if i == node else "#c6dbef"

    ax.scatter(
        pos[:, 0], pos[:, 1], s=diam ** 2, c=[face(i) for i in neigh],
        edgecolors="#333333", linewidths=[2.0 if i == node else 0.8 for i in neigh],
        zorder=2,
    )
    ax.scatter([0.0], [0.0], s=centre_diam ** 2, c=[face(node)], edgecolors="black",
               linewidths=2.5, zorder=3)
    ax.text(0.0, 0.0, str(node), ha="center", va="center", fontsize=9,
            fontweight="bold", color=_ink(face(node)), zorder=5, gid="node")
    for j, i in enumerate(neigh):
        name = str(int(i))
        if ids_inside:
            ax.text(*pos[j], name, ha="center", va="center", fontsize=8,
                    color=_ink(face(i)), zorder=5, gid="node")
            if i == node:
                ax.text(*(pos[j] + [0.0, 0.13]), "self-loop", ha="center",
                        va="bottom", fontsize=8, zorder=5)
        else:
            if i == node:
                name += " (self)"
            ax.text(*(1.13 * pos[j]), name, ha="center", va="center",
                    fontsize=8 if k <= 24 else 6, zorder=5, gid="node")

    if lab is not None:
        shown = np.unique(lab[np.concatenate([[node], neigh]).astype(np.int64)])
        handles = [
            mpatches.Patch(facecolor=palette(class_index[c] % palette.N),
                           edgecolor="#333333", label=f"class {c}")
            for c in shown.tolist()
        ]
        ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=False,
                  ncols=1 if len(handles) <= 5 else 2, bbox_to_anchor=(-0.02, -0.02))

    cbar = fig.colorbar(cm.ScalarMappable(norm=norm, cmap=_EDGE_CMAP), ax=ax,
                        fraction=0.04, pad=0.02, shrink=0.8)
    cbar.set_label("attention α")

    if title is None:
        which = f"head {int(head)}" if head is not None else (
            f"mean over {num_heads} heads" if num_heads > 1 else "single head")
        n_other = k - int(has_loop)
        title = (f"attention into node {node}: {n_other} neighbours"
                 f"{' + self-loop' if has_loop else ''} ({which})")
        if k > _MAX_EDGE_LABELS:
            title += f"\nα written on the {_MAX_EDGE_LABELS} largest edges"
    ax.set_title(title, fontsize=11, parse_math=False)
    _save(fig, path)
    return fig
