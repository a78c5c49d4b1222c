"""TF-IDF feature extraction for posts."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from postkind.text import normalise, tokenize

__all__ = ["build_features"]


def build_features(
    *,
    word_ngrams: tuple[int, int] = (1, 2),
    char_ngrams: tuple[int, int] | None = None,
    min_df: int = 1,
) -> TfidfVectorizer | FeatureUnion:
    """Build the (unfitted) TF-IDF vectorizer that turns posts into features.

    Parameters
    ----------
    word_ngrams : tuple of int
        Smallest and largest word n-gram, over :func:`postkind.text.tokenize` tokens.
    char_ngrams : tuple of int or None
        Character n-gram range inside word boundaries on the normalised text, or ``None`` for
        word n-grams only.
    min_df : int
        Ignore n-grams seen in fewer training posts.

    Returns
    -------
    TfidfVectorizer or FeatureUnion
        Sublinear-tf TF-IDF vectorizer(s), L2-normalised.

    Examples
    --------
    >>> vec = build_features()
    >>> X = vec.fit_transform(["@ana thanks!", "New post: http://x.co"])
    >>> X.shape[0]
    2
    """
    words = TfidfVectorizer(
        preprocessor=normalise,
        tokenizer=tokenize,
        token_pattern=None,
        lowercase=False,
        ngram_range=word_ngrams,
        sublinear_tf=True,
        min_df=min_df,
        dtype=np.float64,
    )
    if char_ngrams is None:
        return words
    chars = TfidfVectorizer(
        preprocessor=normalise,
        analyzer="char_wb",
        lowercase=False,
        ngram_range=char_ngrams,
        sublinear_tf=True,
        min_df=max(min_df, 2),
        dtype=np.float64,
    )
    return FeatureUnion([("words", words), ("chars", chars)])
