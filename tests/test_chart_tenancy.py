"""The chart in a cluster shared by many teams: the tenancy policy, stage egress, and roles for namespace users.

Creating a ModelPatient or Treatment is as strong as creating pods, so the chart
says what specs may ask for (policy), fences stage pods' egress, and lets the
cluster's edit/view roles use the kinds, each rendered by the real Helm engine.
"""

from __future__ import annotations

import json

import kubernetes_validate
import pytest

from model_hospital.controller import jobs
from model_hospital.controller.settings import settings_from_env
from test_chart import of_kind, operator_env, render

STAGE_LABELS = jobs.labels_for(jobs.Owner("Treatment", "t", "team-a", "u", "p"), "train", 1, 0, None)


def matches(selector: dict, labels: dict) -> bool:
    return all(labels.get(key) == value for key, value in (selector.get("matchLabels") or {}).items())


def test_the_policy_in_values_reaches_the_operator_as_its_settings():
    policy = {"allowedImages": ["registry.example/ml/*"], "allowedUrls": ["https://judge.example/"],
              "allowedSecrets": ["judge-key"], "allowedClaims": ["models"]}
    env = operator_env(render({"policy": policy}))
    settings = settings_from_env({"HOSPITAL_POLICY": env["HOSPITAL_POLICY"]})
    assert settings.policy.allowed_images == ["registry.example/ml/*"]
    assert settings.policy.allowed_claims == ["models"]
    assert json.loads(operator_env(render({}))["HOSPITAL_POLICY"]) == {
        "allowedImages": [], "allowedUrls": [], "allowedSecrets": [], "allowedClaims": []}


def test_a_wrong_policy_value_fails_at_install():
    with pytest.raises(Exception, match="allowedImages|policy"):
        render({"policy": {"allowedImages": "everything"}})


def test_namespace_editors_may_use_the_kinds_and_viewers_may_read_them():
    documents = render({})
    roles = {role["metadata"]["name"]: role for role in of_kind(documents, "ClusterRole")}
    edit, view = roles["mh-model-hospital-edit"], roles["mh-model-hospital-view"]
    assert edit["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"
    assert edit["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-admin"] == "true"
    assert view["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-view"] == "true"
    edit_verbs = {verb for rule in edit["rules"] if "modelpatients" in rule["resources"] for verb in rule["verbs"]}
    assert {"create", "update", "patch", "delete"} <= edit_verbs
    for rule in view["rules"]:
        assert set(rule["verbs"]) <= {"get", "list", "watch"}
    # The status is the operator's: namespace users never write it.
    assert not any(resource.endswith("/status") and set(rule["verbs"]) - {"get", "list", "watch"}
                   for rule in edit["rules"] for resource in rule["resources"])
    assert "mh-model-hospital-edit" not in {role["metadata"]["name"] for role in
                                            of_kind(render({"rbac": {"aggregateToDefaultRoles": False}}), "ClusterRole")}


def test_stage_pods_get_an_egress_policy_in_every_served_namespace():
    documents = render({"watch": {"allNamespaces": False, "namespaces": ["team-a", "team-b"]},
                       "stageNetworkPolicy": {"enabled": True, "egress": [
                           {"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}], "ports": [{"port": 443, "protocol": "TCP"}]}]}})
    policies = [doc for doc in of_kind(documents, "NetworkPolicy") if doc["metadata"]["name"].endswith("-stages")]
    assert sorted(policy["metadata"]["namespace"] for policy in policies) == ["team-a", "team-b"]
    for policy in policies:
        assert kubernetes_validate.validate(policy, "1.32", strict=True)
        assert matches(policy["spec"]["podSelector"], STAGE_LABELS)
        assert policy["spec"]["policyTypes"] == ["Egress"]
        dns, extra = policy["spec"]["egress"]
        assert {port["port"] for port in dns["ports"]} == {53}
        assert extra["to"] == [{"ipBlock": {"cidr": "10.20.0.0/16"}}]
    operator = of_kind(render({}), "Deployment")[0]["spec"]["template"]["metadata"]["labels"]
    assert not matches(policies[0]["spec"]["podSelector"], operator)


def test_cluster_wide_mode_fences_the_namespaces_it_is_told():
    documents = render({"stageNetworkPolicy": {"enabled": True, "namespaces": ["ml"]}})
    policies = [doc for doc in of_kind(documents, "NetworkPolicy") if doc["metadata"]["name"].endswith("-stages")]
    assert [policy["metadata"]["namespace"] for policy in policies] == ["ml"]
    assert not [doc for doc in of_kind(render({}), "NetworkPolicy")]


def test_the_install_guide_says_what_creating_the_kinds_allows_and_how_to_limit_it():
    from pathlib import Path

    from model_hospital.api.tenancy import TenancyPolicy

    guide = (Path(__file__).resolve().parents[1] / "docs" / "install.md").read_text(encoding="utf-8")
    assert "as strong as creating pods" in guide
    for field in TenancyPolicy.model_fields.values():
        assert field.alias in guide, f"docs/install.md does not explain policy.{field.alias}"
    assert "rbac.aggregateToDefaultRoles=false" in guide and "stageNetworkPolicy.enabled=true" in guide
