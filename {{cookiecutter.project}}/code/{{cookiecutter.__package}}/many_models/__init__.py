"""Many models: one small forecasting model per store and brand, trained, registered, promoted and served at scale.

The pattern of the many-models accelerator, rebuilt to scale: Spark's `applyInPandas`
trains every series in parallel, one registered model version bundles all of them with an
index for O(1) lookup, promotion applies the business rule per series, and the serving
app loads series models on demand into a memory-bounded cache.
"""
