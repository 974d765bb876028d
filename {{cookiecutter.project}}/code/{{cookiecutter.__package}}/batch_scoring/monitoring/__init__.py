"""Monitoring of the batch-scoring model: drift statistics, Spark histograms, the monitor step and its report.

`statistics` is plain Python (no Spark), `histograms` counts in Spark, `step` compares a
scored window with the champion's training data and decides on retraining, `report`
renders the HTML evidence.
"""
