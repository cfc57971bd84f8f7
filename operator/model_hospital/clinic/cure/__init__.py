"""The Pharmacist: cure data from a diagnosis.

    templates  symptom-specific cure wording (openings, tailored cores, safe alternatives, framings)
    synthesis  the SynthesisConfig YAML we write and run through `oumi synth`
    quality    the judges' filter and exact / near-duplicate removal
    replay     benign look-alikes and skill items answered well, so the cure does not teach refusing
    writers    cure_sft.jsonl, cure_dpo.jsonl and replay_sft.jsonl in Oumi's formats
    pipeline   make_cure: all of the above, in order
    hospital_rewards  the judges as GRPO reward functions registered with Oumi
"""

from model_hospital.clinic.cure.pipeline import CureReport, CureSettings, make_cure

__all__ = ["CureReport", "CureSettings", "make_cure"]
