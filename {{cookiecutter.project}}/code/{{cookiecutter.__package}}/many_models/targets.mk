# The many-models sample's make targets (included by the Makefile while this folder exists).
.PHONY: many-models serve

# Generate, train, promote, score, then a summary.
## The many-models sample: generate, train, promote, score (SIZE=tiny|small|full).
many-models: $(STAMP)
	$(BIN)/python -m {{ cookiecutter.__package }}.many_models run-all --size $(SIZE)

# Serve the many-models champion on http://127.0.0.1:$(SERVE_PORT) (POST /predict, GET /ready, /metrics, /docs).
## Serve the many-models champion on http://127.0.0.1:8080 (another port: SERVE_PORT=...).
serve: $(STAMP)
	$(BIN)/python -m {{ cookiecutter.__package }}.many_models serve --size $(SIZE) --port $(SERVE_PORT)

# The stress test and sizing of the forecast service (docs/serving.md).
.PHONY: stress-test size-deployment
## Profile the forecast service under each CPU/memory setting at increasing load; print the table, write .local/stress/.
stress-test: $(STAMP)
	$(BIN)/python -m {{ cookiecutter.__package }}.many_models stress-test --size $(SIZE)

## Write the last stress-test profile's recommendation into the Kubernetes and Azure ML deployment files.
size-deployment: $(STAMP)
	$(BIN)/python -m {{ cookiecutter.__package }}.many_models size-deployment --profile .local/stress/profile.json
