"""The synth stage (the Pharmacist): a diagnosis in, cure_sft.jsonl and cure_dpo.jsonl out."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table

from model_hospital.api.stages import StageResult, SynthInput
from model_hospital.clinic.cure import CureSettings, make_cure
from model_hospital.clinic.cure.inputs import load_diagnosis, patient_weights

PREVIEW_ROWS = 6


def run(stage_input: SynthInput, output_dir, console: Console | None = None) -> StageResult:
    """Makes the cure data of a diagnosis under output_dir; the summary counts what was kept and dropped."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    output_dir = Path(output_dir)
    console = console or Console(stderr=True)
    diagnosis = load_diagnosis(stage_input.diagnosis)
    settings = CureSettings(min_examples=stage_input.min_examples, max_examples=stage_input.max_examples,
                            replay_share=stage_input.replay_share, teacher=stage_input.teacher, seed=stage_input.seed)
    reference = stage_input.model or patient_weights(diagnosis, stage_input.diagnosis)
    patient = _Patient(reference, diagnosis.generation)
    preview = _Preview(console)
    with preview:
        report = make_cure(diagnosis, output_dir, settings, answer_prompts=patient.answer,
                           render_prompt=patient.render, preview=preview.add,
                           diagnosis_path=stage_input.diagnosis, probe_files=stage_input.suites.probes)
    summary = report.summary
    console.print(f"cure data: [bold]{summary['sft']}[/] SFT rows ({summary['cure']} cure + {summary['replay']} "
                  f"replay, replay share {summary['replay_share']:.0%}), {summary['dpo']} DPO rows; "
                  f"{summary['dropped_by_filter']} dropped by the judges, {summary['duplicates']} duplicates, "
                  f"{summary['heldout_blocked']} held-out look-alikes blocked")
    return StageResult(stage="synth", ok=True, message=f"{summary['sft']} cure examples", summary=summary,
                       artifacts=report.artifacts,
                       provenance={"diagnosis": str(stage_input.diagnosis), "model": reference,
                                   "seed": str(stage_input.seed), "oumi": _oumi_version()})


class _Patient:
    """The patient, loaded on first use: answers replay prompts and renders prompts with its chat template."""

    def __init__(self, reference: str, generation):
        self.reference = reference
        self.generation = generation
        self._generator = None
        self._tokenizer = None

    def _load(self):
        from model_hospital.clinic.inference import Generator
        from model_hospital.clinic.models import resolve

        if self._generator is None:
            self._generator = Generator(resolve(self.reference), self.generation)
        return self._generator

    def answer(self, prompts: list[list[dict]], max_new_tokens: int, *, questions: bool = False) -> list[str]:
        """The patient's answers; `questions` (look-alikes, a probe's budget) go in probe-wide batches, as in diagnose."""
        from oumi.core.types.conversation import Conversation

        generator = self._load()
        # The Generator's own settings win over a per-call budget, so the budget goes there.
        ceiling = self.generation.max_new_tokens
        budget = min(max_new_tokens, ceiling) if ceiling else max_new_tokens
        generator.settings = self.generation.model_copy(update={"max_new_tokens": budget})
        return generator.generate([Conversation.from_dict({"messages": turns}) for turns in prompts],
                                  batch_size=self.generation.probe_batch() if questions else None)

    def render(self, prompt: str) -> str:
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            from model_hospital.clinic.models import resolve

            self._tokenizer = AutoTokenizer.from_pretrained(str(resolve(self.reference).weights_path))
        return self._tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                                   add_generation_prompt=True)


class _Preview:
    """A live table of the latest cure examples, on a terminal only (quiet in logs and Jobs)."""

    def __init__(self, console: Console):
        self.console = console
        self.rows: list[tuple[str, str, str]] = []
        self.live = Live(self._table(), console=console, refresh_per_second=4, transient=False) \
            if console.is_terminal else None

    def __enter__(self):
        if self.live:
            self.live.__enter__()
        return self

    def __exit__(self, *exc):
        if self.live:
            self.live.__exit__(*exc)

    def add(self, kind: str, prompt: str, answer: str) -> None:
        self.rows = (self.rows + [(kind, prompt, answer)])[-PREVIEW_ROWS:]
        if self.live:
            self.live.update(self._table())

    def _table(self) -> Table:
        table = Table(title="cure examples (latest)", expand=True)
        table.add_column("kind", width=7)
        table.add_column("prompt", ratio=1, overflow="fold")
        table.add_column("answer", ratio=2, overflow="fold")
        for kind, prompt, answer in self.rows:
            table.add_row(kind, prompt[:160], answer[:240])
        return table


def _oumi_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("oumi")
    except PackageNotFoundError:
        return "unknown"
