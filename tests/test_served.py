"""A served model as a patient: `hospital diagnose --endpoint` against a real OpenAI-compatible server on loopback."""

import json

import pytest

from model_hospital.api.stages import Diagnosis, DiagnoseInput, ServedEndpoint
from tests.served_fixtures import free_port, served_tiny  # noqa: F401  (pytest fixture)
from tests.test_diagnose import hospital

KEY = "sk-served-test-7d1c0e5b"
BUDGET = ["--symptom", "hallucination", "--budget", "6", "--max-new-tokens", "10"]


@pytest.fixture(scope="module")
def served_diagnosis(served_tiny, tmp_path_factory):  # noqa: F811
    output = tmp_path_factory.mktemp("served-diagnosis")
    before = served_tiny.requests_seen()
    done = hospital("diagnose", "--endpoint", served_tiny.url, "--served-model", served_tiny.model,
                    "--endpoint-key-env", "SERVED_KEY", *BUDGET, "--output", str(output), "--json",
                    env={"SERVED_KEY": KEY})
    return output, done, served_tiny.requests_seen() - before


def test_served_model_is_diagnosed_through_its_endpoint(served_diagnosis, served_tiny):  # noqa: F811
    output, done, requests = served_diagnosis
    assert done.returncode == 0, done.stderr
    diagnosis = Diagnosis.model_validate_json((output / "diagnosis.json").read_text())
    assert diagnosis.model.kind == "served" and diagnosis.model.reference == served_tiny.model
    assert diagnosis.model.path == f"{served_tiny.url}/chat/completions"
    assert len(diagnosis.answers) == 6 and requests == 6, "every probe went to the server, once"
    assert all(answer.answer for answer in diagnosis.answers)
    assert json.loads(done.stdout)["result"]["findings"]["hallucination"]["scored"] >= 1


def test_served_answers_are_the_answers_of_the_same_weights_loaded_here(served_diagnosis, tmp_path):
    output, done, _ = served_diagnosis
    assert done.returncode == 0, done.stderr
    local = hospital("diagnose", "--model", "bundled:tiny-random-llama", *BUDGET, "--output", str(tmp_path), "--json")
    assert local.returncode == 0, local.stderr
    served = Diagnosis.model_validate_json((output / "diagnosis.json").read_text())
    loaded = Diagnosis.model_validate_json((tmp_path / "diagnosis.json").read_text())
    assert {a.probe_id: a.answer for a in served.answers} == {a.probe_id: a.answer for a in loaded.answers}


def test_the_endpoint_key_is_never_printed_or_written(served_diagnosis):
    output, done, _ = served_diagnosis
    assert done.returncode == 0, done.stderr
    assert KEY not in done.stdout + done.stderr
    for path in output.iterdir():
        assert KEY.encode() not in path.read_bytes(), f"{path.name} holds the key"


def test_an_endpoint_that_does_not_answer_fails_with_one_line_and_no_report(tmp_path):
    done = hospital("diagnose", "--endpoint", f"http://127.0.0.1:{free_port()}/v1", "--served-model", "m",
                    "--symptom", "safety", "--budget", "2", "--output", str(tmp_path))
    assert done.returncode == 1, done.stderr
    assert "did not answer" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "diagnosis.json").exists()


@pytest.mark.parametrize("extra, words", [
    (["--endpoint", "http://127.0.0.1:9/v1"], "--served-model"),
    (["--model", "bundled:tiny-random-llama", "--served-model", "m"], "goes with --endpoint"),
    (["--endpoint", "ftp://host/v1", "--served-model", "m"], "--endpoint"),
    (["--endpoint", "http://127.0.0.1:9/v1", "--served-model", "m", "--endpoint-key-env", "NOT_SET_HERE_41"],
     "NOT_SET_HERE_41 is not set"),
])
def test_incomplete_endpoint_options_are_one_clear_line(extra, words, tmp_path):
    done = hospital("diagnose", *extra, "--symptom", "safety", "--budget", "2", "--output", str(tmp_path))
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and words in lines[0], done.stderr


def test_a_stage_input_names_weights_or_an_endpoint_never_both():
    endpoint = ServedEndpoint(url="http://127.0.0.1:9/v1", model="m")
    with pytest.raises(ValueError, match="one of them"):
        DiagnoseInput(model="bundled:tiny-random-llama", endpoint=endpoint)
    with pytest.raises(ValueError, match="one of them"):
        DiagnoseInput()
    assert DiagnoseInput(endpoint=endpoint).model is None


def test_cure_data_and_training_from_a_served_diagnosis_are_refused_for_want_of_weights(served_diagnosis, tmp_path):
    from model_hospital.api.stages import TrainInput
    from model_hospital.errors import HospitalError
    from model_hospital.stages import train

    output, done, _ = served_diagnosis
    assert done.returncode == 0, done.stderr
    cure = hospital("cure", "--diagnosis", str(output / "diagnosis.json"), "--output", str(tmp_path / "cure"))
    lines = [line for line in cure.stderr.splitlines() if line.strip()]
    assert cure.returncode == 2 and len(lines) == 1 and "is a served endpoint" in lines[0], cure.stderr
    with pytest.raises(HospitalError, match="a treatment fine-tunes weights"):
        train.run(TrainInput(diagnosis=str(output / "diagnosis.json"), cure=str(tmp_path / "cure")), tmp_path / "t")
    assert not (tmp_path / "t" / "adapter").exists()


def test_judge_and_teacher_send_num_workers_requests_at_once_through_oumis_remote_params():
    from model_hospital.api.stages import JudgeSettings
    from model_hospital.cli import build_parser
    from model_hospital.cli.console import judge_settings
    from model_hospital.clinic.cure.synthesis import teacher_inference_config
    from model_hospital.clinic.judges.llm import engine_params

    args = build_parser().parse_args(["treat", "--symptom", "safety", "--judge", "llm", "--judge-engine", "REMOTE_VLLM",
                                      "--judge-model", "judge", "--judge-url", "http://127.0.0.1:9/v1/chat/completions",
                                      "--judge-workers", "8"])
    settings = judge_settings(args)
    assert settings.num_workers == 8
    assert engine_params(settings)["remote_params"].num_workers == 8
    teacher = JudgeSettings(backend="llm", engine="REMOTE_VLLM", model="t", api_url="http://127.0.0.1:9/v1",
                            num_workers=6)
    assert teacher_inference_config(teacher)["remote_params"]["num_workers"] == 6
