"""What every sample stands on: settings, the Delta lake, MLflow tracking, the Spark session and the CLI's exit codes."""
