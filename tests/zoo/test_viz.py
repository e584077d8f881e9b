"""Tests for zoo.viz: files written, panels and labels, bad inputs."""

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib.figure import Figure

from zoo import viz

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

QUERY = ["the", "black", "cat", "<end>"]
KEY = ["el", "gato", "negro", "."]


def _weights(tq=4, tv=4, seed=0):
    w = np.random.default_rng(seed).random((tq, tv))
    return w / w.sum(axis=1, keepdims=True)


def _assert_png(path):
    assert path.is_file()
    assert path.read_bytes()[:8] == PNG_MAGIC
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[-1] in (3, 4)
    return img


def _texts(ax, gid):
    return [t.get_text() for t in ax.texts if t.get_gid() == gid]


# --------------------------------------------------------------------------
# plot_attention_heatmap / attention_heatmap_image
# --------------------------------------------------------------------------
def test_heatmap_writes_png_with_token_labels(tmp_path):
    path = tmp_path / "sub" / "dir" / "heatmap.png"  # parents are created
    fig = viz.plot_attention_heatmap(_weights(), QUERY, KEY, path=path, title="t")
    assert isinstance(fig, Figure)
    _assert_png(path)
    ax = fig.axes[0]
    assert len(fig.axes) == 2  # heatmap + colorbar
    assert [t.get_text() for t in ax.get_xticklabels()] == KEY
    assert [t.get_text() for t in ax.get_yticklabels()] == QUERY
    assert ax.images[0].get_clim() == (0.0, 1.0)
    assert ax.get_title() == "t"


def test_heatmap_accepts_arraylikes_bytes_and_existing_axes(tmp_path):
    class Tensorish:  # stands in for an eager framework tensor
        def __array__(self, dtype=None, copy=None):
            return _weights(2, 3)

    fig = Figure()
    axes = fig.subplots(1, 2)
    out = viz.plot_attention_heatmap(
        Tensorish(), [b"hola", b"mundo"], np.array(["a", "b", "c"]), ax=axes[1],
        path=tmp_path / "ax.png",
    )
    assert out is fig
    assert [t.get_text() for t in axes[1].get_yticklabels()] == ["hola", "mundo"]
    _assert_png(tmp_path / "ax.png")
    viz.plot_attention_heatmap([[1.0, 0.0], [0.5, 0.5]])  # plain lists, no labels


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(weights=np.zeros((1, 4, 4))), "weights"),
        (dict(weights=np.zeros(4)), "weights"),
        (dict(weights=np.zeros((4, 4)), query_tokens=["a", "b"]), "query_tokens"),
        (dict(weights=np.zeros((4, 4)), key_tokens=["a"] * 5), "key_tokens"),
        (dict(weights=np.zeros((4, 4)), key_tokens="a b c d"), "key_tokens"),
    ],
)
def test_heatmap_bad_inputs_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        viz.plot_attention_heatmap(**kwargs)
    with pytest.raises(ValueError, match=name):
        viz.attention_heatmap_image(**kwargs)


def test_heatmap_image_is_rgba_uint8_and_not_blank():
    img = viz.attention_heatmap_image(_weights(), QUERY, KEY, title="step 10")
    assert img.ndim == 3 and img.shape[-1] == 4 and img.dtype == np.uint8
    assert img.shape[0] > 100 and img.shape[1] > 100
    assert (img[..., 3] == 255).all()  # opaque
    rgb = img[..., :3].astype(int)
    assert rgb.std() > 10 and (rgb.sum(-1) < 3 * 200).mean() > 0.05
    # Same drawing code as the saved figure: same pixel size.
    fig = viz.plot_attention_heatmap(_weights(), QUERY, KEY, title="step 10")
    w, h = fig.get_size_inches() * fig.dpi
    assert img.shape[:2] == (round(h), round(w))


# --------------------------------------------------------------------------
# plot_image_attention
# --------------------------------------------------------------------------
WORDS = ["a", "dog", "runs", "on", "the", "grass", "<end>"]


def _image_and_maps(t=len(WORDS)):
    rng = np.random.default_rng(0)
    image = (rng.random((48, 64, 3)) * 255).astype(np.uint8)
    maps = rng.dirichlet(np.ones(16), size=t).reshape(t, 4, 4)
    return image, maps


def test_image_attention_one_visible_panel_per_word(tmp_path):
    image, maps = _image_and_maps()
    path = tmp_path / "overlay.png"
    fig = viz.plot_image_attention(image, maps, WORDS, path=path, ncols=3, title="cap")
    _assert_png(path)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == len(WORDS)
    assert [ax.get_title() for ax in visible] == WORDS
    assert all(len(ax.images) == 2 for ax in visible)  # image + overlay
    assert visible[0].images[1].get_array().shape[:2] == image.shape[:2]  # upsampled


def test_image_attention_accepts_float_grey_and_large_images_and_flat_maps():
    image, maps = _image_and_maps(3)
    fig = viz.plot_image_attention(image / 255.0, maps.reshape(3, 16), WORDS[:3])
    assert len(fig.axes) == 3
    fig = viz.plot_image_attention(image[..., 0], maps[:1], ["grey"])
    assert len(fig.axes) == 1
    # A photo-sized image: the overlay is upsampled to display size only.
    big = np.zeros((1024, 768, 3), dtype=np.uint8)
    fig = viz.plot_image_attention(big, maps[:1], ["big"])
    assert fig.axes[0].images[1].get_array().shape[:2] == (512, 384)


@pytest.mark.parametrize(
    "change, name",
    [
        (dict(words=WORDS[:-1]), "words"),
        (dict(image=np.zeros((48, 64))[None]), "image"),
        (dict(image=np.full((48, 64, 3), 2.0)), "image"),
        (dict(attention=np.zeros((7, 15))), "attention"),
        (dict(ncols=0), "ncols"),
    ],
)
def test_image_attention_bad_inputs_name_the_argument(change, name):
    image, maps = _image_and_maps()
    kwargs = dict(image=image, attention=maps, words=WORDS)
    kwargs.update(change)
    with pytest.raises(ValueError, match=name):
        viz.plot_image_attention(**kwargs)


# --------------------------------------------------------------------------
# plot_graph_attention
# --------------------------------------------------------------------------
# Node 0 receives from 1, 2, 3 and itself; node 4 has no incoming edge.
EDGES = np.array([[1, 0], [2, 0], [3, 0], [0, 0], [0, 1], [4, 2]])


def _gat_weights(heads=2):
    rng = np.random.default_rng(0)
    w = rng.random((len(EDGES), heads))
    w[:4] /= w[:4].sum(axis=0)
    return w


def test_graph_attention_draws_neighbourhood(tmp_path):
    path = tmp_path / "gat.png"
    w = _gat_weights()
    fig = viz.plot_graph_attention(
        EDGES, w, node=0, labels=[0, 1, 1, 2, 0], path=path, head=1
    )
    _assert_png(path)
    ax = fig.axes[0]
    alphas = _texts(ax, "alpha")
    assert sorted(alphas) == sorted(f"{a:.2f}" for a in w[:4, 1])  # self-loop included
    assert sorted(_texts(ax, "node")) == ["0", "0", "1", "2", "3"]  # centre + circle
    assert "head 1" in ax.get_title()
    assert ax.get_legend() is not None


def test_graph_attention_takes_gat_layer_output_with_self_loops():
    # GraphAttention returns [E + N, H]: the edges, then one self-loop per node.
    edges = EDGES[:3]
    w = np.random.default_rng(1).random((3 + 5, 4))
    fig = viz.plot_graph_attention(edges, w, node=0, num_nodes=5)  # mean of 4 heads
    alphas = _texts(fig.axes[0], "alpha")
    expected = w[[0, 1, 2, 3 + 0]].mean(axis=1)
    assert sorted(alphas) == sorted(f"{a:.2f}" for a in expected)
    assert "mean over 4 heads" in fig.axes[0].get_title()


@pytest.mark.parametrize(
    "change, name",
    [
        (dict(node=5), "node"),
        (dict(node=-1), "node"),
        (dict(node=4), "node"),  # no incoming edges
        (dict(head=2), "head"),
        (dict(edges=EDGES.T), "edges"),
        (dict(weights=np.ones(3)), "weights"),
        (dict(labels=[0, 1]), "labels"),
    ],
)
def test_graph_attention_bad_inputs_name_the_argument(change, name):
    kwargs = dict(edges=EDGES, weights=_gat_weights(), node=0)
    kwargs.update(change)
    with pytest.raises(ValueError, match=name):
        viz.plot_graph_attention(**kwargs)


def test_viz_imports_neither_pyplot_nor_a_framework():
    src = Path(viz.__file__).read_text(encoding="utf-8")
    for banned in ("import matplotlib.pyplot", "from matplotlib import pyplot",
                   "import keras", "import tensorflow"):
        assert banned not in src
