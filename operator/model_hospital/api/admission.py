"""Admission that explains itself: the cross-field rules of the CRDs as CEL, and the checks the operator repeats.

Every rule here is enforced twice, with the same words: by the API server (the
`x-kubernetes-validations` these lists become in the generated CRDs, so `kubectl
apply` refuses a bad spec naming the field) and by the pydantic models the operator
parses specs with (a spec that got past an older CRD still fails closed, as a
condition). What CEL cannot check (whether a cron schedule can ever fire) is
checked by the operator alone and reported as a condition naming the field.
"""

from __future__ import annotations

import re
from typing import Any

DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
# A Kubernetes quantity as requests and limits take it: 2, 500m, 8Gi, 1.5G (not 4GB, not "lots").
QUANTITY_PATTERN = r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$"
# Label keys (an optional DNS-subdomain prefix and a name) and values, as the API server checks them.
LABEL_NAME_PATTERN = r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
LABEL_VALUE_PATTERN = r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$"
LABEL_KEY_PATTERN = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
DOT_SEGMENT_PATTERN = r"(^|/)[.][.]?(/|$)"


def cel(rule: str, message: str, field_path: str | None = None) -> dict[str, Any]:
    """One x-kubernetes-validations entry."""
    return {"rule": rule, "message": message, **({"fieldPath": field_path} if field_path else {})}


def _quantity_rule(field: str) -> dict[str, Any]:
    return cel(f"!has(self.{field}) || type(self.{field}) == int || self.{field}.matches(r'{QUANTITY_PATTERN}')",
               f"{field} must be a Kubernetes quantity such as 2, 500m or 8Gi", f".{field}")


JUDGE_RULES = [cel("self.backend != 'llm' || (has(self.engine) && has(self.model))",
                   "an llm judge names an engine and a model")]
PATIENT_MODEL_RULES = [cel("!has(self.allowRemoteCode) || !self.allowRemoteCode",
                           "allowRemoteCode must be false: remote code is never run", ".allowRemoteCode")]
STAGE_RESOURCES_RULES = [
    *(_quantity_rule(field) for field in ("cpu", "memory", "maxMemory")),
    cel(f"!has(self.nodeSelector) || self.nodeSelector.all(k, k.matches(r'{LABEL_KEY_PATTERN}') && "
        f"self.nodeSelector[k].matches(r'{LABEL_VALUE_PATTERN}'))",
        "nodeSelector keys and values must be valid label keys and values (at most 63 characters)", ".nodeSelector"),
]
CURE_RULES = [cel("!has(self.minExamples) || !has(self.maxExamples) || self.minExamples <= self.maxExamples",
                  "minExamples must not be more than maxExamples", ".minExamples")]
OUTPUT_RULES = [cel(f"!has(self.path) || !self.path.matches(r'{DOT_SEGMENT_PATTERN}')",
                    "path must not have '.' or '..' segments", ".path")]
# The watch and sft_dpo each train in one process (the watch's callback judges in one; sft_dpo's DPO phase merges
# the SFT adapter that node 0 alone writes); more nodes or GPUs per node would be several.
ONE_TRAINING_PROCESS = "(!has(self.nodes) || self.nodes == 1) && (!has(self.gpusPerNode) || self.gpusPerNode == 1)"
WATCH_ONE_PROCESS = ("watch runs in one training process: remove watch, or train with nodes 1 and gpusPerNode 1 "
                     "(or unset)")
SFT_DPO_ONE_PROCESS = ("method sft_dpo trains in one process: train with nodes 1 and gpusPerNode 1 (or unset), or "
                       "choose sft or dpo")
TRAINING_RULES = [cel(f"!has(self.watch) || ({ONE_TRAINING_PROCESS})", WATCH_ONE_PROCESS, ".watch"),
                  cel(f"!has(self.method) || self.method != 'sft_dpo' || ({ONE_TRAINING_PROCESS})",
                      SFT_DPO_ONE_PROCESS, ".method")]
PATIENT_REF_RULES = [cel("self == oldSelf", "patientRef is immutable: make a new Treatment for another patient")]


def check_quantity(value: int | str | None, what: str) -> int | str | None:
    if isinstance(value, str) and not re.match(QUANTITY_PATTERN, value):
        raise ValueError(f"{value!r} is not a Kubernetes quantity ({what}, e.g. 2, 500m, 8Gi)")
    if isinstance(value, int) and value < 0:
        raise ValueError("a quantity is not negative")
    return value


def check_label(key: str, value: str) -> None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not re.match(DNS_SUBDOMAIN_PATTERN, prefix)):
        raise ValueError(f"label key {key!r}: its prefix is not a DNS subdomain")
    if not re.match(LABEL_NAME_PATTERN, name):
        raise ValueError(f"label key {key!r}: at most 63 letters, digits, '-', '_' or '.', starting and ending "
                         "with a letter or digit")
    if not re.match(LABEL_VALUE_PATTERN, value):
        raise ValueError(f"label value {value!r} of {key!r}: at most 63 letters, digits, '-', '_' or '.'")
