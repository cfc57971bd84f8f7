"""The Helm chart, rendered by the real Helm engine (helm-python-sdk) in every documented mode.

What a platform engineer relies on: every manifest is valid Kubernetes 1.32, the pods
pass Pod Security "restricted", the CRDs it renders are exactly crds/ (and change when
a model gains a field), a wrong value fails at install with its field named, the
operator gets the settings it reads, and the RBAC grants every request the operator
makes (and nothing for kinds it never touches).
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import helm_python
import kubernetes_validate
import pytest
import yaml

from model_hospital import __version__
from model_hospital.api.protocol import STAGE_NAMES
from model_hospital.tools import chart_files, chart_values

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "charts" / "model-hospital"
RELEASE = "mh"
NAMESPACE = "hospital"
KUBE_VERSION = "1.32"

# Every documented mode of the chart: docs/install.md shows each of these.
MODES: dict[str, dict] = {
    "default": {},
    "namespaced": {"watch": {"allNamespaces": False, "namespaces": ["team-a", "team-b"]}},
    "namespaced-release-namespace": {"watch": {"allNamespaces": False}},
    "existing-claim": {"artifacts": {"existingClaim": "shared-artifacts"}},
    "stage-images": {"stages": {stage: {"image": f"registry.example.com/team/{stage}:2"}
                                for stage in ("diagnose", "synth", "train", "verify")}},
    "model-cache": {"modelCache": {"enabled": True, "storageClassName": "fast", "accessModes": ["ReadWriteMany"]}},
    "network-policy": {"networkPolicy": {
        "enabled": True, "apiServerCidrs": ["10.96.0.1/32"],
        "metricsFrom": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]}},
    "service-monitor": {"metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}}}},
    "kueue": {"kueue": {"queueName": "hospital-queue"}},
    "no-crds": {"crds": {"install": False}},
    "gpu-train": {"stages": {"train": {"gpu": 1, "nodeSelector": {"nvidia.com/gpu.present": "true"},
                                       "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]},
                             "priorityClassName": "batch-low", "nodeSelector": {"pool": "ml"},
                             "tolerations": [{"key": "pool", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}],
                             "serviceAccountName": "stage-runner", "imagePullSecrets": [{"name": "registry"}]}},
    "hf-token": {"huggingFace": {"tokenSecretRef": {"name": "hf-token", "key": "token"}}},
    "dashboard": {"dashboard": {"enabled": True}},
    "operator-placement": {
        "imagePullSecrets": [{"name": "registry"}],
        "serviceAccount": {"annotations": {"iam.gke.io/gcp-service-account": "hospital@project.iam.gserviceaccount.com"}},
        "operator": {"podAnnotations": {"team": "ml-platform"}, "podLabels": {"tier": "control"},
                     "nodeSelector": {"pool": "system"}, "priorityClassName": "system-cluster-critical",
                     "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"}],
                     "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                         {"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}]}]}}}}},
    "existing-service-account": {"serviceAccount": {"create": False, "name": "hospital-operator"}},
}
# Kinds that are CRDs on a real cluster, so kubernetes-validate has no schema for them.
CUSTOM_KINDS = {"ServiceMonitor"}


def render_texts(values: dict, chart: Path = CHART, name: str = RELEASE, namespace: str = NAMESPACE) -> dict[str, str]:
    """Template path -> rendered text, as Helm renders it for `values`."""
    with helm_python.Chart.load(str(chart)) as loaded:
        return loaded.render(values, name=name, namespace=namespace)


def render(values: dict, chart: Path = CHART) -> list[dict]:
    """The rendered manifests (NOTES.txt and empty templates left out)."""
    documents = []
    for path, text in sorted(render_texts(values, chart).items()):
        if path.endswith("NOTES.txt"):
            continue
        documents.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return documents


def of_kind(documents: list[dict], kind: str) -> list[dict]:
    """The documents of one kind."""
    return [doc for doc in documents if doc["kind"] == kind]


def operator_cluster_roles(documents: list[dict]) -> list[dict]:
    """The operator's own ClusterRoles (not those aggregated into the cluster's edit/view roles for users)."""
    return [role for role in of_kind(documents, "ClusterRole")
            if not any(label.startswith("rbac.authorization.k8s.io/aggregate-to-")
                       for label in role["metadata"].get("labels") or {})]


def the_deployment(documents: list[dict]) -> dict:
    """The operator's Deployment."""
    [deployment] = of_kind(documents, "Deployment")
    return deployment


def operator_env(documents: list[dict]) -> dict[str, str]:
    """The operator container's plain environment variables."""
    container = the_deployment(documents)["spec"]["template"]["spec"]["containers"][0]
    return {item["name"]: item["value"] for item in container["env"] if "value" in item}


# --- Pod Security "restricted" ---------------------------------------------------------

RESTRICTED_VOLUME_TYPES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}


def restricted_violations(pod_spec: dict) -> list[str]:
    """What in a pod spec breaks Pod Security "restricted" (v1.32), plus a writable root filesystem."""
    problems = []
    pod_context = pod_spec.get("securityContext") or {}
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if pod_spec.get(flag):
            problems.append(f"{flag} is set")
    for volume in pod_spec.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUME_TYPES:
            problems.append(f"volume {volume['name']} uses {sorted(kinds - RESTRICTED_VOLUME_TYPES)}")
    if pod_context.get("runAsUser") == 0:
        problems.append("pod runs as user 0")
    pod_seccomp = (pod_context.get("seccompProfile") or {}).get("type")
    for container in [*(pod_spec.get("initContainers") or []), *pod_spec.get("containers", [])]:
        name = container["name"]
        context = container.get("securityContext") or {}
        if context.get("privileged"):
            problems.append(f"{name}: privileged")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation is not false")
        if not (context.get("runAsNonRoot") or pod_context.get("runAsNonRoot")):
            problems.append(f"{name}: runAsNonRoot is not true")
        if context.get("runAsUser") == 0:
            problems.append(f"{name}: runs as user 0")
        capabilities = context.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            problems.append(f"{name}: capabilities do not drop ALL")
        if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
            problems.append(f"{name}: adds capabilities {capabilities['add']}")
        seccomp = (context.get("seccompProfile") or {}).get("type") or pod_seccomp
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{name}: seccompProfile is not RuntimeDefault")
        if any(port.get("hostPort") for port in container.get("ports") or []):
            problems.append(f"{name}: uses a hostPort")
        if not context.get("readOnlyRootFilesystem"):
            problems.append(f"{name}: root filesystem is writable")
    return problems


def pod_specs(documents: list[dict]) -> list[dict]:
    """The pod specs inside workload manifests."""
    return [doc["spec"]["template"]["spec"] for doc in documents if doc["kind"] in ("Deployment", "Job", "StatefulSet", "DaemonSet")]


# --- RBAC ------------------------------------------------------------------------------


def rules_allow(rules: list[dict], verb: str, group: str, resource: str) -> bool:
    """Whether any PolicyRule grants `verb` on `group`/`resource` (resource may be 'pods/log')."""
    for rule in rules:
        if not ({group, "*"} & set(rule.get("apiGroups") or [])):
            continue
        if not ({resource, "*"} & set(rule.get("resources") or [])):
            continue
        if {verb, "*"} & set(rule.get("verbs") or []):
            return True
    return False


def granted(documents: list[dict], service_account: str, service_account_namespace: str,
            verb: str, group: str, resource: str, namespace: str | None) -> bool:
    """Whether the rendered RBAC lets the ServiceAccount make the request (namespace None: cluster-scoped or all)."""
    roles = {(doc["kind"], doc["metadata"].get("namespace"), doc["metadata"]["name"]): doc.get("rules") or []
             for doc in documents if doc["kind"] in ("ClusterRole", "Role")}
    for binding in documents:
        if binding["kind"] not in ("ClusterRoleBinding", "RoleBinding"):
            continue
        if not any(subject["kind"] == "ServiceAccount" and subject["name"] == service_account
                   and subject.get("namespace") == service_account_namespace for subject in binding["subjects"]):
            continue
        if binding["kind"] == "RoleBinding" and binding["metadata"]["namespace"] != namespace:
            continue
        reference = binding["roleRef"]
        role_namespace = binding["metadata"].get("namespace") if reference["kind"] == "Role" else None
        if rules_allow(roles.get((reference["kind"], role_namespace, reference["name"]), []), verb, group, resource):
            return True
    return False


def api_request(method: str, url: str) -> tuple[str, str, str, str | None] | None:
    """(verb, group, resource, namespace) of a Kubernetes API request; None for discovery and non-resource paths."""
    parts = urlsplit(url)
    segments = [segment for segment in parts.path.split("/") if segment]
    query = parse_qs(parts.query)
    if segments[:1] == ["api"] and len(segments) >= 3:
        group, rest = "", segments[2:]
    elif segments[:1] == ["apis"] and len(segments) >= 4:
        group, rest = segments[1], segments[3:]
    else:
        return None
    namespace = None
    if len(rest) >= 2 and rest[0] == "namespaces" and len(rest) != 2:
        namespace, rest = rest[1], rest[2:]
    resource, name, subresource = rest[0], (rest[1] if len(rest) > 1 else None), (rest[2] if len(rest) > 2 else None)
    watching = query.get("watch", ["false"])[0] in ("true", "1")
    verb = {
        "GET": "watch" if watching else ("get" if name else "list"),
        "POST": "create", "PUT": "update", "PATCH": "patch",
        "DELETE": "delete" if name else "deletecollection",
    }[method.upper()]
    return verb, group, f"{resource}/{subresource}" if subresource else resource, namespace


# Requests the operator makes, read from controller/kube.py (its only client calls) and
# kopf 1.44 (observation.py: CRDs, and namespaces when not cluster-wide). The end-to-end
# test below checks the requests a real run makes; this list keeps the check when it skips.
OPERATOR_REQUESTS = [
    ("list", "apiextensions.k8s.io", "customresourcedefinitions", None),
    ("watch", "apiextensions.k8s.io", "customresourcedefinitions", None),
    *[(verb, "modelhospital.io", kind, "team") for kind in ("modelpatients", "treatments") for verb in ("list", "watch", "get")],
    *[("patch", "modelhospital.io", f"{kind}/status", "team") for kind in ("modelpatients", "treatments")],
    *[(verb, "batch", "jobs", "team") for verb in ("get", "list", "watch", "create", "delete")],
    ("create", "", "configmaps", "team"),
    ("create", "", "services", "team"),  # the rendezvous Service of a distributed train Job
    *[(verb, "", "pods", "team") for verb in ("list", "deletecollection")],
    ("get", "", "pods/log", "team"),
    ("create", "", "events", "team"),
    ("get", "", "persistentvolumeclaims", "team"),  # is the artifact claim ReadWriteMany (nodes > 1)?
    # A train stage run as a JobSet or TrainJob (spec.training.launcher; tests/test_operator_launchers.py).
    *[(verb, group, plural, "team") for group, plural in (("jobset.x-k8s.io", "jobsets"),
                                                          ("trainer.kubeflow.org", "trainjobs"))
      for verb in ("get", "create")],
]
NAMESPACED_MODE_REQUESTS = [("list", "", "namespaces", None), ("watch", "", "namespaces", None)]


# --- tests -----------------------------------------------------------------------------


def test_generated_chart_files_match_the_models_and_crds():
    assert chart_files.stale_chart_files(ROOT) == [], (
        "charts/model-hospital is out of date: run "
        "`hospital chart generate`")


@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_manifest_is_valid_kubernetes_1_32(mode):
    documents = render(MODES[mode])
    assert of_kind(documents, "Deployment"), "the operator is missing"
    for document in documents:
        if document["kind"] in CUSTOM_KINDS:
            continue
        try:
            kubernetes_validate.validate(document, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{mode}: {document['kind']}/{document['metadata']['name']}: {error.path}: {error.message}")


@pytest.mark.parametrize("mode", sorted(MODES))
def test_pods_pass_pod_security_restricted(mode):
    specs = pod_specs(render(MODES[mode]))
    assert specs
    for spec in specs:
        assert restricted_violations(spec) == []


def test_restricted_check_catches_a_root_pod():
    spec = copy.deepcopy(pod_specs(render({}))[0])
    spec["securityContext"]["runAsUser"] = 0
    container = spec["containers"][0]
    del container["securityContext"]["capabilities"]
    container["securityContext"]["allowPrivilegeEscalation"] = True
    spec["volumes"].append({"name": "host", "hostPath": {"path": "/"}})
    problems = restricted_violations(spec)
    assert "pod runs as user 0" in problems
    assert "operator: capabilities do not drop ALL" in problems
    assert "operator: allowPrivilegeEscalation is not false" in problems
    assert any("hostPath" in problem for problem in problems)


def test_stage_jobs_built_from_the_charts_settings_are_valid_and_restricted():
    settings = pytest.importorskip("model_hospital.controller.settings")
    jobs = pytest.importorskip("model_hospital.controller.jobs")
    from pydantic import BaseModel

    class Input(BaseModel):
        budget: int = 4

    values = {**MODES["gpu-train"], "modelCache": {"enabled": True}}
    operator_settings = settings.settings_from_env(operator_env(render(values)))
    owner = jobs.Owner(kind="Treatment", name="cure", namespace="team", uid="0000-1111", patient="smollm2")
    for stage in STAGE_NAMES:
        job = jobs.stage_job(owner, stage, 1, Input(), operator_settings)
        kubernetes_validate.validate(job, KUBE_VERSION, strict=True)
        pod = job["spec"]["template"]["spec"]
        assert restricted_violations(pod) == [], stage
    assert pod["containers"][0]["image"].endswith(f"/worker:{__version__}")
    train = jobs.stage_job(owner, "train", 1, Input(), operator_settings)["spec"]["template"]["spec"]
    assert train["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] in (1, "1")
    assert train["priorityClassName"] == "batch-low"


def test_chart_lints_clean_under_strict():
    result = helm_python.lint(str(CHART), strict=True, kube_version="v1.32.0")
    assert result["errors"] == []
    assert [m for m in result["messages"] if m["severity"] > 1] == [], result["messages"]


def test_rendered_crds_are_exactly_the_generated_crds():
    rendered = {doc["metadata"]["name"]: doc for doc in of_kind(render({}), "CustomResourceDefinition")}
    expected = {}
    for path in sorted((ROOT / "crds").glob("*.yaml")):
        document = yaml.safe_load(path.read_text())
        expected[document["metadata"]["name"]] = document
    assert set(rendered) == set(expected) == {"modelpatients.modelhospital.io", "treatments.modelhospital.io"}
    for name, crd in rendered.items():
        metadata = crd["metadata"]
        assert metadata.pop("annotations") == {"helm.sh/resource-policy": "keep"}
        assert metadata.pop("labels")["app.kubernetes.io/managed-by"] == "Helm"
        assert crd == expected[name], f"{name} rendered by the chart differs from crds/"


def test_crds_can_be_left_to_someone_else_and_unkept():
    assert of_kind(render({"crds": {"install": False}}), "CustomResourceDefinition") == []
    unkept = of_kind(render({"crds": {"keep": False}}), "CustomResourceDefinition")
    assert unkept and all("annotations" not in crd["metadata"] for crd in unkept)


def test_an_upgrade_that_adds_a_field_changes_the_rendered_crd(tmp_path, monkeypatch):
    from pydantic import Field, create_model

    from model_hospital.api import resources
    from model_hospital.tools import crdgen

    chart = tmp_path / "model-hospital"
    shutil.copytree(CHART, chart)
    before = {doc["metadata"]["name"]: doc for doc in of_kind(render({}, chart), "CustomResourceDefinition")}

    grown = create_model("ModelPatientSpec", __base__=resources.ModelPatientSpec,
                         ward=(str | None, Field(None, description="The ward the patient lies in.")))
    monkeypatch.setitem(crdgen.KINDS["modelpatients"], "spec", grown)
    (chart / "files" / "crds" / "modelpatients.yaml").write_text(
        crdgen.render_yaml(crdgen.custom_resource_definition("modelpatients")))
    after = {doc["metadata"]["name"]: doc for doc in of_kind(render({}, chart), "CustomResourceDefinition")}

    def spec_properties(crds):
        version = crds["modelpatients.modelhospital.io"]["spec"]["versions"][0]
        return version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]

    assert "ward" not in spec_properties(before)
    assert spec_properties(after)["ward"]["description"] == "The ward the patient lies in."
    assert after["treatments.modelhospital.io"] == before["treatments.modelhospital.io"]


@pytest.mark.parametrize(("values", "field"), [
    ({"stages": {"train": {"gpu": "two"}}}, "/stages/train/gpu"),
    ({"stages": {"trian": {"gpu": 1}}}, "trian"),
    ({"artifacts": {"size": "lots"}}, "/artifacts/size"),
    ({"operator": {"image": {"pullPolicy": "Sometimes"}}}, "/operator/image/pullPolicy"),
    ({"watch": {"namespaces": ["Team_A"]}}, "/watch/namespaces/0"),
])
def test_a_wrong_value_fails_at_render_naming_the_field(values, field):
    with pytest.raises(Exception) as raised:
        render(values)
    assert type(raised.value).__name__ == "HelmValuesError"
    assert field in str(raised.value)


def test_values_yaml_is_the_models_defaults_and_documents_every_key():
    text = (CHART / "values.yaml").read_text()
    assert yaml.safe_load(text) == chart_values.default_values()
    lines = text.splitlines()

    def check(model: type, indent: int) -> None:
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
            key = field.alias or name
            pattern = re.compile(rf"^ {{{indent}}}(# )?{re.escape(key)}:")
            index = next(i for i, line in enumerate(lines) if pattern.match(line))
            assert lines[index - 1].strip().startswith("#"), f"{key} has no comment above it"
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, chart_values.Values):
                check(annotation, indent + 2)

    check(chart_values.ChartValues, 0)


def test_values_schema_rejects_unknown_keys_everywhere():
    schema = json.loads((CHART / "values.schema.json").read_text())

    def objects(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                yield node
            for value in node.values():
                yield from objects(value)
        elif isinstance(node, list):
            for value in node:
                yield from objects(value)

    found = list(objects(schema))
    assert len(found) > 10
    assert all(node.get("additionalProperties") is False for node in found)


def test_images_default_to_the_package_version():
    documents = render({})
    container = the_deployment(documents)["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == f"ghcr.io/model-hospital/operator:{__version__}"
    env = operator_env(documents)
    assert env["HOSPITAL_IMAGE"] == f"ghcr.io/model-hospital/worker:{__version__}"
    gpu = operator_env(render(MODES["gpu-train"]))
    assert gpu["HOSPITAL_IMAGE_TRAIN"] == f"ghcr.io/model-hospital/worker-gpu:{__version__}"
    assert gpu["HOSPITAL_IMAGE_DIAGNOSE"] == f"ghcr.io/model-hospital/worker:{__version__}"


# Settings whose defaults the chart keeps on purpose: mount points inside stage pods.
OPERATOR_DEFAULTS_KEPT = {"HOSPITAL_ARTIFACT_ROOT", "HOSPITAL_CONFIG_ROOT", "HOSPITAL_MODEL_CACHE_ROOT"}


def settings_variables() -> set[str]:
    """The HOSPITAL_* variables controller/settings.py reads (its names, per stage for images)."""
    settings = pytest.importorskip("model_hospital.controller.settings")
    source = Path(settings.__file__).read_text()
    names = {name for name in re.findall(r'"(HOSPITAL_[A-Z_]+)"', source) if not name.endswith("_")}
    names |= {f"HOSPITAL_{kind}_{stage.upper()}" for stage in STAGE_NAMES for kind in ("IMAGE", "GPU_IMAGE")}
    return names


def test_the_deployment_sets_exactly_the_variables_the_operator_reads():
    read = settings_variables()
    set_anywhere = set()
    for mode, values in MODES.items():
        container = the_deployment(render(values))["spec"]["template"]["spec"]["containers"][0]
        names = {item["name"] for item in container["env"]} - {"DO_NOT_TRACK"}
        assert names - read == set(), f"{mode}: the operator does not read {sorted(names - read)}"
        set_anywhere |= names
    assert read - set_anywhere - OPERATOR_DEFAULTS_KEPT == set(), "the chart has no value for these operator settings"


def test_rendered_settings_reach_the_operator_as_meant():
    settings = pytest.importorskip("model_hospital.controller.settings")
    values = {
        "watch": {"allNamespaces": False, "namespaces": ["team-a", "team-b"]},
        "stages": {"train": {"gpu": 2, "deadlineSeconds": 7200, "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}]},
                   "nodeSelector": {"pool": "ml"}, "retries": 3, "jobTtlSeconds": 600,
                   "imagePullSecrets": [{"name": "registry"}, {"name": "mirror"}]},
        "artifacts": {"existingClaim": "shared-artifacts"},
        "modelCache": {"enabled": True},
        "kueue": {"queueName": "ml-queue"},
        "huggingFace": {"tokenSecretRef": {"name": "hf", "key": "hf-token"}},
    }
    result = settings.settings_from_env(operator_env(render(values)))
    assert (result.queue_name, result.hf_token_secret, result.hf_token_key) == ("ml-queue", "hf", "hf-token")
    assert result.namespaces == ["team-a", "team-b"]
    assert result.images["train"] == f"ghcr.io/model-hospital/worker-gpu:{__version__}"
    assert result.stage_resources["train"].gpu == 2
    assert result.stage_resources["train"].tolerations[0].key == "nvidia.com/gpu"
    assert result.stage_resources["diagnose"].memory == "8Gi"
    assert result.deadlines["train"] == 7200
    assert result.node_selector == {"pool": "ml"}
    assert result.stage_retries == 3
    assert result.job_ttl_seconds == 600
    assert result.artifact_claim == "shared-artifacts"
    assert result.image_pull_secrets == ["registry", "mirror"]
    assert result.model_cache_claim == f"{RELEASE}-model-hospital-model-cache"
    assert result.run_as_user == 1000
    assert result.health_port == 8081


def test_probes_use_the_health_port_the_operator_listens_on():
    documents = render({"operator": {"healthPort": 9000}})
    container = the_deployment(documents)["spec"]["template"]["spec"]["containers"][0]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports["health"] == 9000 == int(operator_env(documents)["HOSPITAL_HEALTH_PORT"])
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "health"}


def test_namespaced_mode_grants_a_role_in_each_namespace_and_no_cluster_wide_writes():
    documents = render(MODES["namespaced"])
    roles = of_kind(documents, "Role")
    assert sorted(role["metadata"]["namespace"] for role in roles) == ["team-a", "team-b"]
    account = f"{RELEASE}-model-hospital"
    for namespace in ("team-a", "team-b"):
        assert granted(documents, account, NAMESPACE, "create", "batch", "jobs", namespace)
    assert not granted(documents, account, NAMESPACE, "create", "batch", "jobs", "elsewhere")
    assert not granted(documents, account, NAMESPACE, "create", "batch", "jobs", None)
    for cluster_role in operator_cluster_roles(documents):
        for rule in cluster_role["rules"]:
            assert set(rule["verbs"]) <= {"get", "list", "watch"}
    container = the_deployment(documents)["spec"]["template"]["spec"]["containers"][0]
    assert "--namespace=team-a" in container["args"] and "--all-namespaces" not in container["args"]
    claims = of_kind(documents, "PersistentVolumeClaim")
    assert sorted(claim["metadata"]["namespace"] for claim in claims) == ["team-a", "team-b"]


def test_the_rbac_allows_every_request_the_operator_makes():
    for mode, values, requests in (
            ("cluster-wide", {}, OPERATOR_REQUESTS),
            ("namespaced", {"watch": {"allNamespaces": False, "namespaces": ["team"]}}, OPERATOR_REQUESTS + NAMESPACED_MODE_REQUESTS)):
        documents = render(values)
        missing = [request for request in requests if not granted(documents, f"{RELEASE}-model-hospital", NAMESPACE, *request)]
        assert missing == [], f"{mode}: the chart does not grant {missing}"


def test_the_rbac_check_fails_on_a_missing_verb():
    documents = render({})
    [role] = operator_cluster_roles(documents)
    for rule in role["rules"]:
        if "jobs" in rule["resources"]:
            rule["verbs"].remove("create")
    assert not granted(documents, f"{RELEASE}-model-hospital", NAMESPACE, "create", "batch", "jobs", "team")
    assert granted(documents, f"{RELEASE}-model-hospital", NAMESPACE, "get", "batch", "jobs", "team")


def test_the_rbac_grants_nothing_the_operator_does_not_use():
    documents = render({})
    [role] = operator_cluster_roles(documents)
    grants = {(group, resource, verb) for rule in role["rules"] for group in rule["apiGroups"]
              for resource in rule["resources"] for verb in rule["verbs"]}
    used = {(group, resource, verb) for verb, group, resource, _ in OPERATOR_REQUESTS}
    assert grants - used == set(), "the ClusterRole grants more than the operator uses"


def test_request_paths_are_read_as_rbac_requests():
    assert api_request("GET", "/apis/batch/v1/namespaces/team/jobs?watch=true") == ("watch", "batch", "jobs", "team")
    assert api_request("GET", "/api/v1/namespaces/team/pods/p-1/log?tailLines=40") == ("get", "", "pods/log", "team")
    assert api_request("PATCH", "/apis/modelhospital.io/v1alpha1/namespaces/t/modelpatients/p/status") == (
        "patch", "modelhospital.io", "modelpatients/status", "t")
    assert api_request("GET", "/api/v1/namespaces") == ("list", "", "namespaces", None)
    assert api_request("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions") == (
        "list", "apiextensions.k8s.io", "customresourcedefinitions", None)
    assert api_request("GET", "/apis") is None and api_request("GET", "/version") is None


def test_existing_service_account_is_bound_and_not_made():
    documents = render(MODES["existing-service-account"])
    assert of_kind(documents, "ServiceAccount") == []
    assert the_deployment(documents)["spec"]["template"]["spec"]["serviceAccountName"] == "hospital-operator"
    assert granted(documents, "hospital-operator", NAMESPACE, "create", "batch", "jobs", "team")
    with pytest.raises(Exception, match="serviceAccount.name"):
        render({"serviceAccount": {"create": False}})


def test_existing_claim_is_used_and_not_made():
    documents = render(MODES["existing-claim"])
    assert of_kind(documents, "PersistentVolumeClaim") == []
    assert operator_env(documents)["HOSPITAL_ARTIFACT_CLAIM"] == "shared-artifacts"


def test_model_cache_makes_a_claim_and_tells_the_operator():
    documents = render(MODES["model-cache"])
    claims = {claim["metadata"]["name"]: claim for claim in of_kind(documents, "PersistentVolumeClaim")}
    cache = claims[f"{RELEASE}-model-hospital-model-cache"]
    assert cache["spec"]["storageClassName"] == "fast"
    assert cache["spec"]["accessModes"] == ["ReadWriteMany"]
    assert cache["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert operator_env(documents)["HOSPITAL_MODEL_CACHE_CLAIM"] == f"{RELEASE}-model-hospital-model-cache"
    assert "HOSPITAL_MODEL_CACHE_CLAIM" not in operator_env(render({}))


def test_network_policy_admits_only_scrapes_and_probes():
    [policy] = of_kind(render(MODES["network-policy"]), "NetworkPolicy")
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    ingress_ports = [port["port"] for rule in policy["spec"]["ingress"] for port in rule["ports"]]
    assert ingress_ports == ["metrics", "health"]
    assert {"ipBlock": {"cidr": "10.96.0.1/32"}} in policy["spec"]["egress"][1]["to"]
    assert of_kind(render({}), "NetworkPolicy") == []


def test_service_monitor_scrapes_the_metrics_service():
    documents = render(MODES["service-monitor"])
    [monitor] = of_kind(documents, "ServiceMonitor")
    [service] = of_kind(documents, "Service")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"] == "metrics"
    assert of_kind(render({}), "ServiceMonitor") == []


def test_kueue_queue_and_token_reference_reach_the_operator():
    assert operator_env(render(MODES["kueue"]))["HOSPITAL_QUEUE_NAME"] == "hospital-queue"
    env = operator_env(render(MODES["hf-token"]))
    assert (env["HOSPITAL_HF_TOKEN_SECRET"], env["HOSPITAL_HF_TOKEN_KEY"]) == ("hf-token", "token")
    assert "HOSPITAL_QUEUE_NAME" not in operator_env(render({}))


def test_dashboard_configmap_carries_the_dashboard_json():
    [config_map] = of_kind(render(MODES["dashboard"]), "ConfigMap")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(config_map["data"]["model-hospital.json"])
    assert dashboard == json.loads((CHART / "dashboards" / "model-hospital.json").read_text())


@pytest.mark.parametrize("mode", ["default", "namespaced"])
def test_notes_tell_the_next_kubectl_apply(mode):
    notes = render_texts(MODES[mode])["model-hospital/templates/NOTES.txt"]
    namespace = NAMESPACE if mode == "default" else "team-a"
    assert f"kubectl -n {namespace} apply -f -" in notes
    block = notes.split("apply -f - <<'YAML'\n", 1)[1].split("   YAML", 1)[0]
    patient = yaml.safe_load("\n".join(line[3:] for line in block.splitlines()))
    resources = pytest.importorskip("model_hospital.api.resources")
    resources.ModelPatient.model_validate(patient)


def test_dashboard_charts_every_operator_metric_and_only_those():
    metrics = pytest.importorskip("model_hospital.controller.metrics")
    registry = metrics.Metrics().registry
    families = {family.name: family.type for family in registry.collect()}
    dashboard = json.loads((CHART / "dashboards" / "model-hospital.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = {re.sub(r"_(bucket|total)$", "", name) for expr in expressions for name in re.findall(r"\bhospital_[a-z_]+", expr)}
    # prometheus_client names a counter family without its _total suffix.
    defined = {name.removesuffix("_total") for name in families}
    assert used == defined, f"dashboard misses {sorted(defined - used)}; charts unknown {sorted(used - defined)}"
    for panel in dashboard["panels"]:
        assert panel["title"] and panel["datasource"]["uid"] == "${datasource}"


def test_install_guide_lists_every_metric_and_names_only_files_that_exist():
    metrics = pytest.importorskip("model_hospital.controller.metrics")
    guide = (ROOT / "docs" / "install.md").read_text()
    for family in metrics.Metrics().registry.collect():
        name = family.name + ("_total" if family.type == "counter" else "")
        assert f"`{name}{{" in guide, f"docs/install.md does not document {name}"
    for path in set(re.findall(r"\b((?:examples|charts|images|crds|docs)/[\w./-]+\.(?:yaml|json|md|lua))\b", guide)):
        assert (ROOT / path).is_file(), f"docs/install.md names {path}, which does not exist"
    for reference in ("crd-reference.md", "chart-values.md"):
        assert (ROOT / "docs" / reference).is_file()


# --- the chart on the loopback API, with the operator running under its RBAC ------------

OPERATOR_PYTHON = ROOT / ".venv-operator" / "bin" / "python"
WARD = "ward"


def free_port() -> int:
    """A TCP port nobody listens on now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def operator_requests(api) -> list[tuple[str, str, str, str | None]]:
    """(verb, group, resource, namespace) of every request the operator (kopf and its client) made."""
    found = []
    for request in list(api._requests):
        agent = request.headers.get("User-Agent", "")
        if agent.startswith(("kubectl", "python-requests")):
            continue  # the test's own kubectl, and the local runner playing the Job controller and kubelet
        parsed = api_request(str(request.method.value if hasattr(request.method, "value") else request.method).upper(),
                             str(request.url))
        if parsed is not None:
            found.append(parsed)
    return found


@pytest.fixture(scope="module")
def installed_ward(loopback, tmp_path_factory):
    """The chart installed (namespaced, serving `ward`) on the loopback API, its operator running with a patient diagnosed."""
    import os
    import subprocess
    import time
    import urllib.request

    from tests.harness.runner import LocalRunner

    if not OPERATOR_PYTHON.is_file():
        pytest.skip("the operator environment .venv-operator is missing")
    values = {"watch": {"allNamespaces": False, "namespaces": [WARD]}}
    documents = render(values)
    for namespace in (NAMESPACE, WARD):
        loopback.kubectl("create", "namespace", namespace, check=False)
    crds = of_kind(documents, "CustomResourceDefinition")
    loopback.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(crds))
    loopback.kubectl("wait", "--for=condition=Established", "--timeout=30s",
                     *[f"crd/{crd['metadata']['name']}" for crd in crds])
    rest = [doc for doc in documents if doc["kind"] != "CustomResourceDefinition"]
    loopback.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(rest))

    work = tmp_path_factory.mktemp("ward")
    health_port, metrics_port = free_port(), free_port()
    container = the_deployment(documents)["spec"]["template"]["spec"]["containers"][0]
    env = {key: value for key, value in os.environ.items() if not key.startswith(("KUBERNETES_", "HOSPITAL_"))}
    env.update(operator_env(documents))
    env.update(KUBECONFIG=str(loopback.kubeconfig), HOSPITAL_OPERATOR_NAMESPACE=NAMESPACE,
               HOSPITAL_HEALTH_PORT=str(health_port), HOSPITAL_METRICS_PORT=str(metrics_port), DO_NOT_TRACK="1")
    log = (work / "operator.log").open("w")
    operator = subprocess.Popen([str(OPERATOR_PYTHON), "-m", "model_hospital.cli", *container["args"]],
                                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=work)
    runner = LocalRunner(loopback.kubeconfig, root=work / "nodes", parallelism=1,
                         path_dirs=[str(ROOT / ".venv" / "bin")]).start()
    state = {"documents": documents, "health_port": health_port, "metrics_port": metrics_port, "log": work / "operator.log"}
    try:
        patient = {"apiVersion": "modelhospital.io/v1alpha1", "kind": "ModelPatient",
                   "metadata": {"name": "tiny", "namespace": WARD},
                   "spec": {"model": {"reference": "bundled:tiny-random-llama"}, "symptoms": ["safety"], "budget": 2}}
        loopback.kubectl("apply", "-f", "-", input=json.dumps(patient))
        deadline = time.monotonic() + 240
        phase = None
        while time.monotonic() < deadline and operator.poll() is None:
            found = json.loads(loopback.kubectl("get", "modelpatient", "tiny", "-n", WARD, "-o", "json").stdout)
            phase = (found.get("status") or {}).get("phase")
            if phase in ("Diagnosed", "Failed"):
                break
            time.sleep(1)
        state["patient"] = found
        state["children"] = loopback.kubectl("get", "jobs,pods", "-n", WARD, "-o", "yaml", check=False).stdout
        state["healthz"] = urllib.request.urlopen(f"http://127.0.0.1:{health_port}/healthz", timeout=5).status \
            if operator.poll() is None else None
        try:
            state["metrics"] = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
        except OSError:
            state["metrics"] = ""
        state["requests"] = loopback.call(operator_requests, loopback.api)
        yield state
    finally:
        runner.stop()
        operator.terminate()
        try:
            operator.wait(timeout=20)
        except subprocess.TimeoutExpired:
            operator.kill()
        log.close()


@pytest.mark.cluster
def test_the_operator_diagnoses_a_patient_with_only_the_rbac_the_chart_grants(installed_ward):
    patient = installed_ward["patient"]
    log_tail = installed_ward["log"].read_text()[-3000:]
    assert (patient.get("status") or {}).get("phase") == "Diagnosed", (
        f"no diagnosis; operator log:\n{log_tail}\nJobs and pods:\n{installed_ward['children'][-4000:]}")
    requests = installed_ward["requests"]
    assert ("create", "batch", "jobs", WARD) in requests
    documents = installed_ward["documents"]
    account = f"{RELEASE}-model-hospital"
    refused = sorted({request for request in requests if not granted(documents, account, NAMESPACE, *request)})
    assert refused == [], f"the chart's RBAC refuses requests the operator made: {refused}"


@pytest.mark.cluster
def test_the_probes_and_the_metrics_port_answer_on_a_running_operator(installed_ward):
    assert installed_ward["healthz"] == 200
    created = re.search(r'^hospital_stage_jobs_created_total\{[^}]*stage="diagnose"[^}]*\} ([0-9.]+)$',
                        installed_ward["metrics"], re.MULTILINE)
    assert created and float(created.group(1)) >= 1, "the metrics Service's port serves no moving Job counter"


@pytest.mark.cluster
def test_argo_cd_calls_the_patient_the_end_to_end_run_diagnosed_healthy(installed_ward):
    from tests.test_gitops import health

    verdict = health("ModelPatient", installed_ward["patient"])
    assert verdict["status"] == "Healthy", verdict
    assert verdict["message"].startswith("Diagnosed: ")


def test_chart_generate_check_fails_on_a_hand_edited_file_and_generate_repairs_it(tmp_path):
    import argparse

    from model_hospital.cli import chart as chart_command

    for folder in ("charts", "crds", "docs", "examples"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    values = tmp_path / "charts" / "model-hospital" / "values.yaml"
    values.write_text(values.read_text().replace("allNamespaces: true", "allNamespaces: false"))
    parser = argparse.ArgumentParser()
    chart_command.register(parser.add_subparsers())

    def run(*argv):
        args = parser.parse_args(["chart", "generate", "--root", str(tmp_path), *argv])
        return args.handler(args)

    assert run("--check") == 1
    assert run() == 0
    assert run("--check") == 0
    assert "allNamespaces: true" in values.read_text()
