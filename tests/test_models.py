"""Model references resolve to folders transformers loads offline, or fail with a clear error."""

import json

import pytest

from model_hospital.clinic import models
from model_hospital.errors import HospitalError


def test_tiny_model_has_smollm2_special_tokens_and_chat_template():
    from transformers import AutoConfig, AutoTokenizer

    resolved = models.resolve("bundled:tiny-random-llama")
    tokenizer = AutoTokenizer.from_pretrained(resolved.path)
    config = AutoConfig.from_pretrained(resolved.path)
    assert tokenizer.eos_token == "<|im_end|>"
    assert tokenizer.pad_token == "<|endoftext|>" and tokenizer.pad_token != tokenizer.eos_token
    assert tokenizer.model_max_length == 2048
    assert config.eos_token_id == tokenizer.convert_tokens_to_ids("<|im_end|>")
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False,
                                           add_generation_prompt=True)
    assert prompt.endswith("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
    assert resolved.info().kind == "bundled"


def test_tiny_model_is_built_once_and_reused():
    first = models.resolve("bundled:tiny-random-llama")
    stamp = (first.path / "model.safetensors").stat().st_mtime_ns
    again = models.resolve("bundled:tiny-random-llama")
    assert again.path == first.path
    assert (again.path / "model.safetensors").stat().st_mtime_ns == stamp


@pytest.mark.parametrize("reference, words", [
    ("bundled:gpt-7", "unknown bundled model"),
    ("/nowhere/at/all", "does not exist"),
    ("not a model", "does not resolve"),
    ("", "empty model reference"),
])
def test_bad_references_say_what_is_wrong(reference, words):
    with pytest.raises(HospitalError, match=words):
        models.resolve(reference)


def test_folder_without_config_is_rejected(tmp_path):
    with pytest.raises(HospitalError, match="no config.json"):
        models.resolve(str(tmp_path))


def test_hub_reference_without_cache_and_downloads_off_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(HospitalError, match="not in the local Hugging Face cache"):
        models.resolve("HuggingFaceTB/SmolLM2-135M-Instruct@main", allow_download=False)


def test_adapter_folder_resolves_with_its_base(tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "/somewhere/else"}))
    (adapter / models.BASE_MARKER).write_text(json.dumps({"reference": "bundled:tiny-random-llama"}))
    resolved = models.resolve(str(adapter))
    assert resolved.kind == "adapter"
    assert resolved.base.reference == "bundled:tiny-random-llama"
    assert resolved.weights_path == resolved.base.path
    assert resolved.adapter_path == adapter.resolve()


def test_adapters_with_different_weights_of_the_same_size_get_different_revisions(tmp_path):
    revisions = []
    for name, weights in (("one", b"\x00" * 4096), ("two", b"\x00" * 4095 + b"\x01"), ("three", b"\x00" * 4096)):
        adapter = tmp_path / name
        adapter.mkdir()
        (adapter / "adapter_config.json").write_text(json.dumps({"r": 8}))
        (adapter / models.BASE_MARKER).write_text(json.dumps({"reference": "bundled:tiny-random-llama"}))
        (adapter / "adapter_model.safetensors").write_bytes(weights)
        revisions.append(models.resolve(str(adapter)).revision)
    assert revisions[0] != revisions[1], "same names and sizes, different bytes"
    assert revisions[0] == revisions[2], "the same bytes are the same revision wherever they lie"
    # Weights changed in place (same size) are a new revision too.
    (tmp_path / "three" / "adapter_model.safetensors").write_bytes(b"\x02" * 4096)
    assert models.resolve(str(tmp_path / "three")).revision not in revisions


def test_check_reference_builds_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("HOSPITAL_CACHE", str(tmp_path))
    models.check_reference("bundled:smollm2-135m-instruct")
    assert not any(tmp_path.iterdir())
    with pytest.raises(HospitalError):
        models.check_reference("bundled:nothing")


@pytest.mark.slow
def test_bundled_smollm2_converts_with_correct_tokens():
    from transformers import AutoTokenizer

    resolved = models.resolve("bundled:smollm2-135m-instruct")
    tokenizer = AutoTokenizer.from_pretrained(resolved.path)
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token == "<|endoftext|>"
