import io
import os
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import FAST, LABELS, TEXTS
from postkind.cli import main
from postkind.labelling import label_file
from postkind.sampling import sample

from .conftest import write

pexpect = pytest.importorskip("pexpect", reason="pexpect (dev extra) drives the terminal labeller")


@pytest.fixture
def to_label(tiny_model, tmp_path) -> Path:
    """Five sampled posts, as `postkind sample` writes them."""
    path = tmp_path / "to_label.csv"
    sample(pd.DataFrame({"text": TEXTS}), 5, model=tiny_model).to_csv(path, index=False)
    return path


def labels(path: Path) -> list[str]:
    return pd.read_csv(path, keep_default_na=False)["label"].tolist()


def spawn(path: Path) -> "pexpect.spawn":
    env = {**os.environ, "COLUMNS": "100", "LINES": "30", "PYTHONIOENCODING": "utf-8"}
    return pexpect.spawn(
        sys.executable,
        ["-m", "postkind", "label", str(path)],
        cwd=path.parent,
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(30, 100),
    )


def test_a_person_labels_undoes_quits_and_resumes_in_a_terminal(to_label):
    texts = pd.read_csv(to_label, keep_default_na=False)["text"].tolist()
    term = spawn(to_label)
    term.expect_exact("1/5")
    term.expect_exact("model's guess:")
    term.expect_exact("[?]help > ")
    term.send("c")  # one key, no Enter: the terminal is in cbreak mode
    term.expect_exact("c -> conversational")
    term.expect_exact("2/5")
    term.expect_exact(texts[1][:20])
    term.send("b")
    term.expect_exact("3/5")
    assert labels(to_label) == ["conversational", "broadcast", "", "", ""]  # saved at once
    term.send("u")  # undo the last answer: back to post 2, its label cleared
    term.expect_exact("undo 2/5 (was broadcast)")
    term.expect_exact("2/5")
    assert labels(to_label)[1] == ""
    term.send("s")
    term.expect_exact("s -> skip")
    term.expect_exact("3/5")
    term.send("x")
    term.expect_exact("not a key here")
    term.send("?")
    term.expect_exact("clear the last answer")
    term.send("q")
    term.expect_exact("3 to go: run `postkind label")
    term.expect(pexpect.EOF)
    term.close()
    assert term.exitstatus == 0
    assert labels(to_label) == ["conversational", "skip", "", "", ""]

    term = spawn(to_label)  # a new session resumes at the first unlabelled post
    term.expect_exact("3/5  (2 labelled)")
    term.send("u")  # nothing answered yet this session: undo clears the post before
    term.expect_exact("undo 2/5 (was skip)")
    term.send("b")
    term.expect_exact("3/5")
    for key in "bcb":
        term.send(key)
    term.expect_exact("5 of 5 rows labelled (3 broadcast, 2 conversational, 0 skipped)")
    term.expect_exact("retrain with: postkind train --data data/posts.csv --data")
    term.expect(pexpect.EOF)
    term.close()
    assert term.exitstatus == 0
    assert labels(to_label) == [
        "conversational",
        "broadcast",
        "broadcast",
        "conversational",
        "broadcast",
    ]


def test_ctrl_c_keeps_the_answers_and_restores_the_terminal(to_label):
    term = spawn(to_label)
    term.expect_exact("1/5")
    term.send("b")
    term.expect_exact("2/5")
    term.sendintr()
    term.expect_exact("interrupted")
    term.expect(pexpect.EOF)
    term.close()
    assert term.exitstatus == 130
    assert labels(to_label) == ["broadcast", "", "", "", ""]


def test_line_input_when_stdin_is_not_a_terminal(to_label, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("b\n\nconversational\ns\n"))
    assert main(["label", str(to_label)]) == 0  # end of input quits
    assert labels(to_label) == ["broadcast", "conversational", "skip", "", ""]
    assert "2 to go" in capsys.readouterr().out


def test_keys_from_a_script_and_edge_cases(tmp_path):
    path = write(tmp_path / "l.csv", 'id,text\n1,lol same\n2,"two\nlines"\n')  # no label column
    out = io.StringIO()
    result = label_file(path, keys="uc", out=out)
    assert "nothing to undo" in out.getvalue()
    assert result["quit"] is True and result["remaining"] == 1
    result = label_file(path, keys="b", out=io.StringIO())
    assert result == {
        "path": str(path),
        "total": 2,
        "remaining": 0,
        "broadcast": 1,
        "conversational": 1,
        "skip": 0,
        "quit": False,
    }
    assert pd.read_csv(path)["text"].tolist() == ["lol same", "two\nlines"]
    assert label_file(path, keys="", out=io.StringIO())["remaining"] == 0  # nothing left
    assert not list(tmp_path.glob(".*.part"))  # no temporary file left behind
    assert main(["label", str(write(tmp_path / "x.jsonl", '{"text": "hi"}\n'))]) == 2


def test_train_weighs_user_labels_and_ignores_skipped_rows(to_label, tmp_path, monkeypatch, capsys):
    import postkind.training

    base = tmp_path / "posts.csv"
    pd.DataFrame({"text": TEXTS, "label": LABELS}).to_csv(base, index=False)
    label_file(to_label, keys="bcs", out=io.StringIO())  # 2 labelled, 1 skipped, 2 empty
    seen = {}
    real_train = postkind.training.train

    def spy(texts, labels, *, weights=None, **kwargs):
        seen["weights"] = list(weights)
        return real_train(texts, labels, weights=weights, **kwargs)

    monkeypatch.setattr(postkind.training, "TrainConfig", lambda seed=0: FAST)
    monkeypatch.setattr(postkind.training, "train", spy)
    model = tmp_path / "m.joblib"
    args = ["--data", str(base), "--data", str(to_label), "--model", str(model)]
    assert main(["train", *args, "--extra-weight", "4"]) == 0
    out = capsys.readouterr().out
    assert "2 user-labelled posts from" in out and "get weight 4;" in out
    assert "ignored 3 rows with an empty or 'skip' label" in out
    assert seen["weights"] == [1.0] * len(TEXTS) + [4.0, 4.0]
    assert model.exists()
