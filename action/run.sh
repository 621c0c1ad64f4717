#!/usr/bin/env bash
# The envsync action's main step (action.yml): run one envsync command, print its whole report
# to the job log, post what it found (plan: the pull request's comment; drift: the drift issue),
# and record the step's outputs. A failed command still reports: the comment is replaced by what
# failed and where, so a pull request never shows a plan that no longer holds.
#
# Inputs arrive as environment variables, never pasted into this text: COMMAND, ARGS,
# ENVSYNC_TARGET, COMMENT ("true": post), PR_NUMBER, ARTIFACT (the artifact's name; empty:
# envsync-COMMAND-TARGET), SELF_HEAL ("true": heal drift), GITHUB_TOKEN. Outputs (GITHUB_OUTPUT):
# exit-code, has-changes, summary, plan-path, report-path, report-dir, artifact-name, heal.
#
# Exits 0 once the outcome is recorded: the action's last step fails the job on exit codes other
# than 0 and 2. Exits non-zero only when reporting itself failed (a comment GitHub refused).
set -uo pipefail
set -f  # $ARGS is split on spaces, never glob-expanded

out=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/envsync.XXXXXX")  # one per use: a job may run several
artifact=${ARTIFACT:-envsync-$COMMAND-${ENVSYNC_TARGET:-default}}
log="$out/$COMMAND.log"

run() {  # envsync COMMAND: stdout to the job log and $out/COMMAND.out, stderr to $log
  case "$COMMAND" in
    plan) envsync plan --detailed-exitcode --report-dir "$out" --out "$out/plan.json" $ARGS ;;
    drift) envsync drift --report-dir "$out" $ARGS ;;
    apply) envsync apply --auto-approve $ARGS ;;
    validate) envsync validate $ARGS ;;
  esac 2>> "$log" | tee "$out/$COMMAND.out"
  return "${PIPESTATUS[0]}"
}

case "$COMMAND" in
  plan | drift | apply | validate) run; code=$? ;;
  *) echo "::error::unknown command '$COMMAND': expected plan, apply, drift or validate"; exit 1 ;;
esac
reported=$code  # the exit code the report describes; a failed heal fails the step but not the report

# Self-heal (drift, SELF_HEAL "true"), like Argo CD's selfHeal: apply --refresh, then drift again
# to see what is left; the report keeps the drift before healing and the apply log.
if [ "$COMMAND" = drift ] && [ "$code" = 2 ] && [ "${SELF_HEAL:-false}" = true ]; then
  mv "$out/drift.md" "$out/before.md"
  envsync apply --refresh --auto-approve --no-color $ARGS > "$out/heal.log" 2>&1
  heal=$?
  cat "$out/heal.log"
  run; code=$?
  reported=$code
  if [ "$heal" = 0 ]; then echo "heal=healed" >> "$GITHUB_OUTPUT"; else echo "heal=failed" >> "$GITHUB_OUTPUT"; code=1; fi
  {
    printf '\n#### Self-heal: `envsync apply --refresh --auto-approve` exited %s\n\n' "$heal"
    printf '<details><summary>Drift before healing, and the apply log</summary>\n\n'
    cat "$out/before.md"
    printf '\n```\n'
    cat "$out/heal.log"
    printf '```\n\n</details>\n'
  } >> "$out/drift.md"
fi
cat "$log" >&2  # the problems (annotations in GitHub Actions) and envsync's error

if [ -s "$out/$COMMAND.summary" ] && [ "$reported" -le 2 ]; then
  summary=$(tail -n 1 "$out/$COMMAND.summary")
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
post="$out/$COMMAND.post.md"  # what is posted: the report, or what failed and where
envsync github report --command "$COMMAND" --body-file "$out/$COMMAND.md" --exit-code "$reported" \
  --log-file "$log" --artifact "$artifact" > "$post" || exit 1
cat "$post" >> "${GITHUB_STEP_SUMMARY:-/dev/null}"
[ "${COMMENT:-true}" = true ] || exit 0

title="Azure ML environment drift (${ENVSYNC_TARGET:-default target})"
if [ "$COMMAND" = plan ]; then
  if [ -n "${PR_NUMBER:-}" ]; then
    envsync github comment --pr "$PR_NUMBER" --body-file "$post" --artifact "$artifact" || exit 1
  fi
elif [ "$code" = 0 ] && [ "${heal:-}" = 0 ]; then
  # Healed: the issue records what was healed, then closes.
  envsync github issue --title "$title" --body-file "$post" --artifact "$artifact" || exit 1
  echo "Self-heal repaired every finding; envsync drift is clean." > "$out/healed.md"
  envsync github issue --close --body-file "$out/healed.md" || exit 1
elif [ "$code" = 0 ]; then
  envsync github issue --close --body-file "$post" || exit 1
elif [ "$code" = 2 ] || [ -n "${heal:-}" ]; then  # drift left, or a heal that failed
  envsync github issue --title "$title" --body-file "$post" --artifact "$artifact" || exit 1
fi
exit 0
