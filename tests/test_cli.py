import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import LABELS, TEXTS
from postkind.cli import build_parser, main

from .conftest import write

ROOT = Path(__file__).resolve().parents[1]


def labelled_csv(path: Path) -> Path:
    pd.DataFrame({"text": TEXTS, "label": LABELS}).to_csv(path, index=False)
    return path


def test_help_for_every_subcommand(capsys):
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"train", "evaluate", "predict", "tag", "explain", "sample", "label"} <= set(commands)
    for command in commands:
        assert main([command, "--help"]) == 0
        assert f"usage: postkind {command}" in capsys.readouterr().out


def test_usage_errors_exit_2(capsys):
    assert main([]) == 2
    assert main(["tag", "in.csv"]) == 2  # -o missing
    assert "required" in capsys.readouterr().err


def test_predict_arguments_and_stdin(model_path, capsys, monkeypatch):
    assert main(["predict", "lol same", "--model", str(model_path)]) == 0
    label, conf, text = capsys.readouterr().out.strip().split("\t")
    assert (label, text) == ("conversational", "lol same") and 0.5 <= float(conf) <= 1
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("lol same\nShop now: 20% off\n"))
    assert main(["predict", "--model", str(model_path)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_missing_model_exits_1_and_says_make_train(tmp_path, capsys):
    assert main(["predict", "hi", "--model", str(tmp_path / "none.joblib")]) == 1
    assert "make train" in capsys.readouterr().err


def test_tag_errors_exit_2_naming_the_file(model_path, tmp_path, capsys):
    assert (
        main(
            [
                "tag",
                str(tmp_path / "none.csv"),
                "-o",
                str(tmp_path / "o.csv"),
                "--model",
                str(model_path),
            ]
        )
        == 2
    )
    assert "none.csv: file not found" in capsys.readouterr().err
    src = write(tmp_path / "in.csv", "id,user\n1,a\n")
    assert main(["tag", str(src), "-o", str(tmp_path / "o.csv"), "--model", str(model_path)]) == 2
    assert "--text-column" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_tag_stdin_to_stdout(model_path, monkeypatch, capfdbinary):
    import io

    data = b"id,text\n1,lol same\n2,Shop now: 20% off\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["tag", "-", "-o", "-", "--model", str(model_path), "--jobs", "1"]) == 0
    out = capfdbinary.readouterr().out.decode()
    assert out.splitlines()[0] == "id,text,postkind_label,postkind_confidence"
    assert out.splitlines()[1].startswith("1,lol same,conversational,")


def test_train_evaluate_and_explain_through_the_cli(tmp_path, capsys):
    data = labelled_csv(tmp_path / "posts.csv")
    model = tmp_path / "m.joblib"
    assert (
        main(["train", "--data", str(data), "--model", str(model), "--seed", "3", "--quick"]) == 0
    )
    out = capsys.readouterr().out
    assert "held out" in out and "URL -> broadcast" in out and model.exists()

    reports = tmp_path / "reports"
    assert main(["evaluate", "--model", str(model), "--report-dir", str(reports)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"held-out rows of {data}")
    metrics = json.loads((reports / "metrics.json").read_text())
    assert metrics["data"]["heldout_only"] is True
    assert metrics["model"]["n"] == len(TEXTS) - int(len(TEXTS) * 0.8)

    assert main(["explain", "@sam thanks!", "--model", str(model), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["label"] in ("broadcast", "conversational")


def test_train_refuses_a_single_label(tmp_path, capsys):
    data = write(
        tmp_path / "p.csv", "text,label\n" + "".join(f"p{i},broadcast\n" for i in range(30))
    )
    assert main(["train", "--data", str(data), "--model", str(tmp_path / "m.joblib")]) == 2
    assert "0 posts labelled 'conversational'" in capsys.readouterr().err
    assert not (tmp_path / "m.joblib").exists()


def test_every_subcommand_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for command in commands:
        assert f"postkind {command}" in readme, f"README does not show `postkind {command}`"


def test_installed_entry_point_runs():
    exe = Path(sys.executable).with_name("postkind")
    if not exe.exists():
        pytest.skip("postkind entry point not installed in this environment")
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "tag" in result.stdout


def test_train_on_weak_structural_labels(tmp_path, capsys):
    rows = pd.DataFrame({"text": TEXTS, "is_reply": [lab == "conversational" for lab in LABELS]})
    rows.to_json(tmp_path / "export.jsonl", orient="records", lines=True)
    model = tmp_path / "weak.joblib"
    assert (
        main(
            [
                "train",
                "--weak-labels",
                "--quick",
                "--data",
                str(tmp_path / "export.jsonl"),
                "--model",
                str(model),
            ]
        )
        == 0
    )
    assert "labelled by reply structure" in capsys.readouterr().out
    assert model.exists()
