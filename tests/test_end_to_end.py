"""Train on a small corpus and tag a CSV, as a user would from the command line."""

import pandas as pd

from conftest import LABELS, TEXTS
from postkind.cli import main


def test_train_then_tag_a_csv(tmp_path):
    pd.DataFrame({"id": range(len(TEXTS)), "post": TEXTS, "kind": LABELS}).to_csv(
        tmp_path / "labelled.csv", index=False
    )
    model = tmp_path / "models" / "m.joblib"
    assert (
        main(
            [
                "train",
                "--data",
                str(tmp_path / "labelled.csv"),
                "--model",
                str(model),
                "--text-column",
                "post",
                "--label-column",
                "kind",
            ]
        )
        == 0
    )

    posts = pd.DataFrame(
        {
            "user": ["a", "b", "c", "d"],
            "content": [
                "@lee thanks so much, see you there!",
                "New post: 10 ways to save energy https://t.co/q",
                "",
                "who's around tonight?",
            ],
        }
    )
    posts.to_csv(tmp_path / "posts.csv", index=False)
    assert (
        main(
            [
                "tag",
                str(tmp_path / "posts.csv"),
                "-o",
                str(tmp_path / "tagged.csv"),
                "--model",
                str(model),
            ]
        )
        == 0
    )
    tagged = pd.read_csv(tmp_path / "tagged.csv", keep_default_na=False)
    assert tagged["user"].tolist() == ["a", "b", "c", "d"]
    assert tagged["postkind_label"].tolist() == [
        "conversational",
        "broadcast",
        "",
        "conversational",
    ]
