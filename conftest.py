"""Shared pytest fixtures: a tiny literal corpus and one model trained on it for the run.

Doctests in ``src/`` and ``README.md`` see ``TEXTS``, ``LABELS`` and ``MODEL``.
"""

from __future__ import annotations

import pytest

from postkind.model import Model
from postkind.training import TrainConfig, train

CONVERSATIONAL_POSTS = [
    "@sam thanks, see you tomorrow!",
    "@ana yes, that's the one",
    "lol same",
    "haha yes",
    "anyone know a good dentist in Leeds?",
    "where is everyone?",
    "@jo happy birthday!! hope it's a good one",
    "Great meeting you yesterday, Lee",
    "can you send me the file?",
    "who's coming tonight?",
    "@markets_desk thanks, fixed now",
    "Agreed, but the second point is off.",
    "no way! when did that happen?",
    "DM me and I'll sort it",
    "@priya congrats on the new job 🎉",
    "so sorry for your loss, thinking of you all",
    "@leo you're wrong, read this: https://example.org/facts",
    "hey guys what's up",
    "thanks so much for the recommendation, Maria!",
    "@coffeeco my order never arrived, can you check?",
    "ok see u there",
    "what time does it start?",
]
BROADCAST_POSTS = [
    "Breaking: storm closes schools across the county https://t.co/a1",
    "New blog post: 10 tips for spring gardening https://t.co/xyz",
    "Shop now: 20% off all shoes this weekend only! Link in bio",
    "So tired today.",
    "Best pizza in town.",
    "RT @citynews: Bridge closed for repairs until Friday",
    "I posted a new photo to Facebook",
    "Is coffee good for you? https://health.example.com/coffee",
    "Ready for summer? Our sale starts today!",
    "Thanks to all our customers, 20% off this week!",
    "@researchlab's study finds sleep loss raises stress http://ex.co/s1",
    "Can't sleep.",
    "Register today for our free webinar on data privacy",
    "Just checked in at Central Station",
    "Job opening: senior nurse, apply by 30 June https://jobs.example.org/44",
    "Subscribe to our channel for weekly recipes",
    "Train services are suspended between A and B due to a signal fault",
    "Quote of the day: the best way out is always through.",
    "New video is up! https://youtu.be/abc",
    "Our office is closed on Monday for the public holiday.",
    "5 ways to cut calories without dieting http://ow.ly/x1",
    "Monday again...",
]
TEXTS = CONVERSATIONAL_POSTS + BROADCAST_POSTS
LABELS = ["conversational"] * len(CONVERSATIONAL_POSTS) + ["broadcast"] * len(BROADCAST_POSTS)
#: A fast training configuration for tests: one classifier, word n-grams, three folds.
FAST = TrainConfig(grid=(("logreg", (10.0,)),), char_ngrams=(None,), folds=3, jobs=1)


@pytest.fixture(scope="session")
def tiny_model() -> Model:
    """One model trained on the tiny corpus, shared by the whole run."""
    return train(TEXTS, LABELS, config=FAST)


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace: dict, tiny_model: Model) -> None:
    doctest_namespace.update(TEXTS=TEXTS, LABELS=LABELS, MODEL=tiny_model)
