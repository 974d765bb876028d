"""Refuse bad answers before any file is written: one line per problem, no traceback.

Cookiecutter deletes the half-made directory when this hook exits non-zero.
The rules live in `dsplatform.template`, shared with the tests and CI.
"""

import json
import sys

sys.path.insert(0, r"{{ dsplatform_path }}")

from dsplatform.template import answer_problems, problems_message

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")

problems = answer_problems(ANSWERS)
if problems:
    print(problems_message(problems), file=sys.stderr)
    sys.exit(1)
