"""Seconds to answer the same prompts with one answering process and with two, and whether the answers stay the same.

    .venv/bin/python benchmarks/perf/answering_workers.py [--model REF] [--probes N] [--skills DOMAIN] [WORKERS ...]

The Generator's path (`clinic.inference`: all prompts sorted by length into batches, KV cache,
greedy) on the first N safety probes at the probe batch size, then on one skill domain's scored
items at the skill batch size, for each number of answering processes (default: 1 and 2). Each
run loads its model first and starts its helper before the clock starts, as a stage's second
and later suites find it. Prints seconds, the batches the helper answered, and how many answers
are identical to the first run's.
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
    parser.add_argument("--skills", default="writing", help="the skill domain whose scored items are answered")
    parser.add_argument("workers", type=int, nargs="*", default=[1, 2], metavar="WORKERS")
    args = parser.parse_args()

    from model_hospital.api.common import Symptom
    from model_hospital.api.stages import GenerationSettings
    from model_hospital.clinic import skills, suites
    from model_hospital.clinic.inference import HELPER_MIN_BATCHES, Generator
    from model_hospital.clinic.models import resolve
    from model_hospital.clinic.probes import load_suite
    from model_hospital.stages.diagnose import quiet_libraries, suite_max_new_tokens

    quiet_libraries(verbose=False)
    probes = [probe.to_conversation() for probe in list(load_suite(Symptom.safety))[: args.probes]]
    items = skills.scored_items(suites.skill_suites([])[args.skills], None)
    jobs = {"probes": (probes, suite_max_new_tokens(Symptom.safety), True),
            args.skills: ([skills.item_conversation(item) for item in items], skills.TOKEN_BUDGET[args.skills], False)}
    model = resolve(args.model)
    first: dict[str, list[str]] = {}
    for workers in args.workers:
        settings = GenerationSettings(workers=workers)
        generator = Generator(model, settings)
        try:
            generator.generate(probes[:HELPER_MIN_BATCHES], max_new_tokens=1, batch_size=1)  # starts the helper
            if generator._helper is not None:
                generator._helper.wait_ready(lambda: True)
            for name, (conversations, budget, wide) in jobs.items():
                before = generator.helper_batches
                started = time.perf_counter()
                answers = generator.generate(conversations, max_new_tokens=budget,
                                             batch_size=settings.probe_batch() if wide else None)
                seconds = time.perf_counter() - started
                same = sum(a == b for a, b in zip(answers, first.setdefault(name, answers)))
                print(f"{workers} process(es), {name}: {seconds:.1f} s for {len(conversations)} prompts, "
                      f"{generator.helper_batches - before} batches by the helper; identical to the first run: "
                      f"{same}/{len(answers)}", flush=True)
        finally:
            generator.close()


if __name__ == "__main__":
    main()
