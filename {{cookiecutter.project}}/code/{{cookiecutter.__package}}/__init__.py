"""{{ cookiecutter.project_name | py_str }}: {{ cookiecutter.description | py_str }}

Each pipeline step is a typed function in its own module. Notebooks, Databricks jobs
and Azure ML components are thin wrappers over them, so the same code runs on a
laptop and on a cluster; only the Spark session and the storage root differ.
"""

__version__ = "0.1.0"
