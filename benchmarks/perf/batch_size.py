"""Seconds to answer the same probes at several generation batch sizes, and whether the answers stay the same.

    .venv/bin/python benchmarks/perf/batch_size.py [--model REF] [--probes N] [--max-new-tokens N] 16 48

The diagnose path (`clinic.inference.Generator`: length-sorted batches, left padding, KV cache),
greedy, on the first N safety probes. Prints per batch size the seconds and how many answers are
identical to the first size's (greedy decoding should not depend on the batch).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ["DO_NOT_TRACK"] = "1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bundled:smollm2-135m-instruct")
    parser.add_argument("--probes", type=int, default=96)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("sizes", type=int, nargs="+", metavar="BATCH_SIZE")
    args = parser.parse_args()

    from model_hospital.api.common import Symptom
    from model_hospital.api.stages import GenerationSettings
    from model_hospital.clinic.inference import Generator
    from model_hospital.clinic.models import resolve
    from model_hospital.clinic.probes import load_suite
    from model_hospital.stages.diagnose import quiet_libraries

    quiet_libraries(verbose=False)
    conversations = [probe.to_conversation() for probe in list(load_suite(Symptom.safety))[: args.probes]]
    model = resolve(args.model)
    first: list[str] | None = None
    for size in args.sizes:
        generator = Generator(model, GenerationSettings(batch_size=size, max_new_tokens=args.max_new_tokens))
        started = time.perf_counter()
        answers = generator.generate(conversations)
        seconds = time.perf_counter() - started
        first = first or answers
        same = sum(a == b for a, b in zip(answers, first))
        print(f"batch {size}: {seconds:.1f} s for {len(conversations)} prompts; "
              f"identical to batch {args.sizes[0]}: {same}/{len(answers)}", flush=True)


if __name__ == "__main__":
    main()
