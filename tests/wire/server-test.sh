#!/usr/bin/env bash
# wgv-server as a service: many guests at once, a clean end on SIGTERM
# (idle, and with a guest connected), thread mode's limits (another user's
# guest is refused, the watchdog ends a guest whose shader never ends), a
# Dawn toggle the operator allows.
# Usage: server-test.sh BUILD_DIR
set -u
build=$1
server=$build/src/server/wgv-server
native=$build/tests/parity/compute_storage-native
wire=$build/tests/parity/compute_storage-wire
hang=$build/tests/wire/isolate-guest
tmp=$(mktemp -d /tmp/wgv-server-test.XXXXXX)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
export XDG_RUNTIME_DIR=$tmp
# In a sanitizer build, the guests that lose their host on purpose exit
# without releasing their objects: that is not what is tested here.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
passed=0 failed=0 skipped=0
ok() { echo "ok   $1${2:+ ($2)}"; passed=$((passed + 1)); }
bad() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
# skip NAME REASON: a test this machine cannot run; counted apart.
skip() { echo "skip $1: $2"; skipped=$((skipped + 1)); }
. "$(dirname "$0")/other-user.sh"

start() { # SOCKET
  "$server" --socket "$1" --verbose 2>>"$tmp/server.log" &
  spid=$!
  for _ in $(seq 1 200); do [ -S "$1" ] && return 0; sleep 0.05; done
  return 1
}

# 1. Eight guests at once get the native results.
"$native" >"$tmp/native.out" 2>/dev/null
sock=$tmp/a.sock
start "$sock" || bad many_guests_at_once "server did not start"
pids=()
for i in $(seq 1 8); do
  WGV_SERVER=$sock timeout 120 "$wire" >"$tmp/wire.$i.out" 2>"$tmp/wire.$i.err" &
  pids+=($!)
done
allok=1
for i in $(seq 1 8); do
  wait "${pids[$((i - 1))]}" || allok=0
  cmp -s "$tmp/native.out" "$tmp/wire.$i.out" || allok=0
done
if [ $allok = 1 ] && kill -0 $spid 2>/dev/null; then ok many_guests_at_once; else bad many_guests_at_once "a guest failed or the server died"; fi

# 2. SIGTERM on an idle server: exits 0 and removes its socket.
kill -TERM $spid
wait $spid
rc=$?
if [ $rc -eq 0 ] && [ ! -e "$sock" ]; then ok sigterm_when_idle; else bad sigterm_when_idle "exit $rc, socket left: $([ -e "$sock" ] && echo yes || echo no)"; fi

# 3. SIGTERM with a guest connected: the server ends within seconds and the
#    guest is told (it does not hang).
sock=$tmp/b.sock
start "$sock" || bad sigterm_with_a_guest "server did not start"
WGV_SERVER=$sock timeout 60 "$build/tests/wire/futures" >"$tmp/guest.out" 2>"$tmp/guest.err" &
gpid=$!
sleep 1
kill -TERM $spid
t0=$(date +%s)
wait $spid
rc=$?
wait $gpid
grc=$?
t1=$(date +%s)
if [ $rc -eq 0 ] && [ $grc -ne 124 ] && [ $((t1 - t0)) -lt 30 ]; then
  ok sigterm_with_a_guest
else
  bad sigterm_with_a_guest "server exit $rc, guest exit $grc after $((t1 - t0)) s"
fi

# 4. A program built outside the project against the standard header and
#    linked with -lwebgpu_dawn runs unchanged through wgv-run.
cat >"$tmp/outside.c" <<'PROG'
#include <webgpu/webgpu.h>
#include <stdio.h>
static void got(WGPURequestAdapterStatus s, WGPUAdapter a, WGPUStringView m, void *u1, void *u2)
{
    (void)m; (void)u2;
    if (s == WGPURequestAdapterStatus_Success) *(WGPUAdapter *)u1 = a;
}
int main(void)
{
    WGPUInstance i = wgpuCreateInstance(NULL);
    if (!i) return 2;
    WGPUAdapter a = NULL;
    WGPURequestAdapterCallbackInfo ci = WGPU_REQUEST_ADAPTER_CALLBACK_INFO_INIT;
    ci.mode = WGPUCallbackMode_AllowProcessEvents;
    ci.callback = got;
    ci.userdata1 = &a;
    wgpuInstanceRequestAdapter(i, NULL, ci);
    for (int n = 0; !a && n < 2000000; n++) wgpuInstanceProcessEvents(i);
    if (!a) return 3;
    WGPUAdapterInfo info = WGPU_ADAPTER_INFO_INIT;
    wgpuAdapterGetInfo(a, &info);
    printf("adapter backend %d\n", (int)info.backendType);
    wgpuAdapterInfoFreeMembers(info);
    wgpuAdapterRelease(a);
    wgpuInstanceRelease(i);
    return 42;
}
PROG
if cc -std=c11 -I "$build/api/include" "$tmp/outside.c" -o "$tmp/outside" -L "$build/lib" -lwebgpu_dawn \
     2>"$tmp/cc.err"; then
  timeout 60 "$build/tools/wgv-run" -- "$tmp/outside" >"$tmp/outside.out" 2>&1
  rc=$?
  if [ $rc -eq 42 ] && grep -q "adapter backend" "$tmp/outside.out"; then
    ok program_built_outside_runs_through_wgv_run
  else
    bad program_built_outside_runs_through_wgv_run "exit $rc: $(head -c 300 "$tmp/outside.out")"
  fi
else
  bad program_built_outside_runs_through_wgv_run "does not compile: $(head -c 300 "$tmp/cc.err")"
fi

# 5. Thread mode serves only the server's own user and root: a guest of
#    another user (nobody) is refused at the handshake with a reason that
#    names --isolate; an isolated server serves the same guest.
if why=$(other_user_missing "$wire"); then
  skip another_users_guest_is_refused_in_thread_mode "$why"
else
  # nobody must reach the sockets (connect needs write permission).
  chmod 711 "$tmp"
  mkdir -m 777 "$tmp/other"
  for mode in thread isolate; do
    sock=$tmp/other/$mode.sock
    opt=--no-isolate
    [ $mode = isolate ] && opt=--isolate
    "$server" --socket "$sock" --verbose $opt 2>>"$tmp/other-$mode.log" &
    spid=$!
    for _ in $(seq 1 200); do [ -S "$sock" ] && break; sleep 0.05; done
    chmod 777 "$sock"
    WGV_SERVER=$sock XDG_RUNTIME_DIR=$tmp/other as_nobody timeout 120 "$wire" \
      >"$tmp/other-$mode.out" 2>"$tmp/other-$mode.err"
    eval "rc_$mode=\$?"
    kill -TERM $spid
    wait $spid
  done
  if [ "$rc_thread" != 0 ] && grep -q "refused.*uid $nobody.*--isolate" "$tmp/other-thread.err" &&
     grep -q "connection 1 refused: .*thread mode serves only" "$tmp/other-thread.log" &&
     ! grep -q "context 1: guest connected" "$tmp/other-thread.log"; then
    ok another_users_guest_is_refused_in_thread_mode
  else
    bad another_users_guest_is_refused_in_thread_mode "guest exit $rc_thread: $(head -c 400 "$tmp/other-thread.err")
$(tail -3 "$tmp/other-thread.log")"
  fi
  if [ "$rc_isolate" = 0 ] && cmp -s "$tmp/native.out" "$tmp/other-isolate.out"; then
    ok another_users_guest_is_served_with_isolate
  else
    bad another_users_guest_is_served_with_isolate "guest exit $rc_isolate: $(head -c 400 "$tmp/other-isolate.err")
$(tail -3 "$tmp/other-isolate.log")"
  fi
fi

# 6. The watchdog in thread mode. CPU-ONLY TEST (lavapipe runs the shader
#    on the CPU; on a GPU adapter the guest exits 4 without dispatching).
#    A shader that never ends cannot be stopped in a thread, but its guest
#    is told its context is lost within --watchdog 3 instead of waiting for
#    ever; the server serves the next guest, and ends on SIGTERM (without
#    the stuck thread) within seconds, exit 0, socket removed.
sock=$tmp/w.sock
"$server" --socket "$sock" --verbose --watchdog 3 2>"$tmp/watchdog.log" &
spid=$!
for _ in $(seq 1 200); do [ -S "$sock" ] && break; sleep 0.05; done
t0=$(date +%s)
WGV_SERVER=$sock timeout 60 "$hang" hang >"$tmp/hang.out" 2>"$tmp/hang.err"
hrc=$?
t1=$(date +%s)
if [ $hrc = 4 ]; then
  skip thread_mode_watchdog_ends_an_endless_shaders_context "not a CPU adapter: on a GPU an endless shader needs the driver's own timeout too"
  kill -TERM $spid
  wait $spid
else
  # What the stuck thread costs once its guest is gone: the CPU time the
  # idle server burns in 2 s (reported, not checked).
  ticks0=$(awk '{print $14 + $15}' "/proc/$spid/stat" 2>/dev/null)
  sleep 2
  ticks1=$(awk '{print $14 + $15}' "/proc/$spid/stat" 2>/dev/null)
  core=$(((ticks1 - ticks0) * 100 / (2 * $(getconf CLK_TCK))))
  WGV_SERVER=$sock timeout 60 "$wire" >"$tmp/after-hang.out" 2>/dev/null
  ts0=$(date +%s%N)
  kill -TERM $spid
  wait $spid
  src=$?
  ms=$((($(date +%s%N) - ts0) / 1000000))
  if [ $hrc = 3 ] && [ $((t1 - t0)) -le 15 ] &&
     grep -q "context 1: watchdog: a callback the GPU owes has not come for 3 s" "$tmp/watchdog.log" &&
     grep -q "watchdog: a callback the GPU owes" "$tmp/hang.out" &&
     cmp -s "$tmp/native.out" "$tmp/after-hang.out"; then
    ok thread_mode_watchdog_ends_an_endless_shaders_context "$((t1 - t0)) s; afterwards the idle server still used ${core}% of a core"
  else
    bad thread_mode_watchdog_ends_an_endless_shaders_context "guest exit $hrc (want 3) after $((t1 - t0)) s: $(tail -3 "$tmp/hang.out")
$(tail -5 "$tmp/watchdog.log")"
  fi
  if [ $src = 0 ] && [ ! -e "$sock" ] && [ $ms -lt 10000 ] &&
     grep -q "context 1: its thread is still inside a backend call" "$tmp/watchdog.log"; then
    ok sigterm_with_a_thread_stuck_in_the_backend "$ms ms"
  else
    bad sigterm_with_a_thread_stuck_in_the_backend "exit $src after $ms ms, socket left: $([ -e "$sock" ] && echo yes || echo no)
$(tail -3 "$tmp/watchdog.log")"
  fi
fi

# 7. The operator widens the toggle allowlist (--allow-toggle): that toggle
#    reaches Dawn (workgroup memory is no longer zeroed) while the guest's
#    other unsafe toggles are still dropped and logged.
toggles=$build/tests/hostile/hostile-oob-toggles
sock=$tmp/t.sock
"$server" --socket "$sock" --verbose --allow-toggle disable_workgroup_init 2>"$tmp/toggles.log" &
spid=$!
for _ in $(seq 1 200); do [ -S "$sock" ] && break; sleep 0.05; done
WGV_SERVER=$sock timeout 120 "$toggles" >"$tmp/toggles.out" 2>&1
kill -TERM $spid
wait $spid
if grep -q "workgroup memory starts zeroed: no" "$tmp/toggles.out" &&
   grep -q "out-of-range writes stayed in their binding: yes" "$tmp/toggles.out" &&
   grep -q "'disable_robustness' (enabled) dropped" "$tmp/toggles.log" &&
   ! grep -q "'disable_workgroup_init'" "$tmp/toggles.log"; then
  ok operator_allowed_toggle_reaches_dawn
else
  bad operator_allowed_toggle_reaches_dawn "$(grep -E 'zeroed|binding' "$tmp/toggles.out" | tr '\n' ' ')
$(grep toggle "$tmp/toggles.log" | tail -3)"
fi

if [ $skipped -gt 0 ]; then
  echo "server: $passed passed, $failed failed, $skipped skipped"
else
  echo "server: $passed passed, $failed failed"
fi
[ $failed -eq 0 ]
