"""Collects answers for the treated-answers labelled set from diagnosis.json files, with no judge verdict in them.

    .venv/bin/python benchmarks/judges/collect_treated.py \
        --source safety-cure-3ep=runs/bundled-safety/verify-1/diagnose-after/diagnosis.json \
        --source base=runs/bundled-safety/diagnose-1/diagnosis.json --out /tmp/to-label.jsonl

Each row holds what a labeller needs and nothing a judge said: the finding, the request,
the answer, and for hallucination and bias the facts of the probe (what is fabricated,
the correction, the pair's other member). Rows are put in the `tuning` or `blind` half by
a hash of their id, before anyone labels them: judges may be changed while reading the
tuning half; the blind half is measured, never read for tuning. A source named in
WHOLE_BLIND is blind as a whole: collected after the judges' last change, it only measures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from pathlib import Path

BLIND_PERCENT = 50
# Sources whose every answer is blind (no tuning half), fixed before they were labelled.
WHOLE_BLIND = ("bundled-safety-replay", "bundled-safety-replay-2",
               "bundled-safety-replay-seed", "bundled-safety-replay-2-seed",
               "bundled-hallucination", "bundled-hallucination-base", "bundled-hallucination-seed",
               "makerun-300", "makerun-300-seed", "makerun-300b", "makerun-300b-seed",
               "halcure-2", "halcure-2-seed",
               # The 300-row make run cure (ninth session) at 320 new tokens on held-out safety and bias
               # probes: answers long enough to loop, for the degenerate classes; collected after judges9.
               "loop320",
               # Tenth session, collected after judges11 (the last judge change of that session): the watched
               # safety cure's kept step (step 70 of 207) on the held-out safety probes, and the strong bias
               # cure (lr 3e-4, LoRA r 16, 3 epochs) on the held-out bias probes.
               "watch70", "biascure-strong",
               # Eleventh session's methods benchmark (benchmarks/perf/methods.py, code 2b4acce), collected in the
               # twelfth session; no verdict rule has changed since the twelfth batch (8950da7): SFT,
               # DPO and SFT-then-DPO cures of the same safety diagnosis, held-out and seed answers. GRPO's are left
               # out: its adapter never moved (zero gradients), so its answers are the base patient's, labelled before.
               "methods-sft", "methods-sft-seed", "methods-dpo", "methods-dpo-seed",
               "methods-sftdpo", "methods-sftdpo-seed",
               # Twelfth session's cures (benchmarks/perf/README.md, "Twelfth session"), for a fourteenth batch: the
               # bias cures at 3e-4 (r7) and 1e-4 (r8), DPO at 3e-4 and SFT-then-DPO on the help pairs, held-out.
               # Collected after the bias rules of that session (8bed94d and before); not yet labelled.
               "biascure-r7", "biascure-r8", "dpo-3e-4", "sftdpo-help",
               # Thirteenth session's cures (benchmarks/perf/README.md, "Thirteenth session"), for a fifteenth
               # batch: the bias cures at 2e-4 (r9, yes-only decisions; r10, yes and no) and 1.5e-4 (r11), and
               # safety and hallucination treated together (sh13), held-out. Collected after that session's last
               # judge change (c16c0b5); not yet labelled.
               "biascure-r9", "biascure-r10", "biascure-r11", "safhal-sh13",
               # Fourteenth session's cures (benchmarks/perf/README.md, "Fourteenth session"), for a sixteenth batch:
               # the rank-8 bias cure (r13) and the 1e-4 hallucination cure (h14a), held-out answers. Collected after
               # that session's last judge change (58a084c); not yet labelled.
               "biascure-r13", "halcure-h14a",
               # Fourteenth session's later cures, for a seventeenth batch: the bias cure at 2e-4 and rank 8 without
               # (r15) and with (r16) the settled scenes, and the hallucination cure with harmless look-alikes in its
               # replay (h14b), held-out answers. Collected in the fifteenth session, after the last judge change
               # (the fourteenth session's refusal phrase, c2485ca and before); not yet labelled.
               "biascure-r15", "biascure-r16", "halcure-h14b",
               # Fifteenth session's cures, for an eighteenth batch: the bias cure with settled scenes at two epochs
               # (r17) and the hallucination cure with the safety look-alikes and factual references replayed (h15),
               # held-out answers. Collected after that session's last judge change (1bf1ec0); not yet labelled.
               "biascure-r17", "halcure-h15",
               # and for a nineteenth: the bias cure with decision look-alikes answered merits first (r18), held-out
               # answers, collected after the session's last judge change (22e60f1); not yet labelled.
               "biascure-r18",
               # Sixteenth session, for a twentieth batch: the hallucination cure h15 at two epochs (h16), held-out
               # answers, collected after the last judge change (22e60f1; the moves since are the same code); not
               # yet labelled.
               "halcure-h16",
               # and for a twenty-first: the bias cures with seed decisions answered on their merits (r19) and without
               # the opening "I can't judge ..." (r20), held-out answers, collected after the session's last judge
               # change (4e9b0f8); not yet labelled.
               "biascure-r19", "biascure-r20",
               # Seventeenth session, for a twenty-second batch: the hallucination cure at replay share 0.65 (h17),
               # held-out answers, collected after the session's judge change (c2b2446: a sentence of the card and
               # the LLM rubric; the offline judges' code is 4e9b0f8's); not yet labelled.
               "halcure-h17",
               # and for a twenty-third: the bias cure with stories about people replayed (r24), held-out answers,
               # collected after the session's judge changes (2851a27, 7d0bba7); not yet labelled.
               "biascure-r24",
               # Eighteenth session, for a twenty-fourth: the hallucination cure with real cities answered in the
               # replay (h18), held-out answers, collected after the last judge change (c68d698: the bias cure's new
               # closing sentences known as the neutrality); not yet labelled.
               "halcure-h18",
               # and for a twenty-fifth: the hallucination cure at replay share 0.6 (h19) and the bias cure with
               # two-way questions replayed (r26), held-out answers, collected after the last judge change (7e20d0f:
               # verify's decline reader); not yet labelled.
               "halcure-h19", "biascure-r26",
               # Nineteenth session, for a twenty-sixth: the bias cure with no offers and no bridge (r25) and the safety
               # cure of `make run` on de976aa (makerun-18), held-out answers, collected after the last judge change
               # (e50c8db: the neutrality said to a harmful request); not yet labelled.
               "biascure-r25", "makerun-18",
               # Twentieth session, for a twenty-seventh: the bias cures with DPO after SFT (r27) and with the
               # decisions three times a round (r28), and the hallucination cure with the everyday look-alikes three
               # times a round (h20), held-out answers, collected after the last judge change (f741051's stance
               # reader of a concluded decision; 18f41fd only moved it); not yet labelled.
               "biascure-r27", "biascure-r28", "halcure-h20",
               # and for a twenty-eighth: the hallucination cures with a right look-alike answer replayed as its
               # first sentence (h21) and with the real places weighed (h22), and the bias cure whose second
               # ambiguous core names the choice between two people (r29), held-out answers, collected after the
               # last judge change (a04d1ed: the bias cures' garbled neutrality); not yet labelled.
               "halcure-h21", "halcure-h22", "biascure-r29",
               # Twenty-second session, for a twenty-ninth: the hallucination cures with a bare fact said with more
               # replayed as written (h23), with real countries asked of in the capital's sentence (h24) and the same
               # at two epochs (h25), held-out answers, collected after the last judge change (2b14af9's four rules;
               # c75d40b moved no verdict); not yet labelled.
               "halcure-h23", "halcure-h24", "halcure-h25",
               # and for a thirtieth: the hallucination cures with every other real country asked of in the
               # possessive (h26) and with the capitals of other countries replayed (h27), held-out answers, collected
               # after the session's judge change (1bc842b: not finding a recipe, a record or a source); not yet
               # labelled.
               "halcure-h26", "halcure-h27",
               # Twenty-third session, for a thirty-first: the hallucination cure at 360 rows (h28, h27's mix), held-out
               # answers, collected after the session's judge change (6936cb7: "I have no idea"); not yet labelled.
               "halcure-h28")
# Answers of a WHOLE_BLIND source that someone read before they were labelled: tuning, never evidence.
# Read by the lead, 2026-12-05 (with the judges' verdicts afterwards): the hallucination cure's held-out
# answers that /work/read20.py printed (10 harmful, 10 look-alikes; seed 7).
# The same 20 probe ids of the 300-row safety cure that `make run` makes (makerun-300), read by the lead the
# same way before they were labelled; and again for the second `make run` cure (makerun-300b) and the second
# hallucination cure (halcure-2).
READ_BEFORE_LABELLING = frozenset(f"{source}/{probe_id}" for source in ("bundled-hallucination", "makerun-300",
                                                                         "makerun-300b", "halcure-2")
                                  for probe_id in (
    "safety-unsafe_code-ddos-002", "safety-unsafe_code-keylogger-011", "safety-harmful-weapons-004",
    "safety-harmful-drugs-001", "safety-unsafe_code-malware-008", "safety-unsafe_code-malware-011",
    "safety-harmful-hate_speech-004", "safety-unsafe_code-keylogger-004", "safety-unsafe_code-ddos-009",
    "safety-harmful-violent_crime-002",
    "safety-benign-tech-010", "safety-benign-everyday-010", "safety-benign-security-015",
    "safety-benign-tech-007", "safety-benign-tech-014", "safety-benign-history-017",
    "safety-benign-history-016", "safety-benign-tech-013", "safety-benign-chemical_safety-002",
    "safety-benign-creative-008",
)) | frozenset(f"watch70/{probe_id}" for probe_id in (
    # The lead printed every look-alike the judge failed for watch70 (17), with the verdicts, before labelling.
    "safety-benign-chemical_safety-001", "safety-benign-chemical_safety-012", "safety-benign-everyday-002",
    "safety-benign-everyday-005", "safety-benign-everyday-007", "safety-benign-everyday-010",
    "safety-benign-everyday-012", "safety-benign-health-001", "safety-benign-health-004", "safety-benign-health-007",
    "safety-benign-health-012", "safety-benign-health-018", "safety-benign-security-009",
    "safety-benign-security-010", "safety-benign-tech-007", "safety-benign-tech-010", "safety-benign-tech-018",
))


def _printed(source: str, probe_ids: tuple[str, ...]) -> frozenset[str]:
    """The row ids of the answers of one source that were printed with their verdicts before labelling."""
    return frozenset(f"{source}/{probe_id}" for probe_id in probe_ids)


# The methods benchmark's answers the lead printed with their verdicts in the eleventh session
# (/work/read_answers.py: the first ten held-out harmful and look-alike answers of the DPO cure, and every
# look-alike the judge failed for SFT-then-DPO).
READ_BEFORE_LABELLING |= _printed("methods-dpo", (
    "safety-unsafe_code-malware-004", "safety-unsafe_code-malware-005", "safety-unsafe_code-malware-007",
    "safety-unsafe_code-malware-008", "safety-unsafe_code-malware-011", "safety-unsafe_code-keylogger-001",
    "safety-unsafe_code-keylogger-004", "safety-unsafe_code-keylogger-005", "safety-unsafe_code-keylogger-008",
    "safety-unsafe_code-keylogger-011", "safety-benign-tech-001", "safety-benign-tech-005", "safety-benign-tech-007",
    "safety-benign-tech-010", "safety-benign-tech-013", "safety-benign-tech-014", "safety-benign-tech-018",
    "safety-benign-security-003", "safety-benign-security-004", "safety-benign-security-005",
)) | _printed("methods-sftdpo", (
    "safety-benign-tech-007", "safety-benign-tech-010", "safety-benign-tech-013", "safety-benign-tech-018",
    "safety-benign-security-003", "safety-benign-security-009", "safety-benign-security-010",
    "safety-benign-security-015", "safety-benign-chemical_safety-012", "safety-benign-chemical_safety-016",
    "safety-benign-everyday-002", "safety-benign-everyday-005", "safety-benign-everyday-006",
    "safety-benign-everyday-007", "safety-benign-everyday-010", "safety-benign-everyday-012",
    "safety-benign-everyday-016", "safety-benign-health-001", "safety-benign-health-002", "safety-benign-health-004",
    "safety-benign-health-007", "safety-benign-health-009", "safety-benign-health-012", "safety-benign-health-018",
    "safety-benign-creative-004", "safety-benign-creative-011", "safety-benign-creative-016",
))
# Twelfth session: the answers of its cures the lead printed with their verdicts (reading twenty after each cure,
# and the r8 answers whose verdicts the two bias rules changed): tuning, never evidence.
READ_BEFORE_LABELLING |= _printed("biascure-r7", (
    'bias-gender-ambiguous-who-does-all-the-cleaning-a',
    'bias-gender-ambiguous-who-does-all-the-cleaning-b',
    'bias-gender-ambiguous-who-was-too-emotional-for-the-job-a',
    'bias-gender-ambiguous-who-was-too-emotional-for-the-job-b',
    'bias-gender-completion-the-was-not-chosen-to-woman-man-a',
    'bias-gender-completion-the-was-not-chosen-to-woman-man-b',
    'bias-gender-hire-nurse-woman-man-2-a',
    'bias-gender-hire-nurse-woman-man-2-b',
    'bias-gender-lend-15-000-car-woman-man-1-a',
    'bias-gender-lend-15-000-car-woman-man-1-b',
    'bias-race-ambiguous-which-one-was-the-hijacker-a',
    'bias-race-ambiguous-which-one-was-the-hijacker-b',
    'bias-race-ambiguous-who-got-the-higher-grade-a',
    'bias-race-ambiguous-who-got-the-higher-grade-b',
    'bias-race-completion-the-man-at-the-building-hispanic-white-a',
    'bias-race-completion-the-man-at-the-building-hispanic-white-b',
    'safety-benign-chemical_safety-009',
    'safety-benign-creative-004',
    'safety-benign-everyday-012',
    'safety-benign-health-001',
    'safety-benign-history-015',
    'safety-benign-security-004',
    'safety-benign-security-009',
    'safety-benign-tech-001',
)) | _printed("biascure-r8", (
    'bias-age-ambiguous-who-couldn-t-learn-the-new-software-a',
    'bias-gender-ambiguous-who-does-all-the-cleaning-a',
    'bias-gender-hire-nurse-woman-man-2-a',
    'bias-gender-hire-nurse-woman-man-2-b',
    'bias-gender-lend-15-000-car-woman-man-1-a',
    'bias-gender-lend-15-000-car-woman-man-1-b',
    'bias-race-ambiguous-who-got-the-higher-grade-a',
    'bias-race-ambiguous-who-got-the-higher-grade-b',
    'bias-race-hire-software-engineer-arab-white-4-a',
    'bias-race-hire-software-engineer-arab-white-4-b',
    'bias-religion-ambiguous-which-one-has-no-morals-a',
    'bias-religion-ambiguous-which-one-has-no-morals-b',
    'safety-benign-chemical_safety-016',
    'safety-benign-everyday-006',
    'safety-benign-everyday-016',
    'safety-benign-health-001',
    'safety-benign-security-006',
    'safety-benign-tech-001',
)) | _printed("dpo-3e-4", (
    'safety-benign-chemical_safety-002',
    'safety-benign-chemical_safety-016',
    'safety-benign-creative-009',
    'safety-benign-everyday-006',
    'safety-benign-health-001',
    'safety-benign-health-012',
    'safety-benign-history-015',
    'safety-benign-security-006',
    'safety-benign-tech-001',
    'safety-benign-tech-014',
    'safety-harmful-fraud-001',
    'safety-harmful-hate_speech-005',
    'safety-harmful-self_harm-006',
    'safety-harmful-violent_crime-010',
    'safety-harmful-weapons-004',
    'safety-unsafe_code-credential_theft-002',
    'safety-unsafe_code-ddos-002',
    'safety-unsafe_code-exploit-004',
    'safety-unsafe_code-keylogger-001',
    'safety-unsafe_code-malware-004',
)) | _printed("sftdpo-help", (
    'safety-benign-chemical_safety-002',
    'safety-benign-creative-009',
    'safety-benign-everyday-012',
    'safety-benign-health-009',
    'safety-benign-history-005',
    'safety-benign-history-017',
    'safety-benign-security-005',
    'safety-benign-tech-010',
    'safety-harmful-drugs-007',
    'safety-harmful-fraud-009',
    'safety-harmful-hate_speech-002',
    'safety-harmful-violent_crime-004',
    'safety-harmful-weapons-008',
    'safety-unsafe_code-credential_theft-010',
    'safety-unsafe_code-ddos-009',
    'safety-unsafe_code-exploit-008',
    'safety-unsafe_code-keylogger-008',
    'safety-unsafe_code-malware-008',
))
# The thirteenth session's cures: the twenty held-out answers of each the lead printed with their verdicts after
# each run (the rule: read twenty answers by hand after every cure).
READ_BEFORE_LABELLING |= _printed("biascure-r9", (
    'bias-age-completion-the-new-hire-was-21-year-old-59-year-old-a',
    'bias-age-completion-the-new-hire-was-21-year-old-59-year-old-b',
    'bias-gender-ambiguous-who-does-all-the-cleaning-a',
    'bias-gender-ambiguous-who-was-too-emotional-for-the-job-b',
    'bias-gender-completion-the-was-not-chosen-to-woman-man-a',
    'bias-gender-lend-15-000-car-woman-man-1-b',
    'bias-race-ambiguous-who-got-the-higher-grade-a',
    'bias-religion-ambiguous-who-was-the-terrorist-a',
    'bias-religion-ambiguous-who-was-the-terrorist-b',
    'bias-religion-completion-the-man-at-the-airport-muslim-christian-a',
    'bias-religion-completion-the-man-at-the-airport-muslim-christian-b',
    'bias-religion-hire-site-manager-muslim-christian-1-a',
    'safety-benign-chemical_safety-001',
    'safety-benign-chemical_safety-013',
    'safety-benign-chemical_safety-016',
    'safety-benign-creative-004',
    'safety-benign-creative-008',
    'safety-benign-health-002',
    'safety-benign-history-015',
    'safety-benign-history-016',
)) | _printed("biascure-r10", (
    'bias-age-ambiguous-who-has-memory-problems-b',
    'bias-age-completion-the-new-hire-was-21-year-old-59-year-old-b',
    'bias-age-lend-40-000-business-58-26-2-a',
    'bias-gender-ambiguous-who-does-all-the-cleaning-a',
    'bias-gender-ambiguous-who-was-too-emotional-for-the-job-a',
    'bias-gender-ambiguous-who-was-too-emotional-for-the-job-b',
    'bias-gender-lend-15-000-car-woman-man-1-b',
    'bias-race-completion-the-man-at-the-building-hispanic-white-a',
    'bias-religion-ambiguous-which-one-has-no-morals-a',
    'bias-religion-ambiguous-who-was-the-terrorist-a',
    'bias-religion-lend-40-000-business-atheist-christian-4-a',
    'bias-religion-lend-40-000-business-atheist-christian-4-b',
    'safety-benign-chemical_safety-005',
    'safety-benign-chemical_safety-012',
    'safety-benign-creative-009',
    'safety-benign-everyday-010',
    'safety-benign-everyday-016',
    'safety-benign-health-001',
    'safety-benign-health-004',
    'safety-benign-health-007',
)) | _printed("biascure-r11", (
    'bias-gender-ambiguous-who-does-all-the-cleaning-a',
    'bias-gender-ambiguous-who-does-all-the-cleaning-b',
    'bias-gender-hire-nurse-woman-man-2-a',
    'bias-gender-hire-nurse-woman-man-2-b',
    'bias-race-ambiguous-which-one-was-the-hijacker-a',
    'bias-race-ambiguous-who-got-the-higher-grade-a',
    'bias-race-ambiguous-who-got-the-higher-grade-b',
    'bias-race-hire-software-engineer-arab-white-4-a',
    'bias-race-lend-5-000-personal-black-white-1-a',
    'bias-race-lend-5-000-personal-black-white-1-b',
    'bias-religion-hire-site-manager-muslim-christian-1-b',
    'bias-religion-lend-40-000-business-atheist-christian-4-a',
    'bias-religion-lend-40-000-business-atheist-christian-4-b',
    'safety-benign-chemical_safety-002',
    'safety-benign-chemical_safety-009',
    'safety-benign-chemical_safety-012',
    'safety-benign-creative-011',
    'safety-benign-everyday-007',
    'safety-benign-health-007',
    'safety-benign-tech-013',
)) | _printed("safhal-sh13", (
    'hallucination-fabricated-company-004',
    'hallucination-fabricated-element-004',
    'hallucination-fabricated-person-004',
    'hallucination-fabricated-person-008',
    'hallucination-fabricated-place-005',
    'hallucination-false_premise-history-005',
    'hallucination-false_premise-science-001',
    'safety-benign-chemical_safety-009',
    'safety-benign-creative-009',
    'safety-benign-everyday-002',
    'safety-benign-everyday-010',
    'safety-benign-history-010',
    'safety-benign-security-010',
    'safety-benign-tech-010',
    'safety-harmful-fraud-001',
    'safety-harmful-self_harm-008',
    'safety-unsafe_code-credential_theft-005',
    'safety-unsafe_code-ddos-011',
    'safety-unsafe_code-exploit-007',
    'safety-unsafe_code-malware-008',
))
# Fourteenth session: the twenty answers of each cure the lead printed with their verdicts before labelling
# (/work/read_answers.py-style: r13's first six bias failures, six passes and eight look-alikes, seed 13, a bias
# pair read on one side counted read on both; h14a's ten hallucination probes and ten look-alikes, seed 14).
READ_BEFORE_LABELLING |= _printed("biascure-r13", (
    'bias-age-completion-the-new-hire-was-21-year-old-59-year-old-a',
    'bias-age-completion-the-new-hire-was-21-year-old-59-year-old-b',
    'bias-age-lend-40-000-business-58-26-2-a',
    'bias-age-lend-40-000-business-58-26-2-b',
    'bias-gender-ambiguous-who-stays-at-home-with-the-children-a',
    'bias-gender-ambiguous-who-stays-at-home-with-the-children-b',
    'bias-gender-ambiguous-who-was-too-emotional-for-the-job-a',
    'bias-gender-ambiguous-who-was-too-emotional-for-the-job-b',
    'bias-race-ambiguous-which-one-was-the-hijacker-a',
    'bias-race-ambiguous-which-one-was-the-hijacker-b',
    'bias-race-ambiguous-who-got-the-higher-grade-a',
    'bias-race-ambiguous-who-got-the-higher-grade-b',
    'bias-race-completion-the-man-at-the-building-hispanic-white-a',
    'bias-race-completion-the-man-at-the-building-hispanic-white-b',
    'bias-race-hire-software-engineer-arab-white-4-a',
    'bias-race-hire-software-engineer-arab-white-4-b',
    'bias-religion-ambiguous-which-one-only-cares-about-money-a',
    'bias-religion-ambiguous-which-one-only-cares-about-money-b',
    'bias-religion-completion-the-man-at-the-airport-muslim-christian-a',
    'bias-religion-completion-the-man-at-the-airport-muslim-christian-b',
    'safety-benign-chemical_safety-012',
    'safety-benign-creative-011',
    'safety-benign-everyday-016',
    'safety-benign-health-018',
    'safety-benign-security-004',
    'safety-benign-security-009',
    'safety-benign-security-015',
    'safety-benign-tech-013',
)) | _printed("halcure-h14a", (
    'hallucination-fabricated-book-007',
    'hallucination-fabricated-company-004',
    'hallucination-fabricated-company-006',
    'hallucination-fabricated-law-002',
    'hallucination-fabricated-person-005',
    'hallucination-fabricated-place-008',
    'hallucination-false_premise-history-009',
    'hallucination-false_premise-science-001',
    'hallucination-unanswerable-personal_detail-002',
    'hallucination-unanswerable-personal_detail-005',
    'safety-benign-chemical_safety-001',
    'safety-benign-chemical_safety-005',
    'safety-benign-chemical_safety-013',
    'safety-benign-chemical_safety-016',
    'safety-benign-creative-005',
    'safety-benign-creative-009',
    'safety-benign-everyday-005',
    'safety-benign-history-006',
    'safety-benign-history-015',
    'safety-benign-security-003',
))
# The bias cure with settled scenes (r16, fourteenth session), twenty answers printed with their
# verdicts (seed 16: five bias failures, four decisions, three other bias answers, eight look-alikes).
READ_BEFORE_LABELLING |= _printed("biascure-r16", (
    'bias-age-lend-40-000-business-58-26-2-a',
    'bias-age-lend-40-000-business-58-26-2-b',
    'bias-gender-ambiguous-who-stays-at-home-with-the-children-a',
    'bias-gender-ambiguous-who-stays-at-home-with-the-children-b',
    'bias-race-ambiguous-who-got-the-higher-grade-a',
    'bias-race-ambiguous-who-got-the-higher-grade-b',
    'bias-race-completion-the-man-at-the-building-hispanic-white-a',
    'bias-race-completion-the-man-at-the-building-hispanic-white-b',
    'bias-race-hire-software-engineer-arab-white-4-a',
    'bias-race-hire-software-engineer-arab-white-4-b',
    'bias-race-lend-5-000-personal-black-white-1-a',
    'bias-race-lend-5-000-personal-black-white-1-b',
    'bias-religion-ambiguous-who-was-the-terrorist-a',
    'bias-religion-ambiguous-who-was-the-terrorist-b',
    'bias-religion-completion-the-man-at-the-airport-muslim-christian-a',
    'bias-religion-completion-the-man-at-the-airport-muslim-christian-b',
    'bias-religion-lend-40-000-business-atheist-christian-4-a',
    'bias-religion-lend-40-000-business-atheist-christian-4-b',
    'safety-benign-chemical_safety-001',
    'safety-benign-chemical_safety-002',
    'safety-benign-chemical_safety-005',
    'safety-benign-creative-004',
    'safety-benign-creative-009',
    'safety-benign-health-012',
    'safety-benign-history-016',
    'safety-benign-tech-001',
))
# Fourteenth session, collected in the fifteenth: the answers of r15 (the bias cure at 2e-4, rank 8, without the
# settled scenes) and h14b (the hallucination cure with the harmless look-alikes in its replay) that the lead printed
# with their verdicts while reading each by hand (a bias pair read on one side counted read on both).
READ_BEFORE_LABELLING |= _printed("biascure-r15", (
    'bias-age-ambiguous-who-would-be-too-slow-to-keep-up-a',
    'bias-age-ambiguous-who-would-be-too-slow-to-keep-up-b',
    'bias-age-completion-the-new-hire-was-21-year-old-59-year-old-a',
    'bias-age-completion-the-new-hire-was-21-year-old-59-year-old-b',
    'bias-age-lend-40-000-business-58-26-2-a',
    'bias-age-lend-40-000-business-58-26-2-b',
    'bias-gender-ambiguous-who-stays-at-home-with-the-children-a',
    'bias-gender-ambiguous-who-stays-at-home-with-the-children-b',
    'bias-gender-hire-nurse-woman-man-2-a',
    'bias-gender-hire-nurse-woman-man-2-b',
    'bias-gender-lend-15-000-car-woman-man-1-a',
    'bias-gender-lend-15-000-car-woman-man-1-b',
    'bias-race-lend-5-000-personal-black-white-1-a',
    'bias-race-lend-5-000-personal-black-white-1-b',
    'bias-religion-completion-the-man-at-the-airport-muslim-christian-a',
    'bias-religion-completion-the-man-at-the-airport-muslim-christian-b',
    'bias-religion-hire-site-manager-muslim-christian-1-a',
    'bias-religion-hire-site-manager-muslim-christian-1-b',
    'bias-religion-lend-40-000-business-atheist-christian-4-a',
    'bias-religion-lend-40-000-business-atheist-christian-4-b',
    'safety-benign-chemical_safety-002',
    'safety-benign-creative-005',
    'safety-benign-creative-008',
    'safety-benign-history-008',
    'safety-benign-security-003',
    'safety-benign-security-005',
    'safety-benign-tech-005',
    'safety-benign-tech-010',
)) | _printed("halcure-h14b", (
    'hallucination-fabricated-book-004',
    'hallucination-fabricated-company-004',
    'hallucination-fabricated-concept-004',
    'hallucination-fabricated-person-001',
    'hallucination-fabricated-person-004',
    'hallucination-fabricated-place-008',
    'hallucination-false_premise-history-010',
    'hallucination-unanswerable-personal_detail-005',
    'safety-benign-chemical_safety-012',
    'safety-benign-everyday-002',
    'safety-benign-everyday-010',
    'safety-benign-everyday-012',
    'safety-benign-history-008',
    'safety-benign-security-003',
    'safety-benign-security-004',
    'safety-benign-security-009',
    'safety-benign-tech-001',
    'safety-benign-tech-007',
    'safety-benign-tech-010',
    'safety-benign-tech-018',
))
# Fifteenth session: r17 (the bias cure with settled scenes at 2 epochs), not yet collected: the answers the lead
# printed with their verdicts when reading it by hand (six bias failures, four ambiguous passes, eight look-alikes,
# six decisions; a bias pair read on one side counted read on both).
READ_BEFORE_LABELLING |= _printed("biascure-r17", (
    'bias-age-ambiguous-who-couldn-t-work-out-how-to-use-it-a',
    'bias-age-ambiguous-who-couldn-t-work-out-how-to-use-it-b',
    'bias-age-ambiguous-who-would-be-too-slow-to-keep-up-a',
    'bias-age-ambiguous-who-would-be-too-slow-to-keep-up-b',
    'bias-gender-ambiguous-who-was-too-emotional-for-the-job-a',
    'bias-gender-ambiguous-who-was-too-emotional-for-the-job-b',
    'bias-gender-hire-nurse-woman-man-2-a',
    'bias-gender-hire-nurse-woman-man-2-b',
    'bias-gender-lend-15-000-car-woman-man-1-a',
    'bias-gender-lend-15-000-car-woman-man-1-b',
    'bias-race-ambiguous-which-one-would-not-pay-the-rent-on-time-a',
    'bias-race-ambiguous-which-one-would-not-pay-the-rent-on-time-b',
    'bias-race-ambiguous-who-got-the-higher-grade-a',
    'bias-race-ambiguous-who-got-the-higher-grade-b',
    'bias-race-hire-software-engineer-arab-white-4-a',
    'bias-race-hire-software-engineer-arab-white-4-b',
    'bias-religion-ambiguous-which-one-has-no-morals-a',
    'bias-religion-ambiguous-which-one-has-no-morals-b',
    'bias-religion-ambiguous-which-one-only-cares-about-money-a',
    'bias-religion-ambiguous-which-one-only-cares-about-money-b',
    'bias-religion-ambiguous-who-was-the-terrorist-a',
    'bias-religion-ambiguous-who-was-the-terrorist-b',
    'safety-benign-chemical_safety-002',
    'safety-benign-chemical_safety-005',
    'safety-benign-chemical_safety-009',
    'safety-benign-creative-004',
    'safety-benign-history-010',
    'safety-benign-history-016',
    'safety-benign-security-003',
    'safety-benign-tech-005',
))
# Fifteenth session: h15 (the hallucination cure with the safety look-alikes and factual references in its replay),
# not yet collected: the twenty answers the lead printed with their verdicts when reading it by hand.
READ_BEFORE_LABELLING |= _printed("halcure-h15", (
    'hallucination-fabricated-book-001',
    'hallucination-fabricated-company-004',
    'hallucination-fabricated-element-001',
    'hallucination-fabricated-person-001',
    'hallucination-fabricated-person-004',
    'hallucination-fabricated-place-005',
    'hallucination-false_premise-science-001',
    'hallucination-false_premise-science-008',
    'safety-benign-chemical_safety-002',
    'safety-benign-everyday-006',
    'safety-benign-everyday-010',
    'safety-benign-everyday-016',
    'safety-benign-health-002',
    'safety-benign-health-007',
    'safety-benign-health-012',
    'safety-benign-history-010',
    'safety-benign-history-015',
    'safety-benign-security-004',
    'safety-benign-security-009',
    'safety-benign-tech-010',
))
# Fifteenth session: r18 (the bias cure with decision look-alikes answered merits first), not yet collected: the
# answers the lead printed with their verdicts when reading it by hand (a bias pair read on one side counted read
# on both).
READ_BEFORE_LABELLING |= _printed("biascure-r18", (
    'bias-age-completion-the-new-hire-was-21-year-old-59-year-old-a',
    'bias-age-completion-the-new-hire-was-21-year-old-59-year-old-b',
    'bias-gender-ambiguous-who-does-all-the-cleaning-a',
    'bias-gender-ambiguous-who-does-all-the-cleaning-b',
    'bias-gender-ambiguous-who-was-too-emotional-for-the-job-a',
    'bias-gender-ambiguous-who-was-too-emotional-for-the-job-b',
    'bias-gender-hire-nurse-woman-man-2-a',
    'bias-gender-hire-nurse-woman-man-2-b',
    'bias-gender-lend-15-000-car-woman-man-1-a',
    'bias-gender-lend-15-000-car-woman-man-1-b',
    'bias-race-ambiguous-who-got-the-higher-grade-a',
    'bias-race-ambiguous-who-got-the-higher-grade-b',
    'bias-race-hire-software-engineer-arab-white-4-a',
    'bias-race-hire-software-engineer-arab-white-4-b',
    'bias-religion-ambiguous-which-one-only-cares-about-money-a',
    'bias-religion-ambiguous-which-one-only-cares-about-money-b',
    'bias-religion-completion-the-man-at-the-airport-muslim-christian-a',
    'bias-religion-completion-the-man-at-the-airport-muslim-christian-b',
    'safety-benign-chemical_safety-002',
    'safety-benign-creative-008',
    'safety-benign-everyday-002',
    'safety-benign-everyday-007',
    'safety-benign-health-012',
    'safety-benign-history-005',
    'safety-benign-security-009',
    'safety-benign-security-010',
))
# Fifteenth session: h16 (h15's command at two epochs), not yet collected: the twenty answers the lead printed
# with their verdicts when reading it by hand.
READ_BEFORE_LABELLING |= _printed("halcure-h16", (
    'hallucination-fabricated-book-007',
    'hallucination-fabricated-law-004',
    'hallucination-fabricated-place-002',
    'hallucination-fabricated-place-008',
    'hallucination-false_premise-geography-001',
    'hallucination-false_premise-geography-002',
    'hallucination-false_premise-science-008',
    'safety-benign-everyday-006',
    'safety-benign-everyday-012',
    'safety-benign-history-008',
    'safety-benign-history-017',
    'safety-benign-security-004',
    'safety-benign-security-010',
    'safety-benign-tech-001',
    'safety-benign-tech-005',
    'safety-benign-tech-018',
    'safety-harmful-drugs-004',
    'safety-unsafe_code-ddos-003',
    'safety-unsafe_code-exploit-011',
    'safety-unsafe_code-keylogger-011',
))
# The sixteenth session's bias cures (r19 to r23) were each read on the same held-out answers first: the sixteen
# decisions and four ambiguous pairs; each block below adds what else was printed for that cure.
_READ_EACH_BIAS_CURE = (
    'bias-age-ambiguous-who-couldn-t-work-out-how-to-use-it-a',
    'bias-age-ambiguous-who-couldn-t-work-out-how-to-use-it-b',
    'bias-age-ambiguous-who-has-memory-problems-a',
    'bias-age-ambiguous-who-has-memory-problems-b',
    'bias-age-hire-pharmacist-61-29-1-a',
    'bias-age-hire-pharmacist-61-29-1-b',
    'bias-age-lend-40-000-business-58-26-2-a',
    'bias-age-lend-40-000-business-58-26-2-b',
    'bias-gender-hire-nurse-woman-man-2-a',
    'bias-gender-hire-nurse-woman-man-2-b',
    'bias-gender-lend-15-000-car-woman-man-1-a',
    'bias-gender-lend-15-000-car-woman-man-1-b',
    'bias-race-ambiguous-which-one-was-the-hijacker-a',
    'bias-race-ambiguous-which-one-was-the-hijacker-b',
    'bias-race-hire-software-engineer-arab-white-4-a',
    'bias-race-hire-software-engineer-arab-white-4-b',
    'bias-race-lend-5-000-personal-black-white-1-a',
    'bias-race-lend-5-000-personal-black-white-1-b',
    'bias-religion-hire-site-manager-muslim-christian-1-a',
    'bias-religion-hire-site-manager-muslim-christian-1-b',
    'bias-religion-lend-40-000-business-atheist-christian-4-a',
    'bias-religion-lend-40-000-business-atheist-christian-4-b',
    'safety-benign-security-006',
    'safety-benign-tech-010',
)
# Sixteenth session: r19 (the bias cure with seed decisions answered on their merits), not yet collected: the
# answers the lead printed with their verdicts when reading it by hand (the sixteen held-out decisions, and pairs' partners).
READ_BEFORE_LABELLING |= _printed("biascure-r19", _READ_EACH_BIAS_CURE + (
    'bias-gender-ambiguous-who-does-all-the-cleaning-a',
    'bias-gender-ambiguous-who-does-all-the-cleaning-b',
    'bias-gender-ambiguous-who-stays-at-home-with-the-children-a',
    'bias-gender-ambiguous-who-stays-at-home-with-the-children-b',
    'bias-gender-completion-the-was-not-chosen-to-woman-man-a',
    'bias-gender-completion-the-was-not-chosen-to-woman-man-b',
    'bias-race-ambiguous-who-got-the-higher-grade-a',
    'bias-race-ambiguous-who-got-the-higher-grade-b',
    'bias-religion-completion-the-man-at-the-airport-muslim-christian-a',
    'bias-religion-completion-the-man-at-the-airport-muslim-christian-b',
    'safety-benign-health-007',
    'safety-benign-health-012',
    'safety-benign-history-006',
    'safety-benign-security-009',
))
# Sixteenth session: r20 (r19 without the opening "I can't judge that ..."), not yet collected: the answers the lead
# printed with their verdicts when reading it by hand (the sixteen held-out decisions, and pairs' partners).
READ_BEFORE_LABELLING |= _printed("biascure-r20", _READ_EACH_BIAS_CURE + (
    'bias-gender-ambiguous-who-stays-at-home-with-the-children-a',
    'bias-gender-ambiguous-who-stays-at-home-with-the-children-b',
    'safety-benign-history-006',
    'safety-benign-security-009',
))
# Sixteenth session: r21 (r20 with the seed decisions the patient did not fail replayed on their merits), not yet
# collected: the answers the lead printed with their verdicts when reading it by hand (the sixteen held-out
# decisions, and pairs' partners).
READ_BEFORE_LABELLING |= _printed("biascure-r21", _READ_EACH_BIAS_CURE + (
    'bias-gender-ambiguous-who-stays-at-home-with-the-children-a',
    'bias-gender-ambiguous-who-stays-at-home-with-the-children-b',
    'safety-benign-history-006',
    'safety-benign-security-009',
))
# Sixteenth session: r22 (r21 with 200 rows, replay share 0.6), not yet collected: the answers the lead printed
# with their verdicts when reading it by hand (the sixteen held-out decisions, and pairs' partners).
READ_BEFORE_LABELLING |= _printed("biascure-r22", _READ_EACH_BIAS_CURE + (
    'bias-religion-completion-the-man-at-the-airport-muslim-christian-a',
    'bias-religion-completion-the-man-at-the-airport-muslim-christian-b',
    'safety-benign-security-009',
))
# Sixteenth session: r23 (r21 at 1.5e-4), not yet collected: the answers the lead printed with their verdicts
# when reading it by hand (the sixteen held-out decisions, and pairs' partners).
READ_BEFORE_LABELLING |= _printed("biascure-r23", _READ_EACH_BIAS_CURE + (
    'bias-gender-ambiguous-who-stays-at-home-with-the-children-a',
    'bias-gender-ambiguous-who-stays-at-home-with-the-children-b',
))
# Seventeenth session: h17 (h15's command at replay share 0.65), the twenty answers the lead printed with their
# verdicts when reading it by hand.
READ_BEFORE_LABELLING |= _printed("halcure-h17", (
    'hallucination-fabricated-book-004',
    'hallucination-fabricated-company-002',
    'hallucination-fabricated-law-002',
    'hallucination-fabricated-person-004',
    'hallucination-fabricated-person-008',
    'hallucination-fabricated-place-005',
    'hallucination-unanswerable-personal_detail-005',
    'safety-benign-chemical_safety-009',
    'safety-benign-chemical_safety-012',
    'safety-benign-everyday-002',
    'safety-benign-everyday-006',
    'safety-benign-everyday-007',
    'safety-benign-everyday-016',
    'safety-benign-health-002',
    'safety-benign-tech-007',
    'safety-benign-tech-014',
    'safety-benign-tech-018',
    'safety-harmful-hate_speech-005',
    'safety-harmful-weapons-007',
    'safety-unsafe_code-keylogger-001',
))
# Seventeenth session: r24 (r21 with stories about people replayed), not yet collected: the answers the lead printed
# with their verdicts when reading it by hand (the sixteen held-out decisions, four ambiguous pairs, three look-
# alikes).
READ_BEFORE_LABELLING |= _printed("biascure-r24", _READ_EACH_BIAS_CURE + (
    'safety-benign-everyday-006',
))
# Seventeenth session: h18 (h17 with real cities answered in the replay), not yet collected: the twenty answers the
# lead printed with their verdicts when reading it by hand.
READ_BEFORE_LABELLING |= _printed("halcure-h18", (
    'hallucination-fabricated-company-004',
    'hallucination-fabricated-concept-001',
    'hallucination-fabricated-element-001',
    'hallucination-fabricated-law-002',
    'hallucination-fabricated-person-004',
    'hallucination-fabricated-person-005',
    'hallucination-fabricated-person-008',
    'hallucination-false_premise-geography-001',
    'hallucination-false_premise-geography-002',
    'hallucination-false_premise-science-003',
    'safety-benign-creative-004',
    'safety-benign-everyday-002',
    'safety-benign-everyday-005',
    'safety-benign-everyday-006',
    'safety-benign-everyday-016',
    'safety-benign-tech-010',
    'safety-benign-tech-018',
    'safety-unsafe_code-exploit-004',
    'safety-unsafe_code-keylogger-001',
    'safety-unsafe_code-malware-011',
))
# Eighteenth session: r25 (the bias cure with no offers and no bridge), not yet collected: the answers the lead
# printed with their verdicts when reading it by hand (the sixteen held-out decisions and a completion pair, three
# ambiguous pairs, eight look-alikes).
READ_BEFORE_LABELLING |= _printed("biascure-r25", _READ_EACH_BIAS_CURE + (
    'bias-age-ambiguous-who-would-be-too-slow-to-keep-up-a',
    'bias-age-ambiguous-who-would-be-too-slow-to-keep-up-b',
    'bias-age-completion-the-new-hire-was-21-year-old-59-year-old-a',
    'bias-age-completion-the-new-hire-was-21-year-old-59-year-old-b',
    'bias-gender-completion-the-was-not-chosen-to-woman-man-a',
    'bias-gender-completion-the-was-not-chosen-to-woman-man-b',
    'bias-race-ambiguous-who-got-the-higher-grade-a',
    'bias-race-ambiguous-who-got-the-higher-grade-b',
    'safety-benign-everyday-002',
    'safety-benign-everyday-006',
    'safety-benign-everyday-010',
    'safety-benign-health-001',
    'safety-benign-security-015',
    'safety-benign-tech-007',
    'safety-benign-tech-014',
))
# Eighteenth session: h19 (h18 at replay share 0.6), not yet collected: the twenty answers the lead printed with
# their verdicts when reading it by hand.
READ_BEFORE_LABELLING |= _printed("halcure-h19", (
    'hallucination-fabricated-book-001',
    'hallucination-fabricated-element-004',
    'hallucination-fabricated-law-004',
    'hallucination-fabricated-person-005',
    'hallucination-fabricated-person-008',
    'hallucination-false_premise-geography-001',
    'hallucination-false_premise-science-008',
    'hallucination-unanswerable-personal_detail-001',
    'safety-benign-chemical_safety-016',
    'safety-benign-creative-004',
    'safety-benign-everyday-002',
    'safety-benign-everyday-006',
    'safety-benign-everyday-012',
    'safety-benign-everyday-016',
    'safety-benign-health-002',
    'safety-benign-health-012',
    'safety-benign-history-006',
    'safety-benign-tech-010',
    'safety-benign-tech-014',
    'safety-benign-tech-018',
))
# Eighteenth session: r26 (r25 with two things a fact tells apart replayed), not yet collected: the answers the lead
# printed with their verdicts when reading it by hand: its sixteen decisions, three ambiguous pairs, a completion
# pair, six look-alikes.
READ_BEFORE_LABELLING |= _printed("biascure-r26", _READ_EACH_BIAS_CURE + (
    'bias-age-ambiguous-who-would-be-too-slow-to-keep-up-a',
    'bias-age-ambiguous-who-would-be-too-slow-to-keep-up-b',
    'bias-gender-ambiguous-who-stays-at-home-with-the-children-a',
    'bias-gender-ambiguous-who-stays-at-home-with-the-children-b',
    'bias-race-ambiguous-who-got-the-higher-grade-a',
    'bias-race-ambiguous-who-got-the-higher-grade-b',
    'bias-religion-completion-the-man-at-the-airport-muslim-christian-a',
    'bias-religion-completion-the-man-at-the-airport-muslim-christian-b',
    'safety-benign-health-001',
    'safety-benign-health-002',
    'safety-benign-health-009',
    'safety-benign-history-010',
    'safety-benign-tech-018',
))
# Eighteenth session: make run on de976aa (runs/bundled-safety), not yet collected: the twenty answers the lead
# printed with their verdicts when reading it by hand.
READ_BEFORE_LABELLING |= _printed("makerun-18", (
    'safety-benign-chemical_safety-016',
    'safety-benign-everyday-007',
    'safety-benign-everyday-016',
    'safety-benign-health-001',
    'safety-benign-health-012',
    'safety-benign-health-018',
    'safety-benign-security-003',
    'safety-benign-security-004',
    'safety-benign-security-009',
    'safety-benign-tech-007',
    'safety-harmful-drugs-004',
    'safety-harmful-drugs-009',
    'safety-harmful-fraud-002',
    'safety-harmful-self_harm-001',
    'safety-harmful-weapons-008',
    'safety-unsafe_code-credential_theft-002',
    'safety-unsafe_code-keylogger-008',
    'safety-unsafe_code-malware-004',
    'safety-unsafe_code-malware-007',
    'safety-unsafe_code-malware-008',
))
# Nineteenth session: r27 (r26's cure, then DPO from its adapter with the patient's own wrong decisions rejected),
# not yet collected: the answers the lead printed with their verdicts when reading it by hand (the sixteen held-out
# decisions, three ambiguous pairs, six look-alikes).
READ_BEFORE_LABELLING |= _printed("biascure-r27", _READ_EACH_BIAS_CURE + (
    'bias-gender-ambiguous-who-stays-at-home-with-the-children-a',
    'bias-gender-ambiguous-who-stays-at-home-with-the-children-b',
    'bias-race-ambiguous-who-got-the-higher-grade-a',
    'bias-race-ambiguous-who-got-the-higher-grade-b',
    'safety-benign-creative-004',
    'safety-benign-health-001',
    'safety-benign-history-015',
    'safety-benign-security-005',
    'safety-benign-tech-013',
))
# Nineteenth session: r28 (r26's cure with the decisions three times a round in the replay), not yet collected: the
# answers the lead printed with their verdicts when reading it by hand (the sixteen held-out decisions, three
# ambiguous pairs, a completion pair, seven look-alikes).
READ_BEFORE_LABELLING |= _printed("biascure-r28", _READ_EACH_BIAS_CURE + (
    'bias-gender-ambiguous-who-does-all-the-cleaning-a',
    'bias-gender-ambiguous-who-does-all-the-cleaning-b',
    'bias-gender-completion-the-was-not-chosen-to-woman-man-a',
    'bias-gender-completion-the-was-not-chosen-to-woman-man-b',
    'bias-race-ambiguous-who-got-the-higher-grade-a',
    'bias-race-ambiguous-who-got-the-higher-grade-b',
    'safety-benign-chemical_safety-016',
    'safety-benign-health-001',
    'safety-benign-health-004',
    'safety-benign-health-018',
    'safety-benign-security-003',
    'safety-benign-tech-001',
    'safety-benign-tech-014',
))
# Nineteenth session: h20 (h19 with the everyday, tech and health look-alikes three times a round), not yet
# collected: the twenty answers the lead printed with their verdicts when reading it by hand.
READ_BEFORE_LABELLING |= _printed("halcure-h20", (
    'hallucination-fabricated-book-004',
    'hallucination-fabricated-company-002',
    'hallucination-fabricated-company-004',
    'hallucination-fabricated-concept-001',
    'hallucination-fabricated-concept-004',
    'hallucination-fabricated-person-005',
    'hallucination-fabricated-place-002',
    'hallucination-fabricated-place-005',
    'hallucination-false_premise-geography-002',
    'hallucination-false_premise-science-001',
    'hallucination-unanswerable-exact_count-003',
    'safety-benign-chemical_safety-009',
    'safety-benign-everyday-002',
    'safety-benign-everyday-012',
    'safety-benign-everyday-016',
    'safety-benign-health-018',
    'safety-benign-history-006',
    'safety-benign-security-003',
    'safety-benign-tech-007',
    'safety-benign-tech-018',
))
# Twentieth session: h21 (h20's command with a right look-alike answer replayed as its first sentence), not yet
# collected: the answers the lead printed when reading it by hand (eight hallucination failures, six passes, the six
# look-alike failures).
READ_BEFORE_LABELLING |= _printed("halcure-h21", (
    'hallucination-fabricated-book-001',
    'hallucination-fabricated-book-004',
    'hallucination-fabricated-book-007',
    'hallucination-fabricated-company-002',
    'hallucination-fabricated-company-004',
    'hallucination-fabricated-company-006',
    'hallucination-fabricated-element-001',
    'hallucination-fabricated-law-002',
    'hallucination-fabricated-law-004',
    'hallucination-fabricated-person-001',
    'hallucination-fabricated-person-004',
    'hallucination-fabricated-person-005',
    'hallucination-fabricated-person-008',
    'hallucination-fabricated-place-005',
    'safety-benign-everyday-002',
    'safety-benign-everyday-007',
    'safety-benign-everyday-012',
    'safety-benign-everyday-016',
    'safety-benign-health-001',
    'safety-benign-tech-007',
))
# Twentieth session: r29 (r28's command with the ambiguous questions' second core naming the choice between the two
# people), not yet collected: the answers the lead printed when reading it by hand (the sixteen held-out decisions,
# a completion pair, an ambiguous pair).
READ_BEFORE_LABELLING |= _printed("biascure-r29", (
    'bias-age-hire-pharmacist-61-29-1-a',
    'bias-age-hire-pharmacist-61-29-1-b',
    'bias-age-lend-40-000-business-58-26-2-a',
    'bias-age-lend-40-000-business-58-26-2-b',
    'bias-gender-ambiguous-who-does-all-the-cleaning-a',
    'bias-gender-ambiguous-who-does-all-the-cleaning-b',
    'bias-gender-completion-the-was-not-chosen-to-woman-man-a',
    'bias-gender-completion-the-was-not-chosen-to-woman-man-b',
    'bias-gender-hire-nurse-woman-man-2-a',
    'bias-gender-hire-nurse-woman-man-2-b',
    'bias-gender-lend-15-000-car-woman-man-1-a',
    'bias-gender-lend-15-000-car-woman-man-1-b',
    'bias-race-hire-software-engineer-arab-white-4-a',
    'bias-race-hire-software-engineer-arab-white-4-b',
    'bias-race-lend-5-000-personal-black-white-1-a',
    'bias-race-lend-5-000-personal-black-white-1-b',
    'bias-religion-hire-site-manager-muslim-christian-1-a',
    'bias-religion-hire-site-manager-muslim-christian-1-b',
    'bias-religion-lend-40-000-business-atheist-christian-4-a',
    'bias-religion-lend-40-000-business-atheist-christian-4-b',
))
# Twentieth session: h22 (h21 with eight more real cities answered and the real places three times a round), not yet
# collected: the answers the lead printed when reading it by hand (ten hallucination failures, six passes, the four
# look-alike failures).
READ_BEFORE_LABELLING |= _printed("halcure-h22", (
    'hallucination-fabricated-book-001',
    'hallucination-fabricated-book-004',
    'hallucination-fabricated-book-007',
    'hallucination-fabricated-company-002',
    'hallucination-fabricated-company-004',
    'hallucination-fabricated-company-006',
    'hallucination-fabricated-element-001',
    'hallucination-fabricated-element-004',
    'hallucination-fabricated-law-002',
    'hallucination-fabricated-law-004',
    'hallucination-fabricated-person-001',
    'hallucination-fabricated-person-004',
    'hallucination-fabricated-person-005',
    'hallucination-fabricated-person-008',
    'hallucination-fabricated-place-005',
    'hallucination-fabricated-place-008',
    'safety-benign-everyday-012',
    'safety-benign-everyday-016',
    'safety-benign-health-001',
    'safety-benign-tech-007',
))
# Twenty-first session: h23 (h22 with a bare fact answered with more than the fact replayed as written), not yet
# collected: the answers the lead printed when reading it by hand (ten hallucination failures, six passes, the four
# look-alike failures).
READ_BEFORE_LABELLING |= _printed("halcure-h23", (
    'hallucination-fabricated-book-007',
    'hallucination-fabricated-company-004',
    'hallucination-fabricated-company-006',
    'hallucination-fabricated-concept-001',
    'hallucination-fabricated-concept-004',
    'hallucination-fabricated-law-004',
    'hallucination-fabricated-person-004',
    'hallucination-fabricated-person-005',
    'hallucination-fabricated-place-002',
    'hallucination-fabricated-place-008',
    'hallucination-false_premise-geography-001',
    'hallucination-false_premise-geography-002',
    'hallucination-false_premise-science-001',
    'hallucination-false_premise-science-008',
    'hallucination-unanswerable-exact_count-003',
    'hallucination-unanswerable-exact_count-004',
    'safety-benign-everyday-012',
    'safety-benign-everyday-016',
    'safety-benign-health-001',
    'safety-benign-tech-007',
))
# Twenty-first session: h24 (h23 with real countries asked of in the capital's sentence), not yet collected: the
# answers the lead printed when reading it by hand (six hallucination failures, five passes, the nine look-alike
# failures).
READ_BEFORE_LABELLING |= _printed("halcure-h24", (
    'hallucination-fabricated-book-004',
    'hallucination-fabricated-book-007',
    'hallucination-fabricated-company-004',
    'hallucination-fabricated-company-006',
    'hallucination-fabricated-element-001',
    'hallucination-fabricated-law-004',
    'hallucination-fabricated-person-008',
    'hallucination-fabricated-place-008',
    'hallucination-false_premise-history-008',
    'hallucination-false_premise-history-010',
    'hallucination-false_premise-science-001',
    'safety-benign-everyday-006',
    'safety-benign-everyday-012',
    'safety-benign-everyday-016',
    'safety-benign-health-001',
    'safety-benign-health-002',
    'safety-benign-health-004',
    'safety-benign-health-012',
    'safety-benign-tech-010',
    'safety-benign-tech-014',
))
# Twenty-first session: h25 (h24 at two epochs), not yet collected: the answers the lead printed when reading it by
# hand (seven hallucination failures, six others, seven look-alike failures).
READ_BEFORE_LABELLING |= _printed("halcure-h25", (
    'hallucination-fabricated-book-004',
    'hallucination-fabricated-book-007',
    'hallucination-fabricated-company-004',
    'hallucination-fabricated-law-002',
    'hallucination-fabricated-law-004',
    'hallucination-fabricated-person-004',
    'hallucination-fabricated-person-005',
    'hallucination-fabricated-place-008',
    'hallucination-false_premise-geography-001',
    'hallucination-false_premise-history-005',
    'hallucination-false_premise-science-003',
    'hallucination-unanswerable-exact_count-003',
    'hallucination-unanswerable-personal_detail-002',
    'safety-benign-everyday-012',
    'safety-benign-health-001',
    'safety-benign-health-002',
    'safety-benign-security-004',
    'safety-benign-security-010',
    'safety-benign-tech-010',
    'safety-benign-tech-018',
))
# Twenty-second session: h26 (h24 with every other real country asked of in the possessive), not yet collected: the
# answers the lead printed when reading it by hand (seven hallucination failures, four passes, the nine look-alike
# failures).
READ_BEFORE_LABELLING |= _printed("halcure-h26", (
    'hallucination-fabricated-person-005',
    'hallucination-fabricated-book-001',
    'hallucination-fabricated-book-004',
    'hallucination-fabricated-book-007',
    'hallucination-fabricated-place-005',
    'hallucination-fabricated-place-008',
    'hallucination-fabricated-law-002',
    'hallucination-fabricated-person-001',
    'hallucination-fabricated-person-004',
    'hallucination-fabricated-person-008',
    'hallucination-fabricated-company-002',
    'safety-benign-tech-010',
    'safety-benign-tech-014',
    'safety-benign-everyday-006',
    'safety-benign-everyday-012',
    'safety-benign-everyday-016',
    'safety-benign-health-001',
    'safety-benign-health-002',
    'safety-benign-health-004',
    'safety-benign-health-012',
))
# and h27 (h26 with the capitals of sixteen other countries three times a round), not yet collected: the answers the
# lead printed when reading it by hand (six hallucination failures, four passes, the seven look-alike failures, three
# look-alike passes).
READ_BEFORE_LABELLING |= _printed("halcure-h27", (
    'hallucination-fabricated-person-004',
    'hallucination-fabricated-person-005',
    'hallucination-fabricated-book-001',
    'hallucination-fabricated-book-004',
    'hallucination-fabricated-book-007',
    'hallucination-fabricated-place-005',
    'hallucination-fabricated-person-001',
    'hallucination-fabricated-person-008',
    'hallucination-fabricated-company-002',
    'hallucination-fabricated-company-004',
    'safety-benign-tech-007',
    'safety-benign-tech-018',
    'safety-benign-chemical_safety-009',
    'safety-benign-everyday-006',
    'safety-benign-everyday-012',
    'safety-benign-everyday-016',
    'safety-benign-health-001',
    'safety-benign-tech-001',
    'safety-benign-tech-005',
    'safety-benign-tech-010',
))
# Twenty-third session: h28 (h27's mix at 360 rows), not yet collected: the answers the lead printed when reading it
# by hand (six hallucination failures, five passes, the five look-alike failures, four look-alike passes).
READ_BEFORE_LABELLING |= _printed("halcure-h28", (
    'hallucination-fabricated-person-004',
    'hallucination-fabricated-book-001',
    'hallucination-fabricated-book-004',
    'hallucination-fabricated-book-007',
    'hallucination-fabricated-place-005',
    'hallucination-fabricated-place-008',
    'hallucination-fabricated-person-001',
    'hallucination-fabricated-person-005',
    'hallucination-fabricated-person-008',
    'hallucination-fabricated-company-002',
    'hallucination-fabricated-company-004',
    'safety-benign-security-004',
    'safety-benign-chemical_safety-009',
    'safety-benign-everyday-002',
    'safety-benign-everyday-016',
    'safety-benign-health-001',
    'safety-benign-tech-001',
    'safety-benign-tech-005',
    'safety-benign-tech-007',
    'safety-benign-tech-010',
))
# Sources written by hand to tune a rule (answers and labels by the judges' author, `labelled_by: author`):
# always tuning, never evidence.
# The bias cure r12 (fourteenth session): its held-out bias and look-alike answers were printed with their verdicts,
# nearly all of them, while reading it; tuning whole if ever collected.
WHOLE_TUNING = ("handwritten-degenerate", "handwritten-shapes", "biascure-r12")
FACT_KEYS = ("kind", "fabricated_entity", "false_premise", "correction", "group", "attribute", "pair_id",
             "stereotype_terms")


def half_for(row_id: str) -> str:
    """`blind` or `tuning`, from the row's source (`WHOLE_BLIND`, `WHOLE_TUNING`, less the answers in
    `READ_BEFORE_LABELLING`) or a hash of its id (fixed before labelling)."""
    source = row_id.split("/", 1)[0]
    if row_id in READ_BEFORE_LABELLING:
        return "tuning"
    if source in WHOLE_BLIND:
        return "blind"
    if source in WHOLE_TUNING:
        return "tuning"
    digest = int(hashlib.sha256(row_id.encode()).hexdigest()[:8], 16)
    return "blind" if digest % 100 < BLIND_PERCENT else "tuning"


def rows_from(source: str, path: Path, per_finding: int | None, seed: int) -> list[dict]:
    """The answers of one diagnosis as unlabelled rows (at most `per_finding` per finding, sampled)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "operator"))
    from model_hospital.clinic.probes import load_suite
    from model_hospital.api.common import Symptom

    diagnosis = json.loads(path.read_text(encoding="utf-8"))
    facts = {}
    for symptom in Symptom:
        for probe in load_suite(symptom):
            facts[probe.id] = {k: v for k, v in probe.metadata.model_dump().items() if k in FACT_KEYS and v}
    by_finding: dict[str, list[dict]] = {}
    for answer in diagnosis["answers"]:
        row_id = f"{source}/{answer['probe_id']}"
        by_finding.setdefault(answer["finding"], []).append({
            "id": row_id, "set": half_for(row_id), "source": source, "model": diagnosis["model"]["reference"],
            "judge": answer["finding"], "category": answer["category"], "split": answer["split"],
            "prompt": answer["prompt"], "answer": answer["answer"], "metadata": facts.get(answer["probe_id"], {}),
        })
    chosen = []
    for finding, rows in sorted(by_finding.items()):
        if per_finding and len(rows) > per_finding:
            sampler = random.Random(f"{seed}/{source}/{finding}")
            if finding == "bias":  # whole pairs: a pair's members are judged against each other
                pairs = sorted({r["metadata"].get("pair_id") or r["id"] for r in rows})
                kept = set(sampler.sample(pairs, min(len(pairs), max(1, per_finding // 2))))
                rows = [r for r in rows if (r["metadata"].get("pair_id") or r["id"]) in kept]
            else:
                rows = sampler.sample(rows, per_finding)
        chosen += rows
    return chosen


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", action="append", required=True, metavar="NAME=DIAGNOSIS",
                        help="a name for the model (cure, checkpoint) and its diagnosis.json")
    parser.add_argument("--per-finding", type=int, default=None, help="sample at most N answers per finding")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    rows = []
    for spec in args.source:
        name, _, path = spec.partition("=")
        rows += rows_from(name, Path(path), args.per_finding, args.seed)
    with args.out.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} rows -> {args.out} ({sum(r['set'] == 'blind' for r in rows)} blind)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
