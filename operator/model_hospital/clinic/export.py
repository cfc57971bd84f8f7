"""Handing the healed model on: an adapter (or a merged model) as an OCI artifact in a registry.

As KAITO does for its adapters, the model travels through the registry the cluster
already trusts, not through a claim nobody outside can read. The artifact is an
OCI image manifest with its own `artifactType`; its config blob says what it is
(base model, files and their digests, where it came from) and each file of the
folder is one layer, named by the standard title annotation, so any OCI client
(`oras pull`) gets the folder back byte for byte.

The registry client is oras-py (ORAS's Python SDK); its high-level push() cannot
set `artifactType` or per-layer media types, so the manifest is built here and
sent through its blob and manifest calls. Credentials come from the environment
or a Docker config file (a `kubernetes.io/dockerconfigjson` Secret mounted as a
file); they are never printed, logged or written into the artifact.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from model_hospital.errors import HospitalError, Unavailable

ADAPTER_ARTIFACT_TYPE = "application/vnd.modelhospital.adapter.v1"
MODEL_ARTIFACT_TYPE = "application/vnd.modelhospital.model.v1"
CONFIG_MEDIA_TYPE = "application/vnd.modelhospital.export.config.v1+json"
WEIGHTS_MEDIA_TYPE = "application/vnd.modelhospital.weights.v1"
FILE_MEDIA_TYPE = "application/vnd.modelhospital.file.v1"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
TITLE = "org.opencontainers.image.title"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".gguf")
USERNAME_ENV = "HOSPITAL_REGISTRY_USERNAME"
PASSWORD_ENV = "HOSPITAL_REGISTRY_PASSWORD"
DOCKER_CONFIG_ENV = "HOSPITAL_REGISTRY_CONFIG"
BASE_MARKER = "hospital_base.json"  # clinic.models.BASE_MARKER, without importing the model loaders


@dataclass(frozen=True)
class Credentials:
    """A registry login; the password never shows in a repr, a log or an error."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class Reference:
    """host[:port]/repository[:tag], as `docker push` takes it."""

    registry: str
    repository: str
    tag: str

    def __str__(self) -> str:
        return f"{self.registry}/{self.repository}:{self.tag}"


@dataclass(frozen=True)
class Pushed:
    """What a push left in the registry: where, its manifest digest, and each layer."""

    reference: str  # host/repository:tag
    pinned: str  # host/repository@sha256:...: what a deployment should pull
    digest: str
    artifact_type: str
    layers: dict[str, str]  # file name -> sha256 digest


def parse_reference(text: str, default_tag: str = "latest") -> Reference:
    """A Reference from 'host[:port]/repo/path[:tag]'; a reference without a registry host is a user error."""
    if "@" in text:
        raise HospitalError(f"{text}: push to a tag (host/repo:tag), not to a digest")
    host, slash, rest = text.partition("/")
    if not slash or not rest or not ("." in host or ":" in host or host == "localhost"):
        raise HospitalError(f"{text!r} names no registry: write HOST[:PORT]/REPOSITORY[:TAG], "
                            "e.g. registry.example.com/team/smollm2-safety:v1")
    repository, colon, tag = rest.rpartition(":") if ":" in rest.rsplit("/", 1)[-1] else (rest, "", default_tag)
    if not repository or not tag or repository != repository.lower():
        raise HospitalError(f"{text!r}: the repository must be lower case and the tag not empty")
    return Reference(registry=host, repository=repository, tag=tag)


def credentials_from(registry: str, environ: dict[str, str] | None = None,
                     docker_config: Path | None = None) -> Credentials | None:
    """The login for `registry`: the environment's username/password, else a Docker config file's entry; None for none."""
    environ = dict(os.environ if environ is None else environ)
    username, password = environ.get(USERNAME_ENV), environ.get(PASSWORD_ENV)
    if username or password:
        if not (username and password):
            raise HospitalError(f"set both {USERNAME_ENV} and {PASSWORD_ENV}, or neither")
        return Credentials(username, password)
    path = docker_config or (Path(environ[DOCKER_CONFIG_ENV]) if environ.get(DOCKER_CONFIG_ENV) else None)
    if path is None:
        return None
    try:
        auths = json.loads(path.read_text(encoding="utf-8")).get("auths") or {}
    except (OSError, ValueError, AttributeError) as error:
        raise HospitalError(f"{path} is not a readable Docker config (.dockerconfigjson): {type(error).__name__}") from None
    entry = next((value for key, value in auths.items()
                  if key.removeprefix("https://").removeprefix("http://").split("/")[0] == registry), None)
    if entry is None:
        raise HospitalError(f"{path} has no login for {registry} (its auths name {', '.join(sorted(auths)) or 'none'})")
    if entry.get("username") and entry.get("password"):
        return Credentials(entry["username"], entry["password"])
    try:
        username, _, password = base64.b64decode(entry.get("auth", "")).decode("utf-8").partition(":")
    except ValueError:
        username = password = ""
    if not (username and password):
        raise HospitalError(f"{path}: the login for {registry} has no username and password")
    return Credentials(username, password)


def artifact_files(folder: Path, artifact_type: str) -> list[Path]:
    """The files that make up the artifact, in a stable order; a folder that is not an adapter or model is refused."""
    if not folder.is_dir():
        raise HospitalError(f"{folder} is not a folder: name the adapter (or merged model) folder")
    files = sorted(path for path in folder.iterdir() if path.is_file() and not path.name.startswith("."))
    names = {path.name for path in files}
    needed = "adapter_config.json" if artifact_type == ADAPTER_ARTIFACT_TYPE else "config.json"
    if needed not in names:
        what = "a LoRA adapter" if artifact_type == ADAPTER_ARTIFACT_TYPE else "a full model"
        raise HospitalError(f"{folder} has no {needed}: it is not {what} folder")
    if not any(name.endswith(WEIGHT_SUFFIXES) for name in names):
        raise HospitalError(f"{folder} holds no weights ({', '.join(WEIGHT_SUFFIXES)} files)")
    return files


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def export_config(folder: Path, files: list[Path], artifact_type: str, source: dict[str, str]) -> dict:
    """The artifact's config blob: what it is, its base model, each file's digest, where it came from."""
    marker = folder / BASE_MARKER
    base = None
    if marker.is_file():
        try:
            base = json.loads(marker.read_text(encoding="utf-8")).get("reference")
        except ValueError:
            base = None
    return {"schema": "modelhospital.io/export/v1", "artifactType": artifact_type, "base": base,
            "files": {path.name: sha256_of(path) for path in files}, "source": source}


def _layer(path: Path) -> dict:
    media_type = WEIGHTS_MEDIA_TYPE if path.name.endswith(WEIGHT_SUFFIXES) else FILE_MEDIA_TYPE
    return {"mediaType": media_type, "digest": sha256_of(path), "size": path.stat().st_size,
            "annotations": {TITLE: path.name}}


def registry_client(reference: Reference, credentials: Credentials | None, insecure: bool):
    """An oras-py registry client for the reference's host, logged in the way the registry asks.

    The registry's answer to `GET /v2/` decides: a `Bearer` challenge (Docker Hub, GHCR, Harbor) trades
    the login for a token, a `Basic` one (a plain distribution registry with htpasswd) takes it as is.
    """
    try:
        import oras.provider
    except ModuleNotFoundError:
        raise HospitalError("the OCI client is not installed: pip install 'model-hospital[worker]' "
                            "(oras); scripts/setup-env installs it") from None
    import requests

    scheme = "http" if insecure else "https"
    try:
        challenge = requests.get(f"{scheme}://{reference.registry}/v2/", timeout=30).headers.get("Www-Authenticate", "")
    except requests.RequestException as error:
        raise Unavailable(f"the registry {reference.registry} did not answer over {scheme}: "
                          f"{type(error).__name__}") from None
    basic = challenge.lower().startswith("basic")
    if basic and credentials is None:
        raise HospitalError(f"the registry {reference.registry} asks for a login and none was given: set "
                            f"{USERNAME_ENV} and {PASSWORD_ENV}, or name a Docker config file")
    client = oras.provider.Registry(hostname=reference.registry, insecure=insecure,
                                    auth_backend="basic" if basic else "token")
    if credentials is not None:
        client.auth.set_basic_auth(credentials.username, credentials.password)
    return client


def push(folder: Path, target: str, *, artifact_type: str = ADAPTER_ARTIFACT_TYPE,
         credentials: Credentials | None = None, insecure: bool = False,
         source: dict[str, str] | None = None) -> Pushed:
    """Pushes the folder as one OCI artifact (a layer per file) to `target`; gives back where it lies and its digest."""
    import requests

    reference = parse_reference(target)
    files = artifact_files(folder, artifact_type)
    layers = [_layer(path) for path in files]
    config = json.dumps(export_config(folder, files, artifact_type, source or {}), indent=1, sort_keys=True)
    client = registry_client(reference, credentials, insecure)
    container = client.get_container(str(reference))
    try:
        with tempfile.TemporaryDirectory(prefix="hospital-export-") as scratch:
            config_path = Path(scratch) / "config.json"
            config_path.write_text(config, encoding="utf-8")
            config_layer = {"mediaType": CONFIG_MEDIA_TYPE, "digest": sha256_of(config_path),
                            "size": config_path.stat().st_size}
            for path, layer in [*zip(files, layers), (config_path, config_layer)]:
                _check(client.upload_blob(str(path), container, layer), reference, f"uploading {path.name}")
        manifest = {"schemaVersion": 2, "mediaType": MANIFEST_MEDIA_TYPE, "artifactType": artifact_type,
                    "config": config_layer, "layers": layers,
                    "annotations": {f"modelhospital.io/{key}": value for key, value in (source or {}).items()}}
        response = client.upload_manifest(manifest, container)
        _check(response, reference, "writing the manifest")
    except requests.ConnectionError as error:
        raise Unavailable(f"the registry {reference.registry} did not answer: {type(error).__name__}") from None
    except ValueError as error:  # oras-py's word for a refused request
        if any(code in str(error) for code in ("UNAUTHORIZED", "DENIED")):
            raise HospitalError(_refused_login(reference)) from None
        raise HospitalError(f"the registry {reference.registry} refused the push to {reference}: "
                            f"{str(error)[:300]}") from None
    digest = response.headers.get("Docker-Content-Digest") or ""
    if not digest.startswith("sha256:"):
        raise HospitalError(f"the registry {reference.registry} accepted the manifest but named no digest for it")
    return Pushed(reference=str(reference), pinned=f"{reference.registry}/{reference.repository}@{digest}",
                  digest=digest, artifact_type=artifact_type,
                  layers={layer["annotations"][TITLE]: layer["digest"] for layer in layers})


def _refused_login(reference: Reference) -> str:
    return (f"the registry {reference.registry} refused the login: check the credentials ({USERNAME_ENV}/"
            f"{PASSWORD_ENV} or the Docker config) and their right to push to {reference.repository}")


def _check(response, reference: Reference, doing: str) -> None:
    if response.status_code in (401, 403):
        raise HospitalError(_refused_login(reference) + f" (HTTP {response.status_code} while {doing})")
    if response.status_code not in (200, 201, 202):
        raise HospitalError(f"the registry {reference.registry} answered HTTP {response.status_code} while {doing} "
                            f"for {reference}: {response.text[:300]}")


def push_to_hub(folder: Path, repo_id: str, token: str | None, *, private: bool = True,
                message: str = "Model Hospital: healed model") -> str:
    """Uploads the folder to a Hugging Face model repository (created private when absent); gives back its URL.

    Needs a token with write access; the token is passed to the hub client only.
    """
    if not token:
        raise HospitalError("pushing to the Hugging Face hub needs a write token: set HF_TOKEN "
                            "(or name the variable with --hub-token-env)")
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise HospitalError(f"{repo_id!r} is not a hub repository id: write OWNER/NAME")
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        commit = api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="model",
                                   commit_message=message, allow_patterns=[path.name for path in folder.iterdir()
                                                                          if path.is_file()])
    except HfHubHTTPError as error:
        status = getattr(error.response, "status_code", None)
        if status in (401, 403):
            raise HospitalError(f"the hub refused the token for {repo_id} (HTTP {status}): it needs write access") from None
        raise Unavailable(f"the hub did not take {repo_id}: HTTP {status}") from None
    return str(getattr(commit, "commit_url", None) or f"https://huggingface.co/{repo_id}")
