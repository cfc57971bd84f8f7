"""Answers from a model that is already served: any OpenAI-compatible chat API, through Oumi's remote engine.

A served patient is examined where it runs (vLLM, KServe, `transformers serve`):
the probes go to its `/chat/completions` with greedy decoding and each suite's
token budget, `num_workers` at a time. A request that still fails after its
retries stops the examination (Unavailable): a probe the server never answered
is no evidence either way, so it is never judged. The key is read by Oumi from
the environment variable the endpoint names; it is never logged or written.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from model_hospital.api.stages import GenerationSettings, ModelInfo, ServedEndpoint
from model_hospital.clinic.inference import DEFAULT_MAX_NEW_TOKENS, Progress, last_assistant_text
from model_hospital.errors import HospitalError, Unavailable

CHAT_COMPLETIONS = "/chat/completions"


def chat_url(endpoint: ServedEndpoint) -> str:
    """The endpoint's chat-completions URL: its base URL with /chat/completions, unless it names it already."""
    url = endpoint.url.rstrip("/")
    return url if url.endswith(CHAT_COMPLETIONS) else url + CHAT_COMPLETIONS


def served_info(endpoint: ServedEndpoint) -> ModelInfo:
    """What a diagnosis records about a served model: its name on the server and where it answered."""
    return ModelInfo(reference=endpoint.model, kind="served", path=chat_url(endpoint))


class ServedGenerator:
    """A served model answering batches of conversations, in order, like `inference.Generator`."""

    def __init__(self, endpoint: ServedEndpoint, settings: GenerationSettings | None = None):
        from oumi.core.configs import ModelParams, RemoteParams

        if endpoint.api_key_env and not os.environ.get(endpoint.api_key_env):
            raise HospitalError(f"the endpoint's key variable {endpoint.api_key_env} is not set: export it, "
                                "or leave the key option out for a server without a key")
        self.endpoint = endpoint
        self.settings = settings or GenerationSettings()
        self.remote_params = RemoteParams(
            api_url=chat_url(endpoint), api_key_env_varname=endpoint.api_key_env, num_workers=endpoint.num_workers,
            max_retries=endpoint.max_retries, connection_timeout=endpoint.timeout_seconds,
            use_adaptive_concurrency=False)
        self.model_params = ModelParams(model_name=endpoint.model, trust_remote_code=False)
        self.engine = _budgeted_engine_class()(self.model_params, remote_params=self.remote_params)

    def generate(self, conversations: Sequence, progress: Progress | None = None, *,
                 max_new_tokens: int | None = None, batch_size: int | None = None) -> list[str]:
        """The served model's answer to each conversation, in order; progress(done, total) after each chunk.

        `batch_size` has no meaning here (the endpoint's num_workers requests are in flight at once).
        """
        from oumi.core.configs import GenerationParams, InferenceConfig

        generation = GenerationParams(
            max_new_tokens=self.settings.max_new_tokens or max_new_tokens or DEFAULT_MAX_NEW_TOKENS,
            temperature=0.0, seed=self.settings.seed)
        # The config's model too: Oumi sends the config's model name, not the engine's, when a config is given.
        config = InferenceConfig(model=self.model_params, generation=generation, remote_params=self.remote_params)
        total = len(conversations)
        answers: list[str] = []
        chunk = max(self.endpoint.num_workers * 4, 1)
        for start in range(0, total, chunk):
            part = list(conversations[start:start + chunk])
            try:
                answered = self.engine.infer(part, config)
            except Exception as error:  # Oumi raises RuntimeError/ValueError/aiohttp errors after its retries
                raise Unavailable(f"the served model {self.endpoint.model} at {chat_url(self.endpoint)} did not "
                                  f"answer: {_first_line(error)}") from None
            if len(answered) != len(part):
                raise Unavailable(f"the served model at {chat_url(self.endpoint)} answered {len(answered)} of "
                                  f"{len(part)} requests")
            answers.extend(last_assistant_text(c) for c in answered)
            if progress:
                progress(len(answers), total)
        return answers


def _budgeted_engine_class():
    from oumi.inference import RemoteInferenceEngine

    class BudgetedRemoteEngine(RemoteInferenceEngine):
        """Oumi's OpenAI-compatible engine that also sends the token budget as `max_tokens`.

        Oumi sends only `max_completion_tokens`; vLLM reads both, but `transformers serve`
        and older servers read only `max_tokens` and would answer at any length.
        """

        def _convert_conversation_to_api_input(self, conversation, generation_params, model_params):
            api_input = super()._convert_conversation_to_api_input(conversation, generation_params, model_params)
            api_input["max_tokens"] = generation_params.max_new_tokens
            return api_input

    return BudgetedRemoteEngine


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:300]
