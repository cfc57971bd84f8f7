"""Build tooling: the CRDs, the chart's values, schema and CRD copies, and their reference docs, generated from the contract.

Only the CLI (`hospital crds generate`, `hospital chart generate`) and the tests use it;
it reads the contract (model_hospital.api) and nothing else of ours.
"""
