"""Generated tokens per second of our diagnose inference against two baselines, in one process.

    .venv/bin/python benchmarks/perf/diagnose_throughput.py [--model REF] [--probes N] [--max-new-tokens N]

The same probes (a mix of every suite) on the same model, greedy, fp32, CPU:
  1. ours: Oumi's NATIVE engine as `hospital diagnose` drives it (length-sorted
     batches, left padding, KV cache, end-of-turn stop token);
  2. Oumi's NATIVE engine with its default settings (batch size 1, no KV cache),
     with the same new-token budget;
  3. a one-prompt-at-a-time `model.generate` loop.
Prints tokens per second, the ratios (goal: >= 3x Oumi's default and >= 5x the
loop on a 2-core machine) and how many answers are identical across the three.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ["DO_NOT_TRACK"] = "1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bundled:smollm2-135m-instruct")
    parser.add_argument("--probes", type=int, default=48)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()

    import torch
    from oumi.core.configs import GenerationParams, InferenceConfig
    from oumi.inference import NativeTextInferenceEngine

    from model_hospital.api.common import Symptom
    from model_hospital.api.stages import GenerationSettings
    from model_hospital.clinic.inference import Generator, model_params
    from model_hospital.clinic.models import resolve
    from model_hospital.clinic.probes import load_suite, select
    from model_hospital.stages.diagnose import quiet_libraries

    quiet_libraries(verbose=False)
    per_suite = max(args.probes // len(Symptom), 1)
    probes = [p for s in Symptom for p in select(load_suite(s), budget=per_suite)][: args.probes]
    conversations = [p.to_conversation() for p in probes]
    model = resolve(args.model)
    settings = GenerationSettings(batch_size=args.batch_size, max_new_tokens=args.max_new_tokens)
    print(f"model {model.reference}, {len(conversations)} probes, {args.max_new_tokens} new tokens max, "
          f"torch threads {torch.get_num_threads()}")

    ours = Generator(model, settings)
    tokenizer = ours.tokenizer

    def tokens(answers: list[str]) -> int:
        return sum(len(tokenizer(a, add_special_tokens=False).input_ids) + 1 for a in answers)

    results = {}
    started = time.perf_counter()
    results["ours"] = (ours.generate(conversations), time.perf_counter() - started)

    default_engine = NativeTextInferenceEngine(model_params(model, settings))
    default_config = InferenceConfig(generation=GenerationParams(max_new_tokens=args.max_new_tokens))
    started = time.perf_counter()
    answered = default_engine.infer(conversations, default_config)
    results["oumi-default"] = ([c.messages[-1].content.strip() for c in answered], time.perf_counter() - started)

    hf_model, hf_tokenizer = ours.torch_model, tokenizer
    stop = ours._stop_ids
    loop_answers = []
    started = time.perf_counter()
    with torch.inference_mode():
        for conversation in conversations:
            text = hf_tokenizer.apply_chat_template(
                [{"role": m.role.value, "content": m.content} for m in conversation.messages],
                tokenize=False, add_generation_prompt=True)
            encoded = hf_tokenizer(text, return_tensors="pt")
            output = hf_model.generate(**encoded, max_new_tokens=args.max_new_tokens, do_sample=False,
                                       eos_token_id=stop, pad_token_id=hf_tokenizer.pad_token_id)
            loop_answers.append(hf_tokenizer.decode(output[0, encoded.input_ids.shape[1]:],
                                                    skip_special_tokens=True).strip())
    results["loop"] = (loop_answers, time.perf_counter() - started)

    rates = {}
    for name, (answers, seconds) in results.items():
        count = tokens(answers)
        rates[name] = count / seconds
        print(f"{name:13s} {count:6d} tokens in {seconds:7.1f} s = {rates[name]:7.1f} tokens/s")
    print(f"ours / oumi-default: {rates['ours'] / rates['oumi-default']:.2f}x (goal >= 3x)")
    print(f"ours / loop:         {rates['ours'] / rates['loop']:.2f}x (goal >= 5x)")
    same_default = sum(a == b for a, b in zip(results["ours"][0], results["oumi-default"][0]))
    same_loop = sum(a == b for a, b in zip(results["ours"][0], results["loop"][0]))
    print(f"identical greedy answers: ours = oumi-default {same_default}/{len(probes)}, "
          f"ours = loop {same_loop}/{len(probes)}")


if __name__ == "__main__":
    main()
