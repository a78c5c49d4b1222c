"""postkind: tag social-media posts as broadcast (one-way) or conversational (two-way).

Examples
--------
>>> from postkind import predict
>>> predict(["@ana yes, that's the one", "Breaking: storm closes schools https://t.co/a1"],
...         model=MODEL)
['conversational', 'broadcast']
"""

import importlib
from typing import TYPE_CHECKING, Any

from postkind.errors import DataError, ModelError, ModelVersionWarning, PostkindError
from postkind.labels import BROADCAST, CONVERSATIONAL, LABELS

if TYPE_CHECKING:
    from postkind.evaluation import evaluate
    from postkind.explanation import explain
    from postkind.model import Model, load_model, save_model
    from postkind.prediction import predict, predict_proba, tag, tag_file
    from postkind.training import train

#: Where each public function lives. They are imported on first use, so that tagging does not
#: pay for importing scikit-learn (1.5 s), which only training and evaluation need.
_LAZY = {
    "evaluate": "postkind.evaluation",
    "explain": "postkind.explanation",
    "Model": "postkind.model",
    "load_model": "postkind.model",
    "save_model": "postkind.model",
    "predict": "postkind.prediction",
    "predict_proba": "postkind.prediction",
    "tag": "postkind.prediction",
    "tag_file": "postkind.prediction",
    "train": "postkind.training",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'postkind' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.1.0"

__all__ = [
    "BROADCAST",
    "CONVERSATIONAL",
    "LABELS",
    "DataError",
    "Model",
    "ModelError",
    "ModelVersionWarning",
    "PostkindError",
    "__version__",
    "evaluate",
    "explain",
    "load_model",
    "predict",
    "predict_proba",
    "save_model",
    "tag",
    "tag_file",
    "train",
]
