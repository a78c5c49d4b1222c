"""postkind: tag social-media posts as broadcast (one-way) or conversational (two-way).

Examples
--------
>>> from postkind import predict
>>> predict(["@ana yes, that's the one", "Breaking: storm closes schools https://t.co/a1"],
...         model=MODEL)
['conversational', 'broadcast']
"""

from postkind.errors import DataError, ModelError, ModelVersionWarning, PostkindError
from postkind.evaluation import evaluate
from postkind.explanation import explain
from postkind.labels import BROADCAST, CONVERSATIONAL, LABELS
from postkind.model import Model, load_model, save_model
from postkind.prediction import predict, predict_proba, tag, tag_file
from postkind.training import train

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
