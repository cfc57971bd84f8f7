# The two commands of the README. Both set up what they need on first use.
.PHONY: run test

OUT ?= runs/bundled-safety
# Sized so the whole treatment ends within 30 minutes on 2 CPU cores (benchmarks/perf/README.md): a cure of
# 300 examples (half of them replay) trains in about a quarter of an hour, and no retry starts that would
# end past the budget. `hospital treat` alone makes up to 500 and retries up to its max attempts.
CURE_EXAMPLES ?= 300
TIME_BUDGET ?= 30
# 48 answers generated at a time: 1.5 times the throughput of the default 16 on 2 cores, the same greedy answers
# (96 of 96 identical). Not the default: a large model's KV cache at 48 would not fit every machine.
BATCH_SIZE ?= 48
export DO_NOT_TRACK := 1
export HOSPITAL_CACHE ?= $(CURDIR)/.cache/hospital

run:
	@scripts/setup-env
	.venv/bin/hospital treat --model bundled:smollm2-135m-instruct --symptom safety \
		--max-examples $(CURE_EXAMPLES) --time-budget $(TIME_BUDGET) --batch-size $(BATCH_SIZE) --output $(OUT)

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
