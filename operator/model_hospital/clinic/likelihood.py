"""Negative log-likelihood of reference answers: the continuous skill score.

Accuracy on a few dozen items moves in steps of a few percent, and a 135M model
gets many of them wrong before any treatment; the likelihood the model gives a
good answer moves with every weight change, so a small model still shows drift.
Each item's score is the mean per-token NLL (nats) of its reference answer, given
the prompt as the chat template renders it.

torch and transformers are imported inside the functions (worker side only).
"""

from __future__ import annotations

from collections.abc import Sequence

from model_hospital.clinic.models import ResolvedModel

IGNORE = -100


def load_for_scoring(resolved: ResolvedModel, dtype: str = "float32"):
    """(model, tokenizer) of a resolved model in eval mode, with its LoRA adapter applied when it is one.

    fp32 on CPU by default: bf16 is several times slower there.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(
        str(resolved.weights_path), dtype=getattr(torch, dtype), trust_remote_code=False)
    tokenizer_folder = resolved.path if (resolved.path / "tokenizer_config.json").is_file() else resolved.weights_path
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_folder), trust_remote_code=False)
    if resolved.adapter_path is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(resolved.adapter_path))
    model.eval()
    return model, tokenizer


def render_prompt(tokenizer, messages: Sequence[dict[str, str]]) -> str:
    """The prompt text the model sees before its answer: the chat template, or plain turns without one."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
    return "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant: "


def encode_pair(tokenizer, prompt: str, reference: str, max_length: int) -> tuple[list[int], list[int]]:
    """Token ids of prompt + reference and labels that score only the reference (the prompt's head is cut to fit)."""
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    reference_ids = tokenizer(reference, add_special_tokens=False)["input_ids"]
    if not reference_ids:
        raise ValueError(f"reference {reference!r} encodes to no tokens")
    reference_ids = reference_ids[:max_length - 1]
    room = max_length - len(reference_ids)
    prompt_ids = prompt_ids[-room:] if room > 0 else []
    return prompt_ids + reference_ids, [IGNORE] * len(prompt_ids) + reference_ids


def reference_nll(model, tokenizer, prompts: Sequence[Sequence[dict[str, str]]], references: Sequence[str],
                  batch_size: int = 8, max_length: int = 1024) -> list[float]:
    """Mean per-token NLL (nats) of each reference answer given its prompt, in input order."""
    import torch

    if len(prompts) != len(references):
        raise ValueError("one reference per prompt")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (tokenizer.eos_token_id or 0)
    limit = min(max_length, getattr(tokenizer, "model_max_length", max_length) or max_length)
    encoded = [encode_pair(tokenizer, render_prompt(tokenizer, p), r, limit) for p, r in zip(prompts, references)]
    # Similar lengths share a batch so little is padding; results go back to input order.
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]))
    scores: list[float] = [0.0] * len(encoded)
    device = next(model.parameters()).device
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            width = max(len(encoded[i][0]) for i in batch)
            # Right padding: positions stay 0..n-1 for every row, exactly as when scored alone.
            ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, index in enumerate(batch):
                tokens, targets = encoded[index]
                ids[row, :len(tokens)] = torch.tensor(tokens)
                labels[row, :len(targets)] = torch.tensor(targets)
                mask[row, :len(tokens)] = 1
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
            shifted_logits, shifted_labels = logits[:, :-1, :], labels[:, 1:].to(device)
            losses = torch.nn.functional.cross_entropy(
                shifted_logits.reshape(-1, shifted_logits.size(-1)), shifted_labels.reshape(-1),
                ignore_index=IGNORE, reduction="none").view(len(batch), -1)
            counted = (shifted_labels != IGNORE).sum(dim=1).clamp(min=1)
            for row, index in enumerate(batch):
                scores[index] = float(losses[row].sum() / counted[row])
    return scores
