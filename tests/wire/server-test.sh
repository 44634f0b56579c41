#!/usr/bin/env bash
# wgv-server as a service: many guests at once, and a clean end on SIGTERM
# (idle, and with a guest connected). Usage: server-test.sh BUILD_DIR
set -u
build=$1
server=$build/src/server/wgv-server
native=$build/tests/parity/compute_storage-native
wire=$build/tests/parity/compute_storage-wire
tmp=$(mktemp -d /tmp/wgv-server-test.XXXXXX)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
export XDG_RUNTIME_DIR=$tmp
passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

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

echo "server: $passed passed, $failed failed"
[ $failed -eq 0 ]
