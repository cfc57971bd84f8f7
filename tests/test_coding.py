"""The coding skill: generated function-writing tasks, the function taken from the answer and run in a sandbox."""

from __future__ import annotations

import pytest

from model_hospital.clinic import sandbox
from model_hospital.clinic.coding import extract_function
from model_hospital.clinic.skills import load_domain, score_answer, score_answers, scored_items
from model_hospital.errors import HospitalError

KINDS = ["subprocess", pytest.param("podman", marks=pytest.mark.skipif(
    not sandbox._podman_runs(sandbox._image()), reason="podman or its sandbox image is not here"))]


@pytest.fixture(params=KINDS)
def kind(request, monkeypatch):
    monkeypatch.setenv("HOSPITAL_SANDBOX", request.param)
    return request.param


def item(entry_point="add_30"):
    return next(i for i in load_domain("coding") if i.entry_point == entry_point)


def test_the_suite_holds_enough_scored_tasks_of_every_kind():
    tasks = load_domain("coding")
    assert len(scored_items(tasks)) >= 64
    assert {t.category for t in tasks} == {"arithmetic", "conditions", "strings", "lists"}
    assert all(t.entry_point and len(t.tests) >= 2 and t.entry_point in t.prompt for t in tasks)


def test_the_function_is_taken_from_a_code_block_or_from_its_def_on():
    fenced = "Sure!\n```python\ndef add_30(x):\n    return x + 30\n```\nThis adds thirty."
    assert extract_function(fenced, "add_30") == "def add_30(x):\n    return x + 30\n"
    bare = "def add_30(x):\n    return x + 30\nThis function adds thirty to x."
    assert extract_function(bare, "add_30") == "def add_30(x):\n    return x + 30\n"
    assert extract_function("```python\ndef add_3(x):\n    return x\n```", "add_30") is None
    assert extract_function("You add thirty to x.", "add_30") is None


def test_a_right_function_passes_and_a_wrong_one_fails(kind):
    right, wrong = score_answers([item(), item()], ["```python\ndef add_30(x):\n    return 30 + x\n```",
                                                    "```python\ndef add_30(x):\n    return x + 3\n```"])
    assert right.correct and kind in right.reason
    assert not wrong.correct and "AssertionError" in wrong.reason


def test_an_answer_without_the_function_is_wrong_without_running_anything(monkeypatch):
    monkeypatch.setattr(sandbox, "run_programs", lambda programs: pytest.fail("nothing to run"))
    score = score_answer(item(), "The function adds thirty to its argument and returns it.")
    assert not score.correct and "no function add_30" in score.reason


def hostile(body: str) -> str:
    return "```python\ndef add_30(x):\n" + "".join(f"    {line}\n" for line in body.splitlines()) + "    return x + 30\n```"


def test_a_function_that_never_returns_times_out(kind, monkeypatch):
    monkeypatch.setattr(sandbox, "SECONDS_PER_PROGRAM", 1)
    [score] = score_answers([item()], [hostile("while True:\n    pass")])
    assert not score.correct and score.reason.startswith("timeout")


def test_a_program_stopped_by_its_cpu_limit_is_a_timeout(kind):
    # On a busy machine the CPU limit can stop a looping program before the clock's timeout fires; the kernel
    # stops it with SIGXCPU, as this program does to itself.
    [score] = score_answers([item()], [hostile("import os, signal\nos.kill(os.getpid(), signal.SIGXCPU)")])
    assert not score.correct and score.reason.startswith("timeout"), score.reason


def test_a_function_that_takes_too_much_memory_fails(kind):
    [score] = score_answers([item()], [hostile("hoard = bytearray(2 * 1024 ** 3)")])
    assert not score.correct and "MemoryError" in score.reason


def test_the_sandbox_passes_on_no_secret_and_no_proxy(kind, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_not_a_real_token")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    [score] = score_answers([item()], [hostile("import os\nassert not {'HF_TOKEN', 'HTTPS_PROXY'} & set(os.environ)")])
    assert score.correct, score.reason


def test_the_sandbox_has_no_network_interface_but_loopback(kind):
    if kind == "subprocess" and not sandbox._own_network_namespace():
        pytest.skip("unshare -rn does not run here: the subprocess sandbox only clears the environment")
    [score] = score_answers([item()], [hostile("import socket\nassert [n for _, n in socket.if_nameindex()] == ['lo']")])
    assert score.correct, score.reason


@pytest.mark.skipif(not sandbox._podman_runs(sandbox._image()), reason="podman or its sandbox image is not here")
def test_the_container_cannot_write_its_root_or_its_programs(monkeypatch):
    monkeypatch.setenv("HOSPITAL_SANDBOX", "podman")
    attempt = "import os\nfor place in ('/written', '/sandbox/written'):\n    try:\n        open(place, 'w')\n" \
              "    except OSError:\n        continue\n    raise SystemExit('wrote ' + place)"
    [score] = score_answers([item()], [hostile(attempt)])
    assert score.correct, score.reason


def test_an_unknown_sandbox_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HOSPITAL_SANDBOX", "chroot")
    with pytest.raises(HospitalError, match="HOSPITAL_SANDBOX='chroot': choose podman or subprocess"):
        score_answers([item()], ["```python\ndef add_30(x):\n    return x + 30\n```"])
