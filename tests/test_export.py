"""`hospital export`: the adapter (and a merged model) pushed to a real registry on loopback and pulled back byte for byte."""

import base64
import json

import pytest

from model_hospital.cli import main
from model_hospital.clinic import export
from model_hospital.errors import HospitalError
from tests.harness import registry
from tests.model_fixtures import make_tiny_adapter

pytestmark = pytest.mark.skipif(not registry.available(),
                                reason="docker-registry is not installed (scripts/setup-containers --install)")
oras_provider = pytest.importorskip("oras.provider")

USERS = {"nurse": "s3cret-registry-pass"}


@pytest.fixture(scope="module")
def open_registry(tmp_path_factory):
    served = registry.LoopbackRegistry(tmp_path_factory.mktemp("registry"))
    yield served
    served.stop()


@pytest.fixture(scope="module")
def locked_registry(tmp_path_factory):
    served = registry.LoopbackRegistry(tmp_path_factory.mktemp("registry-auth"), users=USERS)
    yield served
    served.stop()


@pytest.fixture(scope="module")
def adapter(tmp_path_factory):
    """A real LoRA adapter of the tiny model (non-zero, so a merge changes the weights)."""
    return make_tiny_adapter(tmp_path_factory.mktemp("adapter"))


def pull(served, reference: str, outdir, credentials=None) -> dict[str, bytes]:
    """The artifact's files as oras-py's own pull() fetches them (not our code)."""
    client = oras_provider.Registry(hostname=served.host, insecure=True, auth_backend="basic")
    if credentials:
        client.auth.set_basic_auth(*credentials)
    files = client.pull(target=reference, outdir=str(outdir))
    return {path.rsplit("/", 1)[-1]: open(path, "rb").read() for path in files}


def manifest_of(served, reference: str, credentials=None) -> dict:
    client = oras_provider.Registry(hostname=served.host, insecure=True, auth_backend="basic")
    if credentials:
        client.auth.set_basic_auth(*credentials)
    return client.get_manifest(reference)


def folder_bytes(folder) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}


def test_the_adapter_comes_back_from_the_registry_byte_for_byte(open_registry, adapter, tmp_path, capsys):
    target = f"{open_registry.host}/ward/tiny-safety:v1"
    assert main(["export", str(adapter), "--push", target, "--insecure", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    pushed = document["result"]["pushed"][0]
    assert pushed["reference"] == target and pushed["pinned"] == f"{open_registry.host}/ward/tiny-safety@{pushed['digest']}"
    assert pull(open_registry, target, tmp_path / "pulled") == folder_bytes(adapter)
    manifest = manifest_of(open_registry, target)
    assert manifest["artifactType"] == export.ADAPTER_ARTIFACT_TYPE
    assert manifest["config"]["mediaType"] == export.CONFIG_MEDIA_TYPE
    media = {layer["annotations"][export.TITLE]: layer["mediaType"] for layer in manifest["layers"]}
    assert media["adapter_model.safetensors"] == export.WEIGHTS_MEDIA_TYPE
    assert media["adapter_config.json"] == export.FILE_MEDIA_TYPE
    # The pinned digest names the same manifest.
    assert manifest_of(open_registry, pushed["pinned"])["layers"] == manifest["layers"]


def test_a_locked_registry_takes_the_login_from_the_environment_and_never_shows_it(
        locked_registry, adapter, tmp_path, capsys, monkeypatch):
    target = f"{locked_registry.host}/ward/tiny-safety:v2"
    assert main(["export", str(adapter), "--push", target, "--insecure"]) == 2
    assert "asks for a login and none was given" in capsys.readouterr().err
    monkeypatch.setenv(export.USERNAME_ENV, "nurse")
    monkeypatch.setenv(export.PASSWORD_ENV, "not-the-password")
    assert main(["export", str(adapter), "--push", target, "--insecure"]) == 2
    assert "refused the login" in capsys.readouterr().err
    monkeypatch.setenv(export.PASSWORD_ENV, USERS["nurse"])
    assert main(["export", str(adapter), "--push", target, "--insecure", "--json"]) == 0
    captured = capsys.readouterr()
    assert USERS["nurse"] not in captured.out + captured.err
    assert pull(locked_registry, target, tmp_path / "pulled", ("nurse", USERS["nurse"])) == folder_bytes(adapter)


def test_a_docker_config_file_logs_in_as_a_pull_secret_would(locked_registry, adapter, tmp_path, capsys):
    auth = base64.b64encode(f"nurse:{USERS['nurse']}".encode()).decode()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {locked_registry.host: {"auth": auth}}}))
    target = f"{locked_registry.host}/ward/tiny-safety:v3"
    assert main(["export", str(adapter), "--push", target, "--insecure", "--docker-config", str(config)]) == 0
    assert USERS["nurse"] not in capsys.readouterr().out
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"auths": {"elsewhere.example.com": {"auth": auth}}}))
    with pytest.raises(HospitalError, match="no login for 127.0.0.1") as refused:
        export.credentials_from(locked_registry.host, environ={}, docker_config=wrong)
    assert USERS["nurse"] not in str(refused.value)


def test_the_merged_model_is_written_and_pushed_beside_the_adapter(open_registry, adapter, tmp_path, capsys):
    from safetensors.torch import load_file

    from model_hospital.clinic.models import resolve

    target = f"{open_registry.host}/ward/tiny-safety:v4"
    merged_dir = tmp_path / "merged"
    assert main(["export", str(adapter), "--push", target, "--merged", "--merge-to", str(merged_dir),
                 "--insecure", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)["result"]
    assert [p["reference"] for p in document["pushed"]] == [target, f"{target}-merged"]
    assert manifest_of(open_registry, f"{target}-merged")["artifactType"] == export.MODEL_ARTIFACT_TYPE
    assert pull(open_registry, f"{target}-merged", tmp_path / "pulled") == folder_bytes(merged_dir)
    merged = load_file(str(merged_dir / "model.safetensors"))
    base = load_file(str(resolve("bundled:tiny-random-llama").path / "model.safetensors"))
    name = next(key for key in merged if "q_proj" in key)
    assert not (merged[name] == base[name]).all()  # the adapter is in the weights
    assert not any("lora" in key for key in merged)


@pytest.mark.parametrize("reference, message", [
    ("ward/tiny-safety:v1", "names no registry"),
    ("127.0.0.1:5000/Ward/Tiny:v1", "lower case"),
    ("127.0.0.1:5000/ward/tiny@sha256:abc", "not to a digest"),
])
def test_bad_references_are_refused_before_anything_is_sent(reference, message):
    with pytest.raises(HospitalError, match=message):
        export.parse_reference(reference)


def test_a_folder_that_is_no_adapter_is_refused(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello")
    assert main(["export", str(tmp_path), "--push", "127.0.0.1:1/x:y", "--insecure"]) == 2
    assert "no adapter_config.json" in capsys.readouterr().err


def test_the_hub_needs_a_token_and_says_so(adapter, monkeypatch, capsys):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert main(["export", str(adapter), "--hub", "ward/tiny-safety"]) == 2
    assert "needs a write token" in capsys.readouterr().err
