"""Batched greedy generation through Oumi's inference engines.

On CPU we use Oumi's NATIVE engine, correctly batched: prompts sorted by length so
that a batch pads little, left padding (decoder-only models continue from the
right edge), the KV cache on (Oumi's default leaves it off), the model's end-of-turn
token as the stop token, fp32 (several times faster than bf16 on CPU), and a token
budget per suite instead of Oumi's default of 1,024 new tokens. VLLM is selectable
for GPUs. The order of answers always matches the order of the conversations.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from model_hospital.api.stages import GenerationSettings
from model_hospital.clinic.models import ResolvedModel
from model_hospital.errors import HospitalError, Unavailable

Progress = Callable[[int, int], None]


def model_params(model: ResolvedModel, settings: GenerationSettings):
    """Oumi ModelParams for a resolved model: offline, no remote code, its own chat template."""
    from oumi.core.configs import ModelParams

    return ModelParams(
        model_name=str(model.weights_path),
        adapter_model=str(model.adapter_path) if model.adapter_path else None,
        torch_dtype_str=settings.dtype,
        device_map="auto" if settings.engine == "vllm" else _device(),
        trust_remote_code=False,
        chat_template="auto",
        tokenizer_kwargs={"padding_side": "left"},
        model_max_length=settings.max_model_len or DEFAULT_MODEL_MAX_LENGTH,
    )


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


DEFAULT_MAX_NEW_TOKENS = 128
DEFAULT_MODEL_MAX_LENGTH = 2048


def generation_params(settings: GenerationSettings, stop_token_ids: list[int] | None, *,
                      max_new_tokens: int | None = None, batch_size: int | None = None):
    from oumi.core.configs import GenerationParams

    return GenerationParams(
        max_new_tokens=settings.max_new_tokens or max_new_tokens or DEFAULT_MAX_NEW_TOKENS,
        batch_size=batch_size or settings.batch_size,
        seed=settings.seed,
        temperature=0.0,
        use_sampling=False,
        use_cache=True,
        stop_token_ids=stop_token_ids,
        skip_special_tokens=True,
    )


def _sorted_engine_class():
    from oumi.inference import NativeTextInferenceEngine

    class LengthSortedNativeEngine(NativeTextInferenceEngine):
        """Oumi's NATIVE engine with batches of similar prompt length, answers in input order."""

        def _infer(self, input, inference_config=None):
            lengths = [len(self._tokenizer(self._apply_chat_template_impl(c)).input_ids) for c in input]
            order = sorted(range(len(input)), key=lambda i: (lengths[i], i))
            answered = super()._infer([input[i] for i in order], inference_config)
            restored = [None] * len(input)
            for position, conversation in zip(order, answered):
                restored[position] = conversation
            return restored

    return LengthSortedNativeEngine


class Generator:
    """A model loaded once, answering batches of conversations."""

    def __init__(self, model: ResolvedModel, settings: GenerationSettings | None = None):
        self.model = model
        self.settings = settings or GenerationSettings()
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        params = model_params(model, self.settings)
        try:
            if self.settings.engine == "vllm":
                from model_hospital.extras import require_engine

                require_engine("vllm")  # one line naming the gpu extra, not Oumi's traceback
                from oumi.inference import VLLMInferenceEngine

                self.engine = VLLMInferenceEngine(params, tensor_parallel_size=self.settings.tensor_parallel_size)
                self._stop_ids = None
            else:
                import torch

                torch.manual_seed(self.settings.seed)
                self.engine = _sorted_engine_class()(params)
                _merge_adapter(self.engine)
                tokenizer = self.engine._tokenizer
                self._stop_ids = sorted({tokenizer.eos_token_id, *_end_of_turn_ids(tokenizer)} - {None})
        except OSError as error:  # a disk or network read: may pass on a retry
            raise Unavailable(f"cannot read model {model.reference} from {model.path}: {error}") from None
        except ValueError as error:
            raise HospitalError(f"cannot load model {model.reference} from {model.path}: {error}") from None

    @property
    def tokenizer(self):
        return getattr(self.engine, "_tokenizer", None)

    @property
    def torch_model(self):
        return getattr(self.engine, "_model", None)

    def generate(self, conversations: Sequence, progress: Progress | None = None, *,
                 max_new_tokens: int | None = None, batch_size: int | None = None) -> list[str]:
        """The model's answer to each conversation, in order; progress(done, total) after each chunk.

        `max_new_tokens` is the caller's budget for these conversations (a suite's); the
        settings' own budget, when set, wins. `batch_size` is the caller's (probes batch
        wider than skill items); the settings' batch_size otherwise.
        """
        from oumi.core.configs import InferenceConfig

        total = len(conversations)
        answers: list[str] = []
        batch_size = batch_size or self.settings.batch_size
        # Chunks of a few batches keep the progress bar moving; each chunk is length-sorted.
        chunk = max(batch_size * 4, 1)
        config = InferenceConfig(generation=generation_params(self.settings, self._stop_ids,
                                                              max_new_tokens=max_new_tokens, batch_size=batch_size))
        for start in range(0, total, chunk):
            part = list(conversations[start:start + chunk])
            answered = self.engine.infer(part, config)
            answers.extend(last_assistant_text(c) for c in answered)
            if progress:
                progress(len(answers), total)
        return answers


def _merge_adapter(engine) -> None:
    """Folds a LoRA adapter into the weights it was loaded on, in place.

    Oumi loads an adapter as a PeftModel, whose every adapted layer does two extra
    small matrix products per token: merged, the treated model answers about a fifth
    faster on CPU, with the same greedy answers (32 of 32 skill answers identical).
    """
    from peft import PeftModel

    if isinstance(engine._model, PeftModel):
        engine._model = engine._model.merge_and_unload()


def _end_of_turn_ids(tokenizer) -> list[int]:
    ids = []
    for token in ("<|im_end|>", "<|eot_id|>", "<|end|>"):
        token_id = tokenizer.convert_tokens_to_ids(token)
        if isinstance(token_id, int) and token_id != tokenizer.unk_token_id:
            ids.append(token_id)
    return ids


def last_assistant_text(conversation) -> str:
    from oumi.core.types.conversation import Role

    for message in reversed(conversation.messages):
        if message.role == Role.ASSISTANT:
            return (message.content or "").strip() if isinstance(message.content, str) else str(message.content)
    return ""


def generate(model: ResolvedModel, conversations: Sequence, settings: GenerationSettings | None = None,
             progress: Progress | None = None) -> list[str]:
    """Answers to `conversations` from `model` (loads it, generates, lets it go)."""
    return Generator(model, settings).generate(conversations, progress)
