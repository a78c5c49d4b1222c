"""Check that no post in data/ copies or closely paraphrases a post in ../shared.

Lists every post of ``data/posts.csv`` whose text, normalised, equals a post of three or
more words in the evaluation set or the corpora, or whose character 3-5-gram TF-IDF cosine
similarity with one is at least ``--threshold``. Exits 1 when any is found.

    python scripts/check_overlap.py [--data data/posts.csv] [--shared ../shared]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer


def _key(text: str) -> str:
    return re.sub(r"\W+", " ", str(text).lower()).strip()


def shared_texts(shared: Path) -> list[str]:
    """Every post text in the shared evaluation set and corpora."""
    texts: list[str] = pd.read_csv(shared / "eval" / "dev_labelled.csv")["text"].tolist()
    for name in ("nps_chat.csv", "tweet_act_half_a.csv", "health_news_tweets.csv"):
        texts += pd.read_csv(shared / "corpora" / name, dtype=str)["text"].dropna().tolist()
    rumour = pd.read_json(shared / "corpora" / "rumoureval2019_train.jsonl", lines=True)
    texts += rumour["text"].dropna().tolist()
    return [str(t) for t in texts]


def overlaps(data: list[str], shared: list[str], threshold: float) -> list[tuple[int, float, str]]:
    """Return ``(index in data, similarity, shared text)`` for each overlapping post."""
    exact = {_key(t) for t in shared if len(_key(t).split()) > 2}
    vec = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), preprocessor=_key, sublinear_tf=True
    )
    mat_shared = vec.fit_transform(shared)
    mat_data = vec.transform(data)
    found = []
    for start in range(0, len(data), 500):
        sims = (mat_data[start : start + 500] @ mat_shared.T).tocsr()
        for row in range(sims.shape[0]):
            i = start + row
            if _key(data[i]) in exact:
                found.append((i, 1.0, data[i]))
                continue
            if len(_key(data[i]).split()) < 4:
                continue  # "lol", "ok thanks" are everyone's words
            cells = sims.getrow(row)
            if cells.nnz and cells.data.max() >= threshold:
                j = cells.indices[int(np.argmax(cells.data))]
                found.append((i, float(cells.data.max()), shared[j]))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default="data/posts.csv")
    parser.add_argument("--shared", default="../shared", type=Path)
    parser.add_argument("--threshold", type=float, default=0.8)
    args = parser.parse_args()
    posts = pd.read_csv(args.data, keep_default_na=False)
    found = overlaps(posts["text"].tolist(), shared_texts(args.shared), args.threshold)
    for i, sim, other in found:
        print(f"{posts['id'][i]}\t{sim:.2f}\t{posts['text'][i][:70]!r}\t~ {other[:70]!r}")
    print(f"{len(found)} of {len(posts)} posts overlap a shared post", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
