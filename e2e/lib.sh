# shellcheck shell=bash
# Shared helpers for the e2e tests: pass/fail accounting and assertions that print what they expected.
#
# Contract: safe to source (defines functions and the counters E2E_PASSED, E2E_FAILED, E2E_FAILURES; changes no
# shell options). Each assertion prints one "ok"/"FAIL" line to stderr, counts itself, and returns 0 or 1 so a test
# can keep going after a failure. e2e_summary NAME prints "NAME: N passed, M failed" and returns non-zero on failure.

E2E_PASSED=0
E2E_FAILED=0
E2E_FAILURES=()

e2e_log() { printf '%s\n' "$*" >&2; }

e2e_pass() {
  E2E_PASSED=$((E2E_PASSED + 1))
  e2e_log "  ok    $1"
}

e2e_fail() {
  E2E_FAILED=$((E2E_FAILED + 1))
  E2E_FAILURES+=("$1")
  e2e_log "  FAIL  $1${2:+: $2}"
}

# check DESCRIPTION CMD... : CMD must succeed; its output is shown on failure.
check() {
  local what=$1 out
  shift
  if out=$("$@" 2>&1); then
    e2e_pass "$what"
  else
    e2e_fail "$what" "$(tail -n 15 <<<"$out")"
    return 1
  fi
}

# check_fails DESCRIPTION PATTERN CMD... : CMD must fail and its output must match the extended regex PATTERN.
check_fails() {
  local what=$1 pattern=$2 out
  shift 2
  if out=$("$@" 2>&1); then
    e2e_fail "$what" "expected a failure, but it succeeded"
    return 1
  fi
  if grep -Eq -- "$pattern" <<<"$out"; then
    e2e_pass "$what"
  else
    e2e_fail "$what" "expected /$pattern/ in: $(tail -n 15 <<<"$out")"
    return 1
  fi
}

# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
  if [[ $3 == "$2" ]]; then
    e2e_pass "$1"
  else
    e2e_fail "$1" "expected '$2', got '$3'"
    return 1
  fi
}

# check_match DESCRIPTION PATTERN TEXT : TEXT must match the extended regex PATTERN.
check_match() {
  if grep -Eq -- "$2" <<<"$3"; then
    e2e_pass "$1"
  else
    e2e_fail "$1" "expected /$2/ in '$(head -c 600 <<<"$3")'"
    return 1
  fi
}

# check_no_match DESCRIPTION PATTERN TEXT : TEXT must not match the extended regex PATTERN.
check_no_match() {
  if grep -Eq -- "$2" <<<"$3"; then
    e2e_fail "$1" "unexpected /$2/ in: $(grep -E -m 3 -- "$2" <<<"$3")"
    return 1
  fi
  e2e_pass "$1"
}

# e2e_summary NAME : print the summary line (and the failed checks) and return 1 if anything failed.
e2e_summary() {
  local f
  for f in "${E2E_FAILURES[@]}"; do e2e_log "failed: $f"; done
  echo "$1: $E2E_PASSED passed, $E2E_FAILED failed"
  ((E2E_FAILED == 0))
}
