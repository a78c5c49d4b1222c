import json

import pytest

from conftest import LABELS, TEXTS
from postkind.evaluation import baselines, calibration, evaluate, format_report, score


def test_baselines_follow_their_rules():
    rules = baselines(["@a hi", "news http://x.co", "@b see https://y.co", "hello"])
    assert rules["leading @ -> conversational"] == [
        "conversational",
        "broadcast",
        "conversational",
        "broadcast",
    ]
    assert rules["URL -> broadcast"] == [
        "conversational",
        "broadcast",
        "broadcast",
        "conversational",
    ]
    assert rules["majority"] == ["broadcast"] * 4


def test_score_reports_every_metric():
    m = score(
        ["broadcast", "conversational", "conversational"],
        ["broadcast", "broadcast", "conversational"],
        [0.1, 0.4, 0.9],
    )
    assert m["accuracy"] == pytest.approx(2 / 3)
    assert m["per_label"]["conversational"]["recall"] == 0.5
    assert m["confusion_matrix"]["matrix"] == [[1, 0], [1, 1]]
    assert m["roc_auc"] == 1.0


def test_calibration_of_a_perfectly_calibrated_bin_is_zero():
    truth = ["conversational"] * 8 + ["broadcast"] * 2
    assert calibration(truth, [0.8] * 10)["ece"] == pytest.approx(0.0)


def test_calibration_reads_a_small_sample_against_its_noise_floor():
    # 40 posts, confident 0.9 and right 9 times in 10: calibrated, yet small bins show a gap.
    truth = (["conversational"] * 9 + ["broadcast"]) * 4
    result = calibration(truth, [0.9] * 40)
    assert result["ece"] == pytest.approx(0.0)
    assert 0.0 < result["ece_if_calibrated"] < 0.1
    low, high = result["ece_interval"]
    assert 0.0 <= low <= high
    # Overconfident: 0.99 sure and right half the time; far above the floor.
    bad = calibration(["conversational", "broadcast"] * 20, [0.99] * 40)
    assert bad["ece_interval"][0] > bad["ece_if_calibrated"] + 0.2
    assert bad["ece"] == pytest.approx(0.49)


def test_evaluate_writes_reports(tiny_model, tmp_path):
    report = evaluate(
        TEXTS,
        LABELS,
        model=tiny_model,
        report_dir=tmp_path,
        slices=["a"] * 20 + ["b"] * (len(TEXTS) - 20),
    )
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "confusion.png",
        "metrics.json",
        "misclassified.csv",
        "precision_recall.png",
        "reliability.png",
    ]
    assert json.loads((tmp_path / "metrics.json").read_text())["model"]["n"] == len(TEXTS)
    assert set(report["slices"]) == {"a", "b"}
    table = format_report(report)
    assert "leading @ -> conversational" in table and "slice a" in table


def test_misclassified_csv_lists_wrong_posts_with_scores(tiny_model, tmp_path):
    flipped = ["broadcast" if x == "conversational" else "conversational" for x in LABELS]
    report = evaluate(TEXTS, flipped, model=tiny_model, report_dir=tmp_path)
    lines = (tmp_path / "misclassified.csv").read_text().splitlines()
    assert lines[0] == "text,label,predicted,p_conversational,top_features"
    assert len(lines) - 1 == report["misclassified"] > 0
