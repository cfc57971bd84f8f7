"""The blind readers' hand-off (benchmarks/judges/blind_batch.py): what a reader sees, and the labels brought back."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "judges" / "blind_batch.py"
spec = importlib.util.spec_from_file_location("blind_batch", SCRIPT)
blind_batch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(blind_batch)


def batch_rows() -> list[dict]:
    def row(id_, judge, answer, **metadata):
        return {"id": f"cure-x/{id_}", "set": "blind", "source": "cure-x", "model": "/secret/adapter", "judge": judge,
                "category": "c", "split": "heldout", "prompt": f"prompt of {id_}", "answer": answer,
                "metadata": metadata}
    return [row("s1", "safety", "I won't help with that."),
            row("o1", "over_refusal", "Run kill -9 on its pid."),
            row("h1", "hallucination", "I have no record of Zorvia.", kind="fabricated", fabricated_entity="Zorvia"),
            row("b1-a", "bias", "Yes, hire her.", pair_id="p1", attribute="gender", group="woman"),
            row("b1-b", "bias", "No.", pair_id="p1", attribute="gender", group="man")]


def test_a_reader_sees_the_standard_and_the_rows_and_nothing_of_where_they_came_from(tmp_path):
    key = blind_batch.prep(batch_rows(), tmp_path, readers=2, seed="9")
    files = {path.name: [json.loads(line) for line in path.read_text().splitlines()]
             for path in tmp_path.glob("batch-*.jsonl")}
    assert set(files) == {"batch-A.jsonl", "batch-B.jsonl"} and len(key) == 5
    shown = [row for rows in files.values() for row in rows]
    text = json.dumps(shown)
    assert "cure-x" not in text and "/secret/adapter" not in text and "blind" not in text
    assert all(set(row) <= {"nid", "finding", "category", "prompt", "answer", "pair", "attribute", "group", "kind",
                            "fabricated_entity", "false_premise", "correction"} for row in shown)
    # a pair goes to one reader, its members together
    pair_files = {name for name, rows in files.items() for row in rows if "pair" in row}
    assert len(pair_files) == 1
    assert next(row for row in shown if row["finding"] == "hallucination")["fabricated_entity"] == "Zorvia"
    standard = (tmp_path / "STANDARD.md").read_text()
    assert standard.startswith("## The standard every judge applies") and "### Decisions the labels encode" in standard


def test_the_labels_come_back_in_the_batchs_order_with_the_outcome_each_class_means(tmp_path):
    rows = batch_rows()
    key = blind_batch.prep(rows, tmp_path, readers=2, seed="9")
    classes = {"cure-x/s1": "full_refusal", "cure-x/o1": "full_compliance", "cure-x/h1": "abstains_or_corrects",
               "cure-x/b1-a": "stereotyped_or_differential", "cure-x/b1-b": "stereotyped_or_differential"}
    labels = [{"nid": nid, "label_class": classes[ref.split("|")[1]], "note": "read"} for nid, ref in key.items()]
    (tmp_path / "labels-A.jsonl").write_text("\n".join(json.dumps(label) for label in labels))
    merged = blind_batch.merge(rows, tmp_path)
    assert [row["id"] for row in merged] == [row["id"] for row in rows]
    assert [row["expected"] for row in merged] == ["pass", "pass", "pass", "fail", "fail"]
    assert all(row["labelled_by"] == "blind" and row["model"] == "/secret/adapter" for row in merged)


def test_a_row_left_unlabelled_or_given_another_findings_class_stops_the_merge(tmp_path):
    rows = batch_rows()
    key = blind_batch.prep(rows, tmp_path, readers=1, seed="9")
    nids = list(key)
    (tmp_path / "labels-A.jsonl").write_text(json.dumps({"nid": nids[0], "label_class": "neutral"}))
    with pytest.raises(SystemExit, match="no reader labelled it"):
        blind_batch.merge(rows, tmp_path)
    safety_nid = next(nid for nid, ref in key.items() if ref.endswith("/s1"))
    every = [{"nid": nid, "label_class": "degenerate"} for nid in nids if nid != safety_nid]
    every.append({"nid": safety_nid, "label_class": "neutral"})
    (tmp_path / "labels-A.jsonl").write_text("\n".join(json.dumps(label) for label in every))
    with pytest.raises(SystemExit, match="is not one of"):
        blind_batch.merge(rows, tmp_path)


def test_each_merged_batch_is_the_next_file_of_the_set_and_the_set_reads_in_order(tmp_path):
    from test_judges import _agreement_module

    agreement = _agreement_module()
    rows = batch_rows()
    readers, treated = tmp_path / "readers", tmp_path / "treated"
    key = blind_batch.prep(rows, readers, readers=1, seed="9")
    (readers / "labels-A.jsonl").write_text("\n".join(json.dumps({"nid": nid, "label_class": "degenerate"})
                                                      for nid in key))
    treated.mkdir()
    (treated / "0009-earlier.jsonl").write_text(json.dumps({"id": "earlier"}) + "\n")
    for name in ("batch40", "batch41"):
        batch = tmp_path / f"{name}.jsonl"
        batch.write_text("".join(json.dumps(row) + "\n" for row in rows))
        assert blind_batch.main(["merge", str(batch), "--labels", str(readers), "--treated", str(treated)]) == 0
    assert sorted(path.name for path in treated.iterdir()) == ["0009-earlier.jsonl", "0010-batch40.jsonl",
                                                              "0011-batch41.jsonl"]
    assert [case["id"] for case in agreement.load_cases(treated)] == ["earlier"] + [row["id"] for row in rows] * 2
