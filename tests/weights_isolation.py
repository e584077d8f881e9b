"""Tests that ship toy weights must not see the real ones: `zoo.load` would
otherwise fall back to the checkout's savedmodels/ (and the user cache) for
an entry the toy folder lacks."""

from pathlib import Path

import zoo


def use_only_weights_dir(monkeypatch, folder):
    """Makes `folder` ($ZOO_WEIGHTS_DIR) the only place weights are looked for."""
    folder = Path(folder)
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(folder))
    monkeypatch.setattr(zoo.registry, "SHIPPED_ROOTS", ())
    monkeypatch.setattr(zoo.registry, "cache_root", lambda: folder / ".no-cache")
