import pytest

from tests.weights_isolation import use_only_weights_dir


@pytest.fixture
def offline_env(tmp_path, monkeypatch):
    """Never the shared data, the user's cache or the repository's savedmodels/:
    weights go to tmp_path/weights."""
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    use_only_weights_dir(monkeypatch, tmp_path / "weights")
