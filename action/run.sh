#!/usr/bin/env bash
# The envsync action's main step (action.yml): run one envsync command, print its whole report
# to the job log, post what it found (plan: the pull request's comment; drift: the drift issue),
# and record the step's outputs. A failed command still reports: the comment is replaced by what
# failed and where, so a pull request never shows a plan that no longer holds.
#
# Inputs arrive as environment variables, never pasted into this text: COMMAND, ARGS,
# ENVSYNC_TARGET, COMMENT ("true" to post), PR_NUMBER, ARTIFACT (the artifact's name; empty:
# envsync-COMMAND-TARGET), GITHUB_TOKEN. Outputs (GITHUB_OUTPUT): exit-code, has-changes,
# summary, plan-path, report-path, report-dir, artifact-name.
#
# Exits 0 once the outcome is recorded: the action's last step fails the job on exit codes other
# than 0 and 2. Exits non-zero only when reporting itself failed (a comment GitHub refused).
set -uo pipefail
set -f  # $ARGS is split on spaces, never glob-expanded

out=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/envsync.XXXXXX")  # one per use: a job may run several
artifact=${ARTIFACT:-envsync-$COMMAND-${ENVSYNC_TARGET:-default}}
log="$out/$COMMAND.log"

case "$COMMAND" in
  plan) envsync plan --detailed-exitcode --report-dir "$out" --out "$out/plan.json" $ARGS 2> "$log" | tee "$out/plan.out" ;;
  drift) envsync drift --report-dir "$out" $ARGS 2> "$log" | tee "$out/drift.out" ;;
  apply) envsync apply --auto-approve $ARGS 2> "$log" | tee "$out/apply.out" ;;
  validate) envsync validate $ARGS 2> "$log" | tee "$out/validate.out" ;;
  *) echo "::error::unknown command '$COMMAND': expected plan, apply, drift or validate"; exit 1 ;;
esac
code=${PIPESTATUS[0]}
cat "$log" >&2  # the problems (annotations in GitHub Actions) and envsync's error

if [ -s "$out/$COMMAND.summary" ] && [ "$code" -le 2 ]; then
  summary=$(head -n 1 "$out/$COMMAND.summary")
elif grep -q '^error: ' "$log"; then
  summary=$(grep '^error: ' "$log" | tail -n 1)
else
  summary=$(grep -v '^$' "$out/$COMMAND.out" | tail -n 1)
fi
{
  echo "exit-code=$code"
  if [ "$code" = 2 ]; then echo "has-changes=true"; else echo "has-changes=false"; fi
  echo "summary=${summary:-envsync $COMMAND exited with $code}"
  echo "report-dir=$out"
  echo "artifact-name=$artifact"
  if [ -s "$out/plan.json" ]; then echo "plan-path=$out/plan.json"; fi
  if [ -s "$out/$COMMAND.md" ]; then echo "report-path=$out/$COMMAND.md"; fi
} >> "$GITHUB_OUTPUT"

case "$COMMAND" in plan | drift) ;; *) exit 0 ;; esac
post="$out/$COMMAND.post.md"
envsync github report --command "$COMMAND" --body-file "$out/$COMMAND.md" --exit-code "$code" \
  --log-file "$log" --artifact "$artifact" > "$post" || exit 1
cat "$post" >> "${GITHUB_STEP_SUMMARY:-/dev/null}"
[ "${COMMENT:-true}" = true ] || exit 0

if [ "$COMMAND" = plan ]; then
  if [ -n "${PR_NUMBER:-}" ]; then
    envsync github comment --pr "$PR_NUMBER" --body-file "$post" --artifact "$artifact" || exit 1
  fi
elif [ "$code" = 2 ]; then
  title="Azure ML environment drift (${ENVSYNC_TARGET:-default target})"
  envsync github issue --title "$title" --body-file "$post" --artifact "$artifact" || exit 1
elif [ "$code" = 0 ]; then
  envsync github issue --close --body-file "$post" || exit 1
fi
exit 0
