"""Where the Kubernetes tests run is decided from the environment alone: loopback unless a real cluster is asked for."""

import pathlib

import pytest

from tests.harness.cluster import choose_mode

REAL = {"HOSPITAL_TEST_REAL_CLUSTER": "1", "KUBECONFIG": "/home/dev/.kube/kind-hospital"}
IMAGE = "ghcr.io/model-hospital/worker:0.1.0"


def test_no_environment_means_the_loopback_api_at_the_loopback_pace():
    mode = choose_mode({}, worker_image_required=True)
    assert (mode.kind, mode.real, mode.timeout_scale) == ("loopback", False, 1.0)
    assert mode.seconds(90) == 90


def test_an_ambient_kubeconfig_alone_never_selects_the_real_cluster():
    mode = choose_mode({"KUBECONFIG": "/home/dev/.kube/config", "HOSPITAL_TEST_WORKER_IMAGE": IMAGE})
    assert mode.kind == "loopback" and mode.kubeconfig is None


@pytest.mark.parametrize("flag", ["0", "true", ""])
def test_only_the_flag_set_to_1_asks_for_the_real_cluster(flag):
    assert choose_mode({**REAL, "HOSPITAL_TEST_REAL_CLUSTER": flag}).kind == "loopback"


def test_real_cluster_without_a_worker_image_is_skipped_naming_the_variable():
    mode = choose_mode(REAL, worker_image_required=True)
    assert mode.kind == "skip" and not mode.real
    assert "HOSPITAL_TEST_WORKER_IMAGE" in mode.reason


def test_real_cluster_needs_no_worker_image_where_no_job_runs_on_it():
    mode = choose_mode(REAL)
    assert mode.real and mode.worker_image is None


def test_real_cluster_without_kubeconfig_is_skipped_naming_it():
    mode = choose_mode({"HOSPITAL_TEST_REAL_CLUSTER": "1", "HOSPITAL_TEST_WORKER_IMAGE": IMAGE},
                       worker_image_required=True)
    assert mode.kind == "skip" and "KUBECONFIG" in mode.reason


def test_full_environment_selects_the_real_cluster_with_its_image_and_longer_waits():
    mode = choose_mode({**REAL, "HOSPITAL_TEST_WORKER_IMAGE": IMAGE}, worker_image_required=True)
    assert mode.kind == "real" and mode.real
    assert mode.worker_image == IMAGE
    assert mode.kubeconfig == pathlib.Path("/home/dev/.kube/kind-hospital")
    assert mode.storage_class is None  # the cluster's default StorageClass
    assert mode.timeout_scale == 5.0 and mode.seconds(90) == 450


def test_storage_class_and_timeout_scale_come_from_the_environment():
    mode = choose_mode({**REAL, "HOSPITAL_TEST_WORKER_IMAGE": IMAGE, "HOSPITAL_TEST_STORAGE_CLASS": "standard",
                        "HOSPITAL_TEST_TIMEOUT_SCALE": "2.5"}, worker_image_required=True)
    assert mode.storage_class == "standard" and mode.timeout_scale == 2.5


def test_timeout_scale_also_stretches_the_loopback_api():
    assert choose_mode({"HOSPITAL_TEST_TIMEOUT_SCALE": "3"}).seconds(30) == 90


@pytest.mark.parametrize("scale", ["fast", "0", "-2", "nan", "inf"])
def test_timeout_scale_that_is_not_a_positive_number_is_rejected_naming_the_variable(scale):
    with pytest.raises(ValueError, match=r"HOSPITAL_TEST_TIMEOUT_SCALE must be a positive number.*" + scale):
        choose_mode({**REAL, "HOSPITAL_TEST_WORKER_IMAGE": IMAGE, "HOSPITAL_TEST_TIMEOUT_SCALE": scale})
