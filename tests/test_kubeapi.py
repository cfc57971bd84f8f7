"""The loopback Kubernetes API answers the real kubectl the way a cluster does."""

import datetime
import json
import re
import textwrap
import threading

import pytest
import requests

from tests.harness import schema as crd_schema
from tests.harness import selectors
from tests.harness.cluster import LoopbackCluster

pytestmark = pytest.mark.cluster

CRD = textwrap.dedent("""
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata:
      name: wards.test.modelhospital.io
    spec:
      group: test.modelhospital.io
      scope: Namespaced
      names:
        kind: Ward
        plural: wards
        singular: ward
        shortNames: [wd]
        categories: [clinic]
      versions:
        - name: v1
          served: true
          storage: true
          subresources:
            status: {}
          additionalPrinterColumns:
            - name: Floor
              type: integer
              jsonPath: .spec.floor
            - name: Kind
              type: string
              jsonPath: .spec.kind
            - name: Ready
              type: string
              jsonPath: .status.conditions[?(@.type=="Ready")].status
            - name: Age
              type: date
              jsonPath: .metadata.creationTimestamp
          schema:
            openAPIV3Schema:
              type: object
              required: [spec]
              properties:
                spec:
                  type: object
                  required: [floor]
                  properties:
                    floor:
                      type: integer
                      minimum: 1
                    kind:
                      type: string
                      enum: [general, intensive]
                      default: general
                    note:
                      type: string
                      nullable: true
                status:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
""")


def ward(name: str, floor: int = 2, labels: dict | None = None, extra: str = "") -> str:
    label_text = "".join(f"\n    {key}: {value}" for key, value in (labels or {}).items())
    return textwrap.dedent(f"""
        apiVersion: test.modelhospital.io/v1
        kind: Ward
        metadata:
          name: {name}
          labels: {{}}
        spec:
          floor: {floor}
    """).replace("labels: {}", "labels:" + label_text if label_text else "labels: {}") + extra


@pytest.fixture(scope="module")
def cluster(loopback: LoopbackCluster) -> LoopbackCluster:
    loopback.kubectl("apply", "-f", "-", input=CRD)
    loopback.kubectl("wait", "--for=condition=Established", "crd/wards.test.modelhospital.io", "--timeout=10s")
    return loopback


def get_json(cluster: LoopbackCluster, *args: str) -> dict:
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def test_crd_is_established_and_its_resource_discoverable(cluster):
    crd = get_json(cluster, "crd", "wards.test.modelhospital.io")
    conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conditions == {"Established": "True", "NamesAccepted": "True"}
    resources = cluster.kubectl("api-resources", "--api-group=test.modelhospital.io").stdout
    assert "wards" in resources and "wd" in resources and "Ward" in resources


def test_short_name_get_prints_printer_columns(cluster):
    cluster.kubectl("apply", "-f", "-", input=ward("east", floor=3))
    cluster.kubectl("patch", "wd", "east", "--subresource=status", "--type=merge",
                    "-p", '{"status": {"conditions": [{"type": "Ready", "status": "True"}]}}')
    lines = cluster.kubectl("get", "wd").stdout.splitlines()
    assert lines[0].split() == ["NAME", "FLOOR", "KIND", "READY", "AGE"]
    row = next(line.split() for line in lines if line.startswith("east"))
    assert row[:4] == ["east", "3", "general", "True"]  # "general" is the schema default
    assert row[4].endswith(("s", "m"))


def test_category_lists_the_custom_resources(cluster):
    cluster.kubectl("apply", "-f", "-", input=ward("north"))
    assert "ward.test.modelhospital.io/north" in cluster.kubectl("get", "clinic", "-o", "name").stdout


def test_label_selectors_filter_lists(cluster):
    cluster.kubectl("apply", "-f", "-", input=ward("west", labels={"wing": "old"}))
    cluster.kubectl("apply", "-f", "-", input=ward("south", labels={"wing": "new"}))
    assert cluster.kubectl("get", "wards", "-l", "wing=old", "-o", "name").stdout.split() == ["ward.test.modelhospital.io/west"]
    assert "west" not in cluster.kubectl("get", "wards", "-l", "wing notin (old)", "-o", "name").stdout
    assert cluster.kubectl("get", "wards", "-l", "wing=nowhere").stderr.strip() == "No resources found in default namespace."


def test_invalid_custom_resource_is_rejected_naming_the_field(cluster):
    result = cluster.kubectl("apply", "-f", "-", input=ward("broken", floor=0), check=False)
    assert result.returncode != 0
    assert "spec.floor" in result.stderr and "greater than or equal to 1" in result.stderr
    bad_enum = ward("broken", extra="  kind: luxury\n")
    result = cluster.kubectl("apply", "-f", "-", input=bad_enum, check=False)
    assert 'spec.kind: Unsupported value: "luxury"' in result.stderr
    assert cluster.kubectl("get", "ward", "broken", check=False).returncode != 0


def test_unknown_field_is_rejected_by_strict_validation(cluster):
    result = cluster.kubectl("apply", "-f", "-", input=ward("typo", extra="  flor: 2\n"), check=False)
    assert result.returncode != 0 and 'unknown field "spec.flor"' in result.stderr


def test_duplicate_create_is_already_exists(cluster):
    cluster.kubectl("create", "-f", "-", input=ward("twin"))
    result = cluster.kubectl("create", "-f", "-", input=ward("twin"), check=False)
    assert "(AlreadyExists)" in result.stderr and '"twin" already exists' in result.stderr


def test_replace_with_a_stale_resource_version_is_a_conflict(cluster):
    cluster.kubectl("apply", "-f", "-", input=ward("stale"))
    stale = get_json(cluster, "ward", "stale")
    cluster.kubectl("patch", "ward", "stale", "--type=merge", "-p", '{"spec": {"floor": 5}}')
    stale["spec"]["floor"] = 7
    result = cluster.kubectl("replace", "-f", "-", input=json.dumps(stale), check=False)
    assert "(Conflict)" in result.stderr and "the object has been modified" in result.stderr
    assert get_json(cluster, "ward", "stale")["spec"]["floor"] == 5


def test_status_subresource_is_kept_apart_from_spec(cluster):
    cluster.kubectl("apply", "-f", "-", input=ward("apart", floor=2))
    before = get_json(cluster, "ward", "apart")
    cluster.kubectl("patch", "ward", "apart", "--subresource=status", "--type=merge",
                    "-p", '{"spec": {"floor": 9}, "status": {"phase": "Open"}}')
    cluster.kubectl("patch", "ward", "apart", "--type=merge", "-p", '{"spec": {"floor": 4}, "status": {"phase": "Closed"}}')
    after = get_json(cluster, "ward", "apart")
    assert after["spec"]["floor"] == 4 and after["status"]["phase"] == "Open"
    assert after["metadata"]["generation"] == before["metadata"]["generation"] + 1
    assert int(after["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])


def test_deleting_an_owner_collects_its_dependents(cluster):
    cluster.kubectl("apply", "-f", "-", input=ward("owner"))
    owner = get_json(cluster, "ward", "owner")
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owned", "ownerReferences": [{
        "apiVersion": "test.modelhospital.io/v1", "kind": "Ward", "name": "owner", "uid": owner["metadata"]["uid"]}]},
        "data": {"bed": "1"}}
    cluster.kubectl("apply", "-f", "-", input=json.dumps(config_map))
    cluster.kubectl("delete", "ward", "owner")
    assert cluster.kubectl("get", "configmap", "owned", check=False).returncode != 0


def test_finalizer_holds_deletion_until_removed(cluster):
    cluster.kubectl("apply", "-f", "-", input=ward("held", extra="").replace("  labels: {}", "  labels: {}\n  finalizers: [test/hold]"))
    cluster.kubectl("delete", "ward", "held", "--wait=false")
    held = get_json(cluster, "ward", "held")
    assert held["metadata"]["deletionTimestamp"]
    cluster.kubectl("patch", "ward", "held", "--type=json", "-p", '[{"op": "remove", "path": "/metadata/finalizers"}]')
    cluster.kubectl("wait", "--for=delete", "ward/held", "--timeout=5s")


def test_json_patch_with_a_failing_test_is_rejected(cluster):
    cluster.kubectl("apply", "-f", "-", input=ward("tested", floor=2))
    operations = '[{"op": "test", "path": "/spec/floor", "value": 3}, {"op": "replace", "path": "/spec/floor", "value": 8}]'
    result = cluster.kubectl("patch", "ward", "tested", "--type=json", "-p", operations, check=False)
    assert result.returncode != 0 and "The request is invalid" in result.stderr
    assert get_json(cluster, "ward", "tested")["spec"]["floor"] == 2


def test_wait_for_jsonpath_sees_a_later_status_change(cluster):
    cluster.kubectl("apply", "-f", "-", input=ward("waited"))
    waiter: dict = {}
    thread = threading.Thread(target=lambda: waiter.update(result=cluster.kubectl(
        "wait", "--for=jsonpath={.status.phase}=Open", "ward/waited", "--timeout=10s", check=False)))
    thread.start()
    cluster.kubectl("patch", "ward", "waited", "--subresource=status", "--type=merge", "-p", '{"status": {"phase": "Open"}}')
    thread.join(timeout=15)
    assert waiter["result"].returncode == 0, waiter["result"].stderr


def test_describe_shows_events_of_the_object(cluster):
    cluster.kubectl("apply", "-f", "-", input=ward("described"))
    uid = get_json(cluster, "ward", "described")["metadata"]["uid"]
    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "described.1"},
             "involvedObject": {"apiVersion": "test.modelhospital.io/v1", "kind": "Ward", "name": "described",
                                "namespace": "default", "uid": uid},
             "reason": "Admitted", "message": "the ward admitted its first patient", "type": "Normal",
             "source": {"component": "tester"}, "count": 1,
             "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z"}
    cluster.kubectl("create", "-f", "-", input=json.dumps(event))
    described = cluster.kubectl("describe", "ward", "described").stdout
    assert "Admitted" in described and "the ward admitted its first patient" in described


def test_deleting_the_crd_removes_its_objects_and_resource(loopback):
    crd = CRD.replace("wards", "beds").replace("Ward", "Bed").replace("ward", "bed").replace("[wd]", "[bd]").replace("clinic", "furniture")
    loopback.kubectl("apply", "-f", "-", input=crd)
    loopback.kubectl("apply", "-f", "-", input=ward("b1").replace("Ward", "Bed"))
    assert loopback.call(loopback.api.get_object, "test.modelhospital.io/v1/beds", "default", "b1") is not None
    loopback.kubectl("delete", "crd", "beds.test.modelhospital.io")
    assert loopback.call(loopback.api.get_object, "test.modelhospital.io/v1/beds", "default", "b1") is None
    assert loopback.kubectl("get", "beds", check=False).returncode != 0


def test_namespaces_can_be_created_listed_and_must_exist(loopback):
    loopback.kubectl("create", "namespace", "oncology")
    assert "oncology" in loopback.kubectl("get", "namespaces", "-o", "name").stdout
    result = loopback.kubectl("create", "configmap", "x", "-n", "nowhere", check=False)
    assert 'namespaces "nowhere" not found' in result.stderr


def test_unknown_field_of_a_built_in_is_rejected(cluster):
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "misplaced"},
           "spec": {"volumes": [], "template": {"spec": {"restartPolicy": "Never",
                                                         "containers": [{"name": "c", "image": "i"}]}}}}
    result = cluster.kubectl("apply", "-f", "-", input=json.dumps(job), check=False)
    assert 'unknown field "spec.volumes"' in result.stderr
    assert cluster.kubectl("get", "job", "misplaced", check=False).returncode != 0


WARDS = "/apis/test.modelhospital.io/v1/namespaces/default/wards"


def test_create_stamps_metadata_and_generation_follows_spec_only(cluster):
    created = requests.post(cluster.url + WARDS, json={
        "apiVersion": "test.modelhospital.io/v1", "kind": "Ward",
        "metadata": {"generateName": "gen-"}, "spec": {"floor": 1}})
    assert created.status_code == 201
    meta = created.json()["metadata"]
    assert meta["name"].startswith("gen-") and len(meta["name"]) == len("gen-") + 5
    assert meta["uid"] and meta["namespace"] == "default" and meta["generation"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", meta["creationTimestamp"])
    url = f"{cluster.url}{WARDS}/{meta['name']}"
    merge = {"Content-Type": "application/merge-patch+json"}
    labelled = requests.patch(url, data=json.dumps({"metadata": {"labels": {"a": "b"}}}), headers=merge).json()
    assert labelled["metadata"]["generation"] == 1
    assert int(labelled["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])
    moved = requests.patch(url, data=json.dumps({"spec": {"floor": 6}}), headers=merge).json()
    assert moved["metadata"]["generation"] == 2
    same = requests.patch(url, data=json.dumps({"spec": {"floor": 6}}), headers=merge).json()
    assert same["metadata"]["resourceVersion"] == moved["metadata"]["resourceVersion"]


def test_patch_content_types_are_honoured(cluster):
    requests.post(cluster.url + WARDS, json={"apiVersion": "test.modelhospital.io/v1", "kind": "Ward",
                                             "metadata": {"name": "typed"}, "spec": {"floor": 1}})
    url = f"{cluster.url}{WARDS}/typed"
    strategic = requests.patch(url, data='{"spec": {"floor": 2}}',
                               headers={"Content-Type": "application/strategic-merge-patch+json"})
    assert strategic.status_code == 415 and strategic.json()["reason"] == "UnsupportedMediaType"
    current = requests.get(url).json()["metadata"]["resourceVersion"]
    stale = requests.patch(url, data=json.dumps({"metadata": {"resourceVersion": "1"}, "spec": {"floor": 3}}),
                           headers={"Content-Type": "application/merge-patch+json"})
    assert stale.status_code == 409 and stale.json()["reason"] == "Conflict"
    guarded = [{"op": "test", "path": "/metadata/resourceVersion", "value": current},
               {"op": "add", "path": "/metadata/finalizers", "value": ["x/y"]}]
    patched = requests.patch(url, data=json.dumps(guarded), headers={"Content-Type": "application/json-patch+json"})
    assert patched.status_code == 200 and patched.json()["metadata"]["finalizers"] == ["x/y"]
    again = requests.patch(url, data=json.dumps(guarded), headers={"Content-Type": "application/json-patch+json"})
    assert again.status_code == 422
    applied = requests.patch(url.replace("/typed", "/applied") + "?fieldManager=tests",
                             data="apiVersion: test.modelhospital.io/v1\nkind: Ward\nmetadata: {name: applied}\nspec: {floor: 4}\n",
                             headers={"Content-Type": "application/apply-patch+yaml"})
    assert applied.status_code == 201 and applied.json()["spec"] == {"floor": 4, "kind": "general"}


def test_invalid_status_names_the_field_like_the_apiserver(cluster):
    response = requests.post(cluster.url + WARDS, json={"apiVersion": "test.modelhospital.io/v1", "kind": "Ward",
                                                        "metadata": {"name": "low"}, "spec": {"floor": -1, "note": None}})
    body = response.json()
    assert response.status_code == 422 and body["reason"] == "Invalid"
    assert body["message"] == ('Ward.test.modelhospital.io "low" is invalid: spec.floor: Invalid value: -1: '
                               "spec.floor in body should be greater than or equal to 1")
    assert body["details"]["causes"] == [{"reason": "FieldValueInvalid", "field": "spec.floor",
                                          "message": "Invalid value: -1: spec.floor in body should be greater than or equal to 1"}]
    missing = requests.get(f"{cluster.url}{WARDS}/low").json()
    assert missing["reason"] == "NotFound" and missing["message"] == 'wards.test.modelhospital.io "low" not found'


def read_events(response: requests.Response) -> list[dict]:
    return [json.loads(line) for line in response.iter_lines() if line]


def test_watch_replays_from_a_resource_version_with_bookmark_and_timeout(cluster):
    listing = requests.get(cluster.url + WARDS, params={"fieldSelector": "metadata.name=watched"}).json()
    assert listing["kind"] == "WardList" and listing["apiVersion"] == "test.modelhospital.io/v1"
    since = listing["metadata"]["resourceVersion"]
    requests.post(cluster.url + WARDS, json={"apiVersion": "test.modelhospital.io/v1", "kind": "Ward",
                                             "metadata": {"name": "watched"}, "spec": {"floor": 1}})
    requests.delete(f"{cluster.url}{WARDS}/watched")
    with requests.get(cluster.url + WARDS, stream=True, params={
            "watch": "true", "resourceVersion": since, "allowWatchBookmarks": "true",
            "fieldSelector": "metadata.name=watched", "timeoutSeconds": "1"}) as response:
        assert response.headers["Content-Type"] == "application/json"
        events = read_events(response)
    assert [event["type"] for event in events] == ["ADDED", "DELETED", "BOOKMARK"]
    assert int(events[1]["object"]["metadata"]["resourceVersion"]) > int(events[0]["object"]["metadata"]["resourceVersion"])


def test_watch_from_a_forgotten_resource_version_is_expired(tmp_path):
    with LoopbackCluster(tmp_path) as small:
        small.api.event_log_size = 2
        for name in ("a", "b", "c", "d"):
            small.kubectl("create", "configmap", name)
        with requests.get(small.url + "/api/v1/namespaces/default/configmaps", stream=True,
                          params={"watch": "true", "resourceVersion": "1", "timeoutSeconds": "1"}) as response:
            events = read_events(response)
    assert events[0]["type"] == "ERROR" and events[0]["object"]["code"] == 410
    assert events[0]["object"]["reason"] == "Expired"


def test_user_reactions_still_come_first_for_fault_injection(tmp_path):
    with LoopbackCluster(tmp_path) as faulty:
        faulty.call(lambda: faulty.api["get /api/v1/namespaces/default/configmaps"] << 503)
        assert requests.get(faulty.url + "/api/v1/namespaces/default/configmaps").status_code == 503
        assert requests.get(faulty.url + "/api/v1/namespaces/default/secrets").status_code == 200


def test_planned_failures_answer_the_next_requests_only_and_store_nothing(tmp_path):
    with LoopbackCluster(tmp_path) as faulty:
        path = "/api/v1/namespaces/default/configmaps"
        for _ in range(50):  # a long request log must not make them slower or spend them on old requests
            requests.get(faulty.url + path)
        faulty.call(faulty.api.fail_next, "POST", path, 500, 2)
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}}
        assert requests.get(faulty.url + path).status_code == 200  # another verb goes through
        answers = [requests.post(faulty.url + path, json=body) for _ in range(3)]
        assert [answer.status_code for answer in answers] == [500, 500, 201]
        assert answers[0].json()["reason"] == "InternalError"
        assert [item["metadata"]["name"] for item in requests.get(faulty.url + path).json()["items"]] == ["cm"]


def test_selectors_and_printer_paths_read_like_the_apiserver():
    pod = {"metadata": {"name": "p", "labels": {"app": "hospital", "tier": "worker"}},
           "status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "Done", "status": "True"}]}}
    assert selectors.label_selector("app=hospital,tier in (worker, api),!gpu")(pod)
    assert not selectors.label_selector("app!=hospital")(pod)
    assert selectors.field_selector("metadata.name=p")(pod) and not selectors.field_selector("metadata.name!=p")(pod)
    assert selectors.jsonpath(pod, '.status.conditions[?(@.type=="Done")].status') == ["True"]
    assert selectors.jsonpath(pod, ".status.conditions[0].type") == ["Ready"]
    assert selectors.jsonpath(pod, ".status.missing") == []
    now = datetime.datetime(2026, 1, 1, 1, 0, 0, tzinfo=datetime.UTC)
    assert [selectors.age(t, now) for t in ("2026-01-01T00:59:56Z", "2026-01-01T00:56:48Z", "2025-12-29T01:00:00Z")] == ["4s", "3m12s", "3d"]


def test_schema_pruning_keeps_preserved_fields_and_defaults_apply():
    openapi = {"type": "object", "properties": {
        "spec": {"type": "object", "properties": {"size": {"type": "integer", "default": 2}}},
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}
    obj = {"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "n"}, "spec": {"typo": 1}, "status": {"kopf": {"a": 1}}}
    pruned, removed = crd_schema.prune_object(obj, openapi)
    assert removed == ["spec.typo"] and pruned["status"] == {"kopf": {"a": 1}} and pruned["metadata"] == {"name": "n"}
    assert crd_schema.apply_defaults(pruned, openapi)["spec"] == {"size": 2}
