"""Fixtures for the tests: files written in ``tmp_path`` and a saved tiny model.

The tiny literal corpus and the session model live in the root ``conftest.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from postkind.model import Model, save_model

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SHIPPED_MODEL = Path(__file__).resolve().parents[1] / "models" / "postkind.joblib"


@pytest.fixture(scope="session")
def model_path(tiny_model: Model, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model saved to a file, for CLI tests."""
    return save_model(tiny_model, tmp_path_factory.mktemp("model") / "tiny.joblib")


def write(path: Path, text: str | bytes) -> Path:
    """Write ``text`` (UTF-8) or raw bytes to ``path`` and return it."""
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path
