"""Shape the generated repository to the answers: prune unselected files, add notebook folders, start git.

Optionality lives here, as file pruning, instead of Jinja conditionals spread through
YAML. The rules live in `dsplatform.template`.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, r"{{ dsplatform_path }}")

from dsplatform.template import create_notebook_folders, initialise_git, prune

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")
project_dir = Path.cwd()

prune(project_dir, ANSWERS)
create_notebook_folders(project_dir, ANSWERS)
git_status = initialise_git(project_dir, ANSWERS)
print(f"Generated {project_dir.name}: {git_status}. Next: cd {project_dir.name} && make setup && make pipeline")
