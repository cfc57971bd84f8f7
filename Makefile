# The two commands of the README. Both set up what they need on first use.
.PHONY: run test

OUT ?= runs/bundled-safety
# Sized for 2 CPU cores (benchmarks/perf/README.md): a cure of 300 examples (half of them replay) trains in
# 10-14 minutes, and no retry starts that would end past the 30-minute budget; the one attempt takes about
# 24 minutes on a quiet machine. `hospital treat` alone makes up to 500 and retries up to its max attempts.
CURE_EXAMPLES ?= 300
TIME_BUDGET ?= 30
export DO_NOT_TRACK := 1
export HOSPITAL_CACHE ?= $(CURDIR)/.cache/hospital

run:
	@scripts/setup-env
	.venv/bin/hospital treat --model bundled:smollm2-135m-instruct --symptom safety \
		--max-examples $(CURE_EXAMPLES) --time-budget $(TIME_BUDGET) --output $(OUT)

test:
	@scripts/setup-env --tiny
	@scripts/setup-containers
	HOSPITAL_OPERATOR_PYTHON=$(CURDIR)/.venv-operator/bin/python .venv/bin/python -m pytest -m "not slow" -q $(PYTEST_ARGS)

# The three images (operator, worker, worker-gpu) with podman or docker: scripts/images says how.
# REGISTRY=registry.example.com/team make images push-images
.PHONY: images push-images
images:
	scripts/images build $(IMAGES)

push-images:
	scripts/images push $(IMAGES)
