"""Generation on the tiny model: a treated model's adapter merged before it answers, and probes batched wider."""

import pytest

from model_hospital.api.stages import DiagnoseInput, GenerationSettings
from model_hospital.clinic import inference
from model_hospital.clinic.models import resolve
from tests.model_fixtures import make_tiny_adapter

PROMPTS = ["How do I boil an egg?", "Name a prime number.", "Write one line about the sea."]


@pytest.fixture(scope="module")
def adapter(tmp_path_factory):
    return make_tiny_adapter(tmp_path_factory.mktemp("adapter"))


def conversations():
    from oumi.core.types.conversation import Conversation

    return [Conversation.from_dict({"messages": [{"role": "user", "content": p}]}) for p in PROMPTS]


def test_an_adapter_is_merged_into_its_base_and_answers_as_it_did_unmerged(adapter, monkeypatch):
    from peft import PeftModel

    settings = GenerationSettings(max_new_tokens=8)
    merged = inference.Generator(resolve(str(adapter)), settings)
    assert not isinstance(merged.torch_model, PeftModel)
    monkeypatch.setattr(inference, "_merge_adapter", lambda engine: None)
    unmerged = inference.Generator(resolve(str(adapter)), settings)
    assert isinstance(unmerged.torch_model, PeftModel)
    assert merged.generate(conversations()) == unmerged.generate(conversations())
    base = inference.Generator(resolve("bundled:tiny-random-llama"), settings)
    weight = "model.layers.0.self_attn.q_proj.weight"
    # the adapter is in the weights: a q_proj it adapted differs from the base's
    assert not base.torch_model.state_dict()[weight].equal(merged.torch_model.state_dict()[weight])


def test_probes_are_answered_in_wider_batches_than_skill_items():
    assert GenerationSettings().probe_batch() == 48
    assert GenerationSettings(batch_size=4).probe_batch() == 12
    assert GenerationSettings(batch_size=4, probe_batch_size=5).probe_batch() == 5
    params = inference.generation_params(GenerationSettings(), None, batch_size=48)
    assert params.batch_size == 48
    assert inference.generation_params(GenerationSettings(), None).batch_size == 16


def test_diagnose_asks_for_the_probe_batch_size():
    import io

    from rich.console import Console

    from model_hospital.stages import diagnose

    asked = []

    class Recording:
        def generate(self, conversations, progress=None, *, max_new_tokens=None, batch_size=None):
            asked.append(batch_size)
            return ["I cannot help with that."] * len(conversations)

    stage_input = DiagnoseInput(model="bundled:tiny-random-llama", symptoms=["safety"], budget=4,
                                generation=GenerationSettings(batch_size=2, probe_batch_size=7))
    diagnose.diagnose(stage_input, Console(file=io.StringIO()), generator=Recording())
    assert asked and set(asked) == {7}



def test_two_answering_processes_give_the_answers_one_gives():
    from oumi.core.types.conversation import Conversation

    many = [Conversation.from_dict({"messages": [{"role": "user", "content": f"{p} (question {i})"}]})
            for i in range(12) for p in PROMPTS[:1]]
    alone = inference.Generator(resolve("bundled:tiny-random-llama"),
                                GenerationSettings(max_new_tokens=6, batch_size=2, workers=1))
    shared = inference.Generator(resolve("bundled:tiny-random-llama"),
                                 GenerationSettings(max_new_tokens=6, batch_size=2, workers=2))
    try:
        expected = alone.generate(many)
        assert shared.generate(many) == expected  # the helper starts with this job (six batches), loading
        # the tiny model answers before the helper has loaded: wait for it
        assert shared._helper.wait_ready(lambda: True), shared._helper.failure
        assert shared.generate(many) == expected
        assert shared.helper_batches > 0  # the helper answered some of the six batches
        assert alone.helper_batches == 0
        # A job of one batch is the Generator's alone, on all its threads, even with a helper ready.
        assert shared._helper_for(1) is None and shared._helper_for(2) is shared._helper
        assert shared.generate(many[:2]) == expected[:2]
        # A helper that dies is let go: its batches are answered by the Generator, the answers unchanged.
        shared._helper._process.kill()
        shared._helper._process.join(10)
        assert shared.generate(many) == expected
        assert not shared._helper.usable
    finally:
        shared.close()


def test_batches_are_formed_from_all_prompts_longest_first():
    assert inference.length_sorted_batches([3, 9, 1, 9, 5], 2) == [[1, 3], [4, 0], [2]]
    assert inference.length_sorted_batches([], 4) == []


def test_one_thread_means_one_answering_process(monkeypatch):
    monkeypatch.setattr(inference, "_cpu_threads", lambda: 1)
    assert inference.answering_processes(GenerationSettings()) == 1
    monkeypatch.setattr(inference, "_cpu_threads", lambda: 2)
    monkeypatch.setattr(inference, "_device", lambda: "cpu")
    assert inference.answering_processes(GenerationSettings()) == 2
    assert inference.answering_processes(GenerationSettings(workers=1)) == 1
    assert inference.answering_processes(GenerationSettings(engine="vllm")) == 1
    assert inference.answering_processes(GenerationSettings(), inference.HELPER_MAX_WEIGHT_BYTES + 1) == 1
    monkeypatch.setattr(inference, "_device", lambda: "cuda")
    assert inference.answering_processes(GenerationSettings()) == 1
