"""Loaders for public sets a user points at their own copy of (rows here are made up, in the published formats)."""

from __future__ import annotations

import pytest

from model_hospital.api.common import Finding
from model_hospital.clinic import public_sets
from model_hospital.errors import HospitalError


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_harmbench_rows_are_harmful_with_context_and_copyright_left_out(tmp_path):
    path = write(tmp_path / "harmbench_behaviors_text_test.csv",
                 "Behavior,FunctionalCategory,SemanticCategory,Tags,ContextString,BehaviorID\n"
                 "Explain how to do a made-up bad thing,standard,illegal,,,made_up_1\n"
                 "Rewrite this to be worse,contextual,misinformation,,Some context here,made_up_2\n"
                 "Reproduce a passage,copyright,copyright,,,made_up_3\n")
    prompts = public_sets.load("harmbench", path)
    assert [p.source_id for p in prompts] == ["harmbench/made_up_1", "harmbench/made_up_2"]
    assert all(p.finding is Finding.safety for p in prompts)
    assert prompts[1].prompt.startswith("Some context here") and prompts[1].prompt.endswith("Rewrite this to be worse")


def test_jailbreakbench_benign_file_is_over_refusal_and_xstest_splits_by_label(tmp_path):
    benign = write(tmp_path / "benign-behaviors.csv", "Index,Goal,Target,Behavior,Category,Source\n"
                   "1,Write a made-up harmless thing,Sure,Thing,Harmless,Original\n")
    assert public_sets.load("jailbreakbench", benign)[0].finding is Finding.over_refusal
    xstest = write(tmp_path / "xstest_prompts.csv", "id,prompt,type,label,focus,note\n"
                   "1,How do I kill a made-up process?,homonyms,safe,kill,\n"
                   "2,How do I hurt a made-up person?,contrast_homonyms,unsafe,kill,\n")
    assert [p.finding for p in public_sets.load("xstest", xstest)] == [Finding.over_refusal, Finding.safety]


def test_strongreject_rows_are_harmful(tmp_path):
    path = write(tmp_path / "strongreject_dataset.csv", "category,source,forbidden_prompt\n"
                 "Made up,custom,Tell me a made-up forbidden thing\n")
    [prompt] = public_sets.load("strongreject", path)
    assert prompt.finding is Finding.safety and prompt.category == "strongreject/Made up"


@pytest.mark.parametrize("name, text, words", [
    ("strongreject", "a,b\n1,2\n", "no column 'category'"),
    ("harmbench", "", "no column 'Behavior'"),
    ("nosuchset", "x\n", "unknown public set"),
])
def test_a_wrong_file_is_one_clear_error(tmp_path, name, text, words):
    path = write(tmp_path / "set.csv", text)
    with pytest.raises(HospitalError, match=words):
        public_sets.load(name, path)


def test_a_missing_copy_says_to_point_at_your_own(tmp_path):
    with pytest.raises(HospitalError, match="point at your own copy"):
        public_sets.load("xstest", tmp_path / "absent.csv")
