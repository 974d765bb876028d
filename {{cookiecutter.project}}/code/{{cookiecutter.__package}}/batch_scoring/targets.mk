# The batch-scoring sample's make targets (included by the Makefile while this folder exists).
.PHONY: pipeline

# Every step on the data product of size $(SIZE): generate, ingest, features, train, validate/promote, score, monitor, then a summary.
## The batch-scoring sample end to end (SIZE=tiny|small|reference), then a summary.
pipeline: $(STAMP)
	$(BIN)/python -m {{ cookiecutter.__package }}.batch_scoring run-all --size $(SIZE)
