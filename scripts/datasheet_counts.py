"""Print the count tables of the datasheet (data/README.md) for data/posts.csv.

python scripts/datasheet_counts.py [data/posts.csv]
"""

from __future__ import annotations

import re
import sys

import pandas as pd

MARKERS = {
    "starts with @": lambda t: t.lstrip().startswith("@"),
    "URL (with or without scheme)": lambda t: bool(
        re.search(r"https?://|www\.|\b\w+\.(com|ly|co|org|net|me|it)/", t)
    ),
    "#hashtag": lambda t: "#" in t,
    "question mark": lambda t: "?" in t,
    "`RT @`": lambda t: bool(re.search(r"\bRT @", t)),
    "line break": lambda t: "\n" in t,
    "emoji": lambda t: bool(re.search("[\U0001f300-\U0001faff\u2600-\u27bf]", t)),
}


def table(frame: pd.DataFrame, column: str) -> str:
    counts = pd.crosstab(frame[column], frame["label"])
    counts["total"] = counts.sum(axis=1)
    counts = counts.sort_values("total", ascending=False)
    rows = [f"| {column} | broadcast | conversational | total |", "|---|---:|---:|---:|"]
    rows += [
        f"| {k} | {r.get('broadcast', 0)} | {r.get('conversational', 0)} | {r['total']} |"
        for k, r in counts.iterrows()
    ]
    return "\n".join(rows)


def main() -> None:
    posts = pd.read_csv(
        sys.argv[1] if len(sys.argv) > 1 else "data/posts.csv", keep_default_na=False
    )
    n = len(posts)
    by = posts["label"].value_counts()
    print(
        f"{n:,} posts: {by['broadcast']:,} broadcast ({by['broadcast'] / n:.1%}), "
        f"{by['conversational']:,} conversational ({by['conversational'] / n:.1%}).\n"
    )
    print(table(posts, "platform") + "\n")
    print(table(posts, "lang") + "\n")
    other = (posts["lang"] != "en").sum()
    lengths = posts["text"].str.len()
    print(
        f"{other} posts ({other / n:.1%}) are not in English. Lengths: median "
        f"{lengths.median():.0f} characters, {(lengths <= 20).sum()} posts of 20 characters or "
        f"fewer, {(lengths > 280).sum()} over 280, {(lengths > 500).sum()} over 500, longest "
        f"{lengths.max()}.\n"
    )
    print("| marker | broadcast | conversational |\n|---|---:|---:|")
    for name, test in MARKERS.items():
        hit = posts[posts["text"].map(test)]["label"].value_counts()
        print(f"| {name} | {hit.get('broadcast', 0)} | {hit.get('conversational', 0)} |")


if __name__ == "__main__":
    main()
