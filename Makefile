# The two commands of the README. Both set up what they need on first use.
.PHONY: run test

OUT ?= runs/bundled-safety
export DO_NOT_TRACK := 1
export HOSPITAL_CACHE ?= $(CURDIR)/.cache/hospital

run:
	@scripts/setup-env
	.venv/bin/hospital treat --model bundled:smollm2-135m-instruct --symptom safety --output $(OUT)

test:
	@scripts/setup-env
	HOSPITAL_OPERATOR_PYTHON=$(CURDIR)/.venv-operator/bin/python .venv/bin/python -m pytest -m "not slow" -q $(PYTEST_ARGS)
