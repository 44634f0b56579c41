#!/usr/bin/env bash
# scripts/check's verdict, fed made-up logs through --logs: a complete run
# passes; a missing suite, a suite without a closing line, one that ran
# nothing, a failing exit status, an unlisted test and an unallowed whole-suite
# skip fail; skips are counted and listed with their reasons. The complete run
# is made from tests/suites.txt itself, so the list and the verdict are
# checked together.
# Usage: check-script-test.sh [CHECK]   (default: scripts/check of this tree)
set -u
here=$(cd "$(dirname "$0")" && pwd)
check=${1:-$here/../scripts/check}
list=$here/suites.txt
tmp=$(mktemp -d /tmp/wgv-check-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# The outer run's own allowances must not leak into the cases below.
unset WGV_ALLOW_SKIP
passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

rule() { local s; s=$(printf '%*s' "$2" ''); printf '%s' "${s// /$1}"; }
# block FILE TEST STATUS [LINE...]: one test in a meson text log.
block() {
  local f=$1 t=$2 st=$3
  shift 3
  {
    echo "$(rule = 34) 1/1 $(rule = 35)"
    echo "test:         webgpu-virtio:suite / $t"
    echo "start time:   12:00:00"
    echo "duration:     0.50s"
    echo "result:       exit status $st"
    echo "command:      /bin/true"
    echo "$(rule - 35) stdout $(rule - 35)"
    if [ $# -gt 0 ]; then printf '%s\n' "$@"; fi
    echo "$(rule = 78)"
    echo
  } >>"$f"
}

# make_logs DIR: the logs of a complete, green run, except where the
# associative array "change" says otherwise: change[PASS:TEST] is "omit", or
# "STATUS|LINE|LINE..." (the block's status and output). extra[PASS] holds
# more blocks, "TEST|STATUS|LINE..." separated by newlines.
declare -A change extra
make_logs() {
  local d=$1 t c passes p spec st
  mkdir -p "$d"
  rm -f "$d"/*.txt
  for p in normal leaks rest; do
    printf 'Log of Meson test suite run on 2000-01-01T12:00:00\n\nInherited environment: X=1\n\n' >"$d/$p.txt"
  done
  while read -r t c passes; do
    case $t in '' | '#'*) continue ;; esac
    for p in ${passes//,/ }; do
      spec=${change[$p:$t]-}
      if [ "$spec" = omit ]; then continue; fi
      if [ "$p" = fuzz ] || [ "$p" = tsan ]; then
        # Plain output (scripts/fuzz, the ThreadSanitizer run), no blocks.
        if [ -n "$spec" ]; then
          IFS='|' read -r -a lines <<<"$spec"
          printf '%s\n' "${lines[@]:1}" >>"$d/$p.txt"
        else
          printf '%s\n' "ok   $p-a: nothing found" "ok   $p-b: nothing found" \
            "$c: 2 passed, 0 failed" >>"$d/$p.txt"
        fi
        continue
      fi
      if [ -n "$spec" ]; then
        IFS='|' read -r -a lines <<<"$spec"
        st=${lines[0]}
        block "$d/$p.txt" "$t" "$st" "${lines[@]:1}"
      elif [ "$c" = - ]; then
        block "$d/$p.txt" "$t" 0 "$t: ok"
      else
        block "$d/$p.txt" "$t" 0 "ok   test_one" "ok   test_two" "$c: 2 passed, 0 failed"
      fi
    done
  done <"$list"
  for p in normal leaks rest; do
    if [ -n "${extra[$p]-}" ]; then
      while IFS='|' read -r -a lines; do
        block "$d/$p.txt" "${lines[0]}" "${lines[1]}" "${lines[@]:2}"
      done <<<"${extra[$p]}"
    fi
    printf '\nOk:                 1\nFail:               0\n' >>"$d/$p.txt"
  done
}

# The total a complete run reports: 2 a suite with a closing line, 1 a test
# without one.
total=0
while read -r t c passes; do
  case $t in '' | '#'*) continue ;; esac
  for p in ${passes//,/ }; do
    if [ "$c" = - ]; then total=$((total + 1)); else total=$((total + 2)); fi
  done
done <"$list"

# run NAME: scripts/check --logs on a fresh set; sets out, rc, last.
run() {
  local d=$tmp/$1
  make_logs "$d"
  out=$("$check" --logs "$d" 2>&1)
  rc=$?
  last=$(printf '%s\n' "$out" | tail -n 1)
  printf '%s\n' "$out" >"$tmp/$1.out"
  change=() extra=()
}
# expect NAME RC LAST [PATTERN...]: the status, the last line and lines
# the output must contain.
expect() {
  local name=$1 want_rc=$2 want_last=$3 pat
  shift 3
  local rc_ok=1
  if [ "$want_rc" = 0 ]; then
    [ "$rc" -eq 0 ] || rc_ok=0
  else
    [ "$rc" -ne 0 ] || rc_ok=0
  fi
  if [ $rc_ok = 0 ]; then
    bad "$name" "exit status $rc, want $([ "$want_rc" = 0 ] && echo 0 || echo 'not 0'); output:
$(sed 's/^/    /' <<<"$out" | tail -n 25)"
    return
  fi
  if [ "$last" != "$want_last" ]; then
    bad "$name" "last line '$last', want '$want_last'"
    return
  fi
  for pat in "$@"; do
    if ! grep -qF -- "$pat" <<<"$out"; then
      bad "$name" "no line with '$pat' in:
$(sed 's/^/    /' <<<"$out" | tail -n 25)"
      return
    fi
  done
  ok "$name"
}

run complete
expect a_complete_run_passes 0 "check: $total passed, 0 failed, 0 skipped" \
  "  parity: 2 passed, 0 failed" "  hostile: 2 passed, 0 failed (asan+ubsan)" \
  "  fuzz: 2 passed, 0 failed"

change[normal:vm]=omit
run missing
expect a_missing_suite_fails 1 "check: $((total - 2)) passed, 1 failed, 0 skipped" \
  "FAIL vm: did not run"

change[leaks:codec]=omit
run missing-leaks
expect a_suite_missing_from_one_pass_fails 1 "check: $((total - 2)) passed, 1 failed, 0 skipped" \
  "FAIL codec (asan+ubsan, leak checks): did not run"

change[normal:seccomp]="0|seccomp: 0 passed, 0 failed"
run zero
expect zero_passed_zero_failed_fails 1 "check: $((total - 2)) passed, 1 failed, 0 skipped" \
  "FAIL seccomp: ran no tests (0 passed, 0 failed)"

change[normal:codec]="1|ok   test_one|Segmentation fault"
run no-closing-line
expect no_closing_line_fails 1 "check: $((total - 2)) passed, 1 failed, 0 skipped" \
  "FAIL codec: printed no closing line"

change[normal:abi-static-dawn]="1|abi check failed: size of WGPUFlags"
run result-only
expect a_failing_test_without_closing_line_fails 1 "check: $((total - 1)) passed, 1 failed, 0 skipped" \
  "FAIL abi-static-dawn: exit status 1"

change[rest:hostile]="1|ok   test_one|FAIL test_two|hostile: 1 passed, 1 failed"
run failure
expect a_failure_is_counted 1 "check: $((total - 1)) passed, 1 failed, 0 skipped" \
  "  hostile: 1 passed, 1 failed (asan+ubsan)"

change[normal:ring]="134|ok   test_one|ok   test_two|ring: 2 passed, 0 failed"
run bad-status
expect a_failing_status_with_a_clean_closing_line_fails 1 \
  "check: $total passed, 1 failed, 0 skipped" "FAIL ring: exit status 134"

change[normal:isolate]="0|ok   test_one|skip worker_runs_as_nobody_when_root: not root|isolate: 1 passed, 0 failed, 1 skipped"
run skips
expect skips_are_counted_and_listed 0 "check: $((total - 1)) passed, 0 failed, 1 skipped" \
  "  isolate: 1 passed, 0 failed, 1 skipped" "skipped:" \
  "  isolate: worker_runs_as_nobody_when_root: not root"
if ! sed '$d' "$tmp/skips.out" | grep -q "^  isolate: worker_runs_as_nobody_when_root: not root$"; then
  bad skips_are_listed_above_the_total "$(cat "$tmp/skips.out")"
else
  ok skips_are_listed_above_the_total
fi

change[normal:vm]="77|skip vm: .deps/vm is missing|vm: 0 passed, 0 failed, 1 skipped"
run whole-skip
expect a_whole_suite_skip_fails_unless_allowed 1 "check: $((total - 2)) passed, 1 failed, 0 skipped" \
  "FAIL vm: skipped as a whole; WGV_ALLOW_SKIP=vm allows that"

change[normal:vm]="77|skip vm: .deps/vm is missing|vm: 0 passed, 0 failed, 1 skipped"
export WGV_ALLOW_SKIP=seccomp,vm
run whole-skip-allowed
unset WGV_ALLOW_SKIP
expect an_allowed_whole_suite_skip_is_listed 0 "check: $((total - 2)) passed, 0 failed, 1 skipped" \
  "  vm: .deps/vm is missing"

change[normal:example-matmul]="77"
export WGV_ALLOW_SKIP=example-matmul
run meson-skip-allowed
unset WGV_ALLOW_SKIP
expect a_skip_without_a_reason_says_so 0 "check: $((total - 1)) passed, 0 failed, 1 skipped" \
  "  example-matmul: no reason printed"

change[normal:vm]="0|guest: 45 passed, 0 failed|vm: 2 passed, 0 failed"
run nested
expect only_the_suites_own_closing_line_counts 0 "check: $total passed, 0 failed, 0 skipped"

extra[normal]="not-listed|0|not-listed: 3 passed, 0 failed"
run unlisted
expect an_unlisted_test_fails 1 "check: $total passed, 1 failed, 0 skipped" \
  "FAIL not-listed: ran, but tests/suites.txt does not list it for the normal run"

make_logs "$tmp/no-log"
rm "$tmp/no-log/rest.txt" "$tmp/no-log/fuzz.txt"
out=$("$check" --logs "$tmp/no-log" 2>&1)
rc=$?
last=$(printf '%s\n' "$out" | tail -n 1)
if [ $rc -ne 0 ] && grep -q "FAIL parity (asan+ubsan): did not run" <<<"$out" &&
   grep -q "FAIL fuzz: did not run" <<<"$out" && [[ $last == *" passed, "*[1-9]*" failed, 0 skipped" ]]; then
  ok a_run_without_a_log_fails
else
  bad a_run_without_a_log_fails "exit status $rc:
$(tail -n 12 <<<"$out")"
fi

echo "check-script: $passed passed, $failed failed"
[ $failed -eq 0 ]
