# Stage timing for the long test scripts (scripts/test.sh, scripts/test-node.sh): `step NAME` starts a stage and
# prints the wall time of the one before; `print_stage_times` prints them all at the end, so cold and warm runs can
# be compared stage by stage. Source it; it defines functions and three globals only.
stage_names=() stage_seconds=() stage_started=$SECONDS
end_stage() {
  if ((${#stage_names[@]} > ${#stage_seconds[@]})); then
    stage_seconds+=($((SECONDS - stage_started)))
    printf '    (%d s)\n' "${stage_seconds[-1]}"
  fi
}
step() {
  end_stage
  stage_names+=("$*") stage_started=$SECONDS
  printf '\n==> %s\n' "$*"
}
print_stage_times() {
  end_stage
  printf '\nstage times (total %d s):\n' "$SECONDS"
  for i in "${!stage_seconds[@]}"; do printf '  %6d s  %s\n' "${stage_seconds[$i]}" "${stage_names[$i]:0:100}"; done
}
