# The many-models forecast service. Build from the repository root:
#   docker build -f .cloud/docker/many-models.Dockerfile -t {{ cookiecutter.project }}-forecast .
# Run with a bundle from the registry (MLFLOW_TRACKING_URI + MANY_MODELS_MODEL_URI) or a
# mounted bundle folder (MANY_MODELS_BUNDLE); see docs/many-models.md.
FROM python:{{ cookiecutter.python_version }}-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MANY_MODELS_CACHE_BYTES=200000000

WORKDIR /app
COPY pyproject.toml README.md ./
COPY code ./code
RUN pip install . && useradd --uid 10001 --no-create-home forecast

USER 10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health')"
CMD ["uvicorn", "--factory", "{{ cookiecutter.__package }}.many_models.serve:app_from_environment", "--host", "0.0.0.0", "--port", "8080", "--workers", "1"]
