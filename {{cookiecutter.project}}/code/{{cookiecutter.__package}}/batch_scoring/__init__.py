"""Batch scoring: predictive maintenance with Spark MLlib, Delta Lake and MLflow.

Simulated telemetry is ingested into Delta tables, turned into features, used to train
and validate a classifier that is promoted by alias, scored in batch and monitored for drift.
"""
