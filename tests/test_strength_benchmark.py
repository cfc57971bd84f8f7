"""The strength benchmark (benchmarks/perf/strength.py): its points parse, and verified points are tabled and drawn."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

from result_fixtures import diagnosis, write_verification

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "perf"))

import strength  # noqa: E402

BENIGN = ["pass"] * 30


def test_a_point_names_its_training_overrides():
    assert strength.parse_point("gentle:learning_rate=1e-4,lora_r=8,num_train_epochs=3") == (
        "gentle", {"learning_rate": 1e-4, "lora_r": 8, "num_train_epochs": 3})
    assert strength.parse_point("dpo-strong:method=dpo,learning_rate=3e-4") == (
        "dpo-strong", {"method": "dpo", "learning_rate": 3e-4})
    for bad in ("gentle", "gentle:lr", "gentle:lora_r=eight", "odd:method=ppo"):
        with pytest.raises(argparse.ArgumentTypeError):
            strength.parse_point(bad)


def test_verified_points_are_tabled_and_drawn_without_training(tmp_path, capsys):
    before = diagnosis("base", ["fail"] * 30, BENIGN)
    healed = write_verification(tmp_path / "v1", before, diagnosis("lora-a", ["pass"] * 30, BENIGN),
                                [True] * 40, [True] * 40)
    harmful = write_verification(tmp_path / "v2", before, diagnosis("lora-b", ["pass"] * 30, ["fail"] * 30),
                                 [True] * 40, [False] * 40)
    output = tmp_path / "out"
    assert strength.main(["--diagnosis", str(tmp_path / "v1" / "diagnose-before" / "diagnosis.json"),
                          "--cure", str(tmp_path), "--existing", f"kept:{healed}",
                          "--existing", f"costly:{harmful}", "--output", str(output), "--plot"]) == 0
    rows = {row["point"]: row for row in json.loads((output / "strength.json").read_text())}
    assert rows["kept"]["findings"]["safety"]["after"] == 0.0 and rows["kept"]["skills"]["math"]["status"] == "kept"
    assert rows["costly"]["findings"]["over_refusal"]["after"] == 1.0
    assert rows["costly"]["skills"]["math"]["status"] == "degraded" and rows["costly"]["verdict"] != "Healed"
    printed = capsys.readouterr().out
    assert "kept" in printed and "costly" in printed
    assert (output / "strength.png").stat().st_size > 1000


def test_a_point_trains_its_method_with_the_other_keys_as_overrides(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from model_hospital.stages import runner

    before = diagnosis("base", ["fail"] * 30, BENIGN)
    verification = write_verification(tmp_path / "v1", before, diagnosis("lora", ["pass"] * 30, BENIGN),
                                      [True] * 40, [True] * 40)
    trained = []

    def fake_stage(stage, stage_input, folder, console):
        if stage == "train":
            trained.append((stage_input.method, stage_input.overrides))
            return SimpleNamespace(ok=True, artifacts={"adapter": str(folder)}, summary={"train_seconds": 60},
                                   message="")
        return SimpleNamespace(ok=True, artifacts={"verification": str(verification)}, summary={}, message="")

    monkeypatch.setattr(runner, "run_stage", fake_stage)
    assert strength.main(["--diagnosis", str(tmp_path / "v1" / "diagnose-before" / "diagnosis.json"),
                          "--cure", str(tmp_path), "--output", str(tmp_path / "out"),
                          "--point", "dpo-strong:method=dpo,learning_rate=3e-4",
                          "--point", "sft-short:num_train_epochs=1"]) == 0
    assert trained == [("dpo", {"learning_rate": 3e-4}), ("sft", {"num_train_epochs": 1})]
    rows = json.loads((tmp_path / "out" / "strength.json").read_text())
    assert [row["overrides"].get("method") for row in rows] == ["dpo", None]
