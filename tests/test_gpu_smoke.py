"""benchmarks/gpu/smoke.sh: shellcheck-clean, refuses without a GPU, and its figures come from the stages' files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cure_fixtures import make_diagnosis, write_diagnosis
from model_hospital.api.stages import StageResult

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "benchmarks" / "gpu" / "smoke.sh"
sys.path.insert(0, str(SMOKE.parent))
import figures  # noqa: E402  (benchmarks/gpu/figures.py)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed (apt-get install shellcheck)")
def test_the_smoke_script_is_shellcheck_clean():
    done = subprocess.run(["shellcheck", str(SMOKE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_the_smoke_script_stops_with_one_line_where_no_gpu_is_listed(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "nvidia-smi"
    fake.write_text("#!/bin/sh\nexit 0\n")  # present, but lists no GPU
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", str(SMOKE), str(tmp_path / "out")], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: nvidia-smi lists no GPU"
    assert not (tmp_path / "out").exists()


def test_diagnose_figure_counts_the_answers_tokens_with_the_models_tokenizer(tmp_path):
    from transformers import AutoTokenizer

    from model_hospital.clinic.models import build_tiny_model

    tiny = str(build_tiny_model())
    path = write_diagnosis(make_diagnosis(per_category=1), tmp_path)
    found = figures.diagnose_figures(path, tiny)
    answers = [row["answer"] for row in json.loads(path.read_text())["answers"]]
    tokenizer = AutoTokenizer.from_pretrained(tiny)
    expected = sum(len(tokenizer(a, add_special_tokens=False).input_ids) for a in answers)
    assert found["answers"] == len(answers) and found["tokens"] == expected > 0
    assert found["tokens_per_second"] == pytest.approx(expected / 60.0)


def test_train_figure_is_seconds_per_step_and_a_failed_train_is_an_error(tmp_path):
    result = tmp_path / "result.json"
    result.write_text(StageResult(stage="train", ok=True, summary={"train_seconds": 12.0}).model_dump_json())
    assert figures.train_figures(result, 20) == {"seconds": 12.0, "steps": 20, "seconds_per_step": 0.6}
    assert figures.main(["train", str(result), "20", "--label", "LoRA"]) == 0
    result.write_text(StageResult(stage="train", ok=False, message="CUDA out of memory").model_dump_json())
    with pytest.raises(figures.FigureError, match="CUDA out of memory"):
        figures.train_figures(result, 20)
    assert figures.main(["train", str(result), "20"]) == 2
    assert figures.main(["timed", "ddp", "0", "20"]) == 2, "no time measured is no figure"
