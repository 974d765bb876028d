"""Shape the generated repository to the answers: prune unselected files, add notebook folders,
record the template source and version (`.cruft.json`), start git.

Optionality lives here, as file pruning, instead of Jinja conditionals spread through
YAML. The rules live in `dsplatform.template`.
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, r"{{ dsplatform_path }}")

from dsplatform.template import assemble_fragments, create_notebook_folders, first_run_command, initialise_git, prune
from dsplatform.template.update import record_template_source
from dsplatform.vocabulary import next_step

TEMPLATE_DIR = Path(r"{{ dsplatform_path }}")
ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")
project_dir = Path.cwd()

prune(project_dir, ANSWERS)
assemble_fragments(project_dir)
create_notebook_folders(project_dir, ANSWERS)
record_template_source(project_dir, ANSWERS, TEMPLATE_DIR)
git_status = initialise_git(project_dir, ANSWERS)
# A caller that generates on a person's behalf (`dsplatform request scaffold`) says what was
# generated and what comes next itself, with the paths that person sees.
if not os.environ.get("DSPLATFORM_CALLER_REPORTS"):
    print(f"Generated {project_dir.name}: {git_status}.")
    print(next_step(f"cd {project_dir.name} && make setup && {first_run_command(ANSWERS)}", "make help lists every target"))
