"""Batched greedy generation through Oumi's inference engines.

On CPU we use Oumi's NATIVE engine, correctly batched: prompts sorted by length so
that a batch pads little, left padding (decoder-only models continue from the
right edge), the KV cache on (Oumi's default leaves it off), the model's end-of-turn
token as the stop token, fp32 (several times faster than bf16 on CPU), and a token
budget per suite instead of Oumi's default of 1,024 new tokens. VLLM is selectable
for GPUs. The order of answers always matches the order of the conversations.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
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


def _engine_class():
    """Oumi's NATIVE engine. It is handed one batch at a time, formed by `length_sorted_batches`: the batches are
    already of similar prompt length, so the engine sorts nothing itself."""
    from oumi.inference import NativeTextInferenceEngine

    return NativeTextInferenceEngine


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
                self.engine = _engine_class()(params)
                _merge_adapter(self.engine)
                tokenizer = self.engine._tokenizer
                self._stop_ids = sorted({tokenizer.eos_token_id, *_end_of_turn_ids(tokenizer)} - {None})
        except OSError as error:  # a disk or network read: may pass on a retry
            raise Unavailable(f"cannot read model {model.reference} from {model.path}: {error}") from None
        except ValueError as error:
            raise HospitalError(f"cannot load model {model.reference} from {model.path}: {error}") from None
        self._helpers_wanted = answering_processes(self.settings, _weight_bytes(model))
        self._helper_threads = max(_cpu_threads() // self._helpers_wanted, 1)
        self._helper = None
        self.helper_batches = 0  # batches the helper answered (what `benchmarks/perf/answering_workers.py` reports)

    @property
    def tokenizer(self):
        return getattr(self.engine, "_tokenizer", None)

    @property
    def torch_model(self):
        return getattr(self.engine, "_model", None)

    def generate(self, conversations: Sequence, progress: Progress | None = None, *,
                 max_new_tokens: int | None = None, batch_size: int | None = None) -> list[str]:
        """The model's answer to each conversation, in order; progress(done, total) after each batch or chunk.

        `max_new_tokens` is the caller's budget for these conversations (a suite's); the
        settings' own budget, when set, wins. `batch_size` is the caller's (probes batch
        wider than skill items); the settings' batch_size otherwise.
        """
        batch_size = batch_size or self.settings.batch_size
        budget = self.settings.max_new_tokens or max_new_tokens or DEFAULT_MAX_NEW_TOKENS
        if self.settings.engine == "vllm":
            return self._generate_in_chunks(conversations, progress, budget, batch_size)
        batches = length_sorted_batches(self._prompt_lengths(conversations), batch_size)
        answers: list[str | None] = [None] * len(conversations)
        done = 0

        def record(batch: list[int], said: list[str]) -> None:
            nonlocal done
            if len(said) != len(batch):
                raise HospitalError(f"{self.model.reference} answered {len(said)} of {len(batch)} conversations")
            for index, answer in zip(batch, said):
                answers[index] = answer
            done += len(batch)
            if progress:
                progress(done, len(conversations))

        helper = self._helper_for(len(batches))
        pending = list(batches)  # longest first: the short ones last even out the two processes
        lock = threading.Lock()

        def next_batch() -> list[int] | None:
            with lock:
                return pending.pop(0) if pending else None

        errors: list[BaseException] = []

        def feed_helper() -> None:
            try:
                if not helper.wait_ready(lambda: bool(pending)):
                    return
                while (batch := next_batch()) is not None:
                    said = helper.answer([conversations[i].to_dict() for i in batch], budget, len(batch))
                    with lock:
                        if said is None:  # the helper failed: its batch goes back to the Generator
                            pending.insert(0, batch)
                            return
                        record(batch, said)
                        self.helper_batches += 1
            except BaseException as error:  # noqa: BLE001 - raised again in the Generator's own thread
                errors.append(error)

        feeder = threading.Thread(target=feed_helper, name="answering-helper-feeder", daemon=True) if helper else None
        with _threads(self._helper_threads if helper else None):
            if feeder:
                feeder.start()
            while True:
                batch = next_batch()
                if batch is None:
                    if feeder is None or not feeder.is_alive():
                        break
                    feeder.join(HELPER_WAIT_SECONDS)  # the helper's last batch, or one it gives back
                    continue
                said = self._answer([conversations[i] for i in batch], budget, len(batch))
                with lock:
                    record(batch, said)
        if errors:
            raise errors[0]
        if helper and not helper.usable:
            self._let_helper_go()
        if any(answer is None for answer in answers):  # never an empty answer in place of one not given
            raise HospitalError(f"{self.model.reference} left {answers.count(None)} conversations unanswered")
        return answers

    def answer_batch(self, messages: Sequence[dict], max_new_tokens: int, batch_size: int) -> list[str]:
        """Answers to conversations given as dicts (Conversation.to_dict), in order: a helper's job."""
        from oumi.core.types.conversation import Conversation

        return self._answer([Conversation.from_dict(m) for m in messages], max_new_tokens, batch_size)

    def _answer(self, conversations: Sequence, max_new_tokens: int, batch_size: int) -> list[str]:
        from oumi.core.configs import InferenceConfig

        settings = self.settings.model_copy(update={"max_new_tokens": max_new_tokens})
        config = InferenceConfig(generation=generation_params(settings, self._stop_ids, batch_size=batch_size))
        return [last_assistant_text(c) for c in self.engine.infer(list(conversations), config)]

    def _generate_in_chunks(self, conversations: Sequence, progress: Progress | None, max_new_tokens: int,
                            batch_size: int) -> list[str]:
        """vLLM batches for itself: chunks of a few batches keep the progress bar moving."""
        answers: list[str] = []
        chunk = max(batch_size * 4, 1)
        for start in range(0, len(conversations), chunk):
            answers.extend(self._answer(conversations[start:start + chunk], max_new_tokens, batch_size))
            if progress:
                progress(len(answers), len(conversations))
        return answers

    def _prompt_lengths(self, conversations: Sequence) -> list[int]:
        return [len(self.engine._tokenizer(self.engine._apply_chat_template_impl(c)).input_ids)
                for c in conversations]

    def _helper_for(self, batches: int):
        """The answering helper for a job of this many batches (started for the first job worth it), or None.

        A job of one batch is answered alone with every thread, even where a helper runs: shared, one
        process would answer it on half the threads while the other waits.
        """
        if self._helper is None and self._helpers_wanted > 1 and batches >= HELPER_MIN_BATCHES:
            from model_hospital.clinic.answering_helper import AnsweringHelper

            self._helper = AnsweringHelper(self.model, self.settings, self._helper_threads)
            self._finalizer = weakref.finalize(self, self._helper.stop)
        if batches < 2:
            return None
        return self._helper if self._helper is not None and self._helper.usable else None

    def _let_helper_go(self) -> None:
        import logging

        logging.getLogger(__name__).warning("the second answering process is let go (%s); answering alone",
                                            self._helper.failure)
        self._helpers_wanted = 1

    def close(self) -> None:
        """Stops the answering helper, if one runs (it also stops when the Generator is collected)."""
        if self._helper is not None:
            self._helper.stop()


# A helper is started for a job of at least this many batches: a few probes answered by the tiny test model
# never pay for a second process loading the model.
HELPER_MIN_BATCHES = 4
HELPER_WAIT_SECONDS = 1.0


# Above this much weight a model's products keep the cores busy in one process, and a second copy of it would
# only cost memory: two processes are for small models (the bundled 135M model holds about 0.5 GB in float32).
HELPER_MAX_WEIGHT_BYTES = 2 * 1024**3


def answering_processes(settings: GenerationSettings, weight_bytes: int = 0) -> int:
    """How many processes answer at once: the settings' `workers`, else two for a small model on a CPU where torch
    may use two threads or more (OMP_NUM_THREADS=1 keeps one)."""
    if settings.engine != "native":
        return 1
    if settings.workers:
        return settings.workers
    if _device() != "cpu" or weight_bytes > HELPER_MAX_WEIGHT_BYTES:
        return 1
    return 2 if _cpu_threads() >= 2 else 1


def _weight_bytes(model: ResolvedModel) -> int:
    """The bytes of a model's weight files (its base's, for an adapter)."""
    folder = model.weights_path
    return sum(path.stat().st_size for pattern in ("*.safetensors", "*.bin") for path in folder.glob(pattern))


def _cpu_threads() -> int:
    """The threads torch uses for one process here (OMP_NUM_THREADS, else the cores it may run on)."""
    import torch

    return torch.get_num_threads()


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Conversation indices in batches of similar prompt length, longest first: the same batches however many
    processes answer them."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return [order[start:start + batch_size] for start in range(0, len(order), batch_size)]


@contextlib.contextmanager
def _threads(count: int | None):
    """Torch's thread count set to `count` for the block (None: left alone)."""
    if count is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def quiet_libraries(verbose: bool) -> None:
    """Oumi's INFO logs and tqdm bars drown the report unless --verbose."""
    import logging

    if verbose:
        return
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    for name in ("oumi", "transformers", "datasets"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # Oumi's NATIVE engine passes disable= to tqdm itself, so TQDM_DISABLE alone does not reach it.
    import oumi.inference.native_text_inference_engine as native

    native.tqdm = lambda iterable, **_: iterable


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
