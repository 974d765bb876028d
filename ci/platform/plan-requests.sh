#!/usr/bin/env bash
# Validate and plan every request (infra/projects/*.yaml) a pull request changes, and write
# the pull-request comment to OUT/comment.md. Used by both platform pipelines
# (ci/azure-devops/platform-requests.yml, ci/github/platform-requests.yml).
#
#   ci/platform/plan-requests.sh <base ref, e.g. origin/main> [OUT=build/requests]
#
# Exit code: 0 all valid and within the guardrails; 2 a request is invalid; 3 a mandatory
# guardrail is violated without a valid waiver. The comment is written in every case.
set -euo pipefail
base="$1"
out="${2:-build/requests}"
dsplatform="$(pwd)/infra/.venv/bin/dsplatform"
mkdir -p "$out"
comment="$out/comment.md"
echo "<!-- dsplatform-request-summary -->" > "$comment"

mapfile -t changed < <(git diff --name-only --diff-filter=d "$base"...HEAD -- 'infra/projects/*.yaml')
if [ "${#changed[@]}" -eq 0 ]; then
  echo "No request file changed under infra/projects/." >> "$comment"
  exit 0
fi

status=0
for request in "${changed[@]}"; do
  # The file name reaches the comment too: anything but a slug (a backtick, `<!--`) could
  # break its Markdown, so such a name is refused and shown only inside a code block.
  if [[ ! "$request" =~ ^infra/projects/[a-z][a-z0-9-]*\.yaml$ ]]; then
    status=2
    printf '## A request file has a name that is not a project slug\n\n```\n%s\n```\n\nRename it to infra/projects/PROJECT.yaml, PROJECT being the slug in the file.\n\n' "$request" >> "$comment"
    echo "error: $request: the file name must be infra/projects/<project>.yaml with a lowercase slug" >&2
    continue
  fi
  name="$(basename "$request" .yaml)"
  if ! "$dsplatform" request validate "$request" 2> "$out/$name.errors.txt"; then
    status=2
    {
      echo "## \`$request\` is invalid"
      echo
      echo '```'
      cat "$out/$name.errors.txt"
      echo '```'
      echo
    } >> "$comment"
    cat "$out/$name.errors.txt" >&2
    continue
  fi
  code=0
  "$dsplatform" request plan "$request" --output "$out/$name" --markdown >> "$comment" || code=$?
  echo >> "$comment"
  if [ "$code" -ne 0 ] && [ "$status" -eq 0 ]; then
    status=$code
  fi
done
exit "$status"
