#!/usr/bin/env bash
# A host whose GPU driver is missing must not hand guests Dawn's Null
# adapter unless told to (--null). The Vulkan loader is pointed at a driver
# file that does not exist, so Dawn has only its Null backend; in the normal
# environment it has lavapipe. Usage: null-adapter-test.sh BUILD_DIR
set -u
build=$1
server=$build/src/server/wgv-server
daemon=$build/src/vhost-user/vhost-user-webgpu
guest=$build/tests/wire/null-adapter
wgvinfo=$build/tools/wgvinfo
tmp=$(mktemp -d /tmp/wgv-null-adapter.XXXXXX)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
export XDG_RUNTIME_DIR=$tmp
passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
no_driver=(env VK_ICD_FILENAMES=/nonexistent.json VK_DRIVER_FILES=/nonexistent.json)
no_gpu_text="the host has no GPU adapter (only Dawn's Null backend); start the server with --null to use it"
not_offered_text="the host does not offer Dawn's Null backend; start the server with --null to use it"

# Starts a server (arguments after the name: its options, after an optional
# env prefix); its stderr goes to $tmp/NAME.log.
start() { # NAME ENV... -- ARGS...
  local name=$1; shift
  local pre=()
  while [ "$1" != -- ]; do pre+=("$1"); shift; done
  shift
  sock=$tmp/$name.sock
  "${pre[@]}" "$server" --socket "$sock" "$@" 2>"$tmp/$name.log" &
  spid=$!
  for _ in $(seq 1 200); do [ -S "$sock" ] && return 0; sleep 0.05; done
  return 1
}
stop() { kill -TERM "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; }
ask() { # NAME [null]: the guest's answer in $tmp/NAME.out
  WGV_SERVER=$sock timeout 60 "$guest" "${@:2}" >"$tmp/$1.out" 2>"$tmp/$1.err"
}

# 1. No driver, no --null: the server warns, the guest gets Unavailable.
if start nodriver "${no_driver[@]}" -- && ask nodriver; then
  if ! grep -q "^status: Unavailable" "$tmp/nodriver.out" ||
     ! grep -qF "message: webgpu-virtio: $no_gpu_text" "$tmp/nodriver.out"; then
    bad no_driver_request_is_unavailable "$(cat "$tmp/nodriver.out")"
  else
    ok no_driver_request_is_unavailable
  fi
else
  bad no_driver_request_is_unavailable "server or guest failed: $(tail -c 300 "$tmp/nodriver.err")"
fi
stop
if grep -q "wgv-server: adapter: .* (Null: Dawn's Null backend, no GPU)" "$tmp/nodriver.log" &&
   grep -q "wgv-server: WARNING: no GPU adapter found, only Dawn's Null backend" "$tmp/nodriver.log"; then
  ok no_driver_server_warns
else
  bad no_driver_server_warns "stderr: $(grep wgv-server "$tmp/nodriver.log" | head -c 400)"
fi

# 2. The guest asking for backend type Null, still without --null.
if start asknull "${no_driver[@]}" -- && ask asknull null &&
   grep -q "^status: Unavailable" "$tmp/asknull.out" &&
   grep -qF "message: webgpu-virtio: $not_offered_text" "$tmp/asknull.out"; then
  ok explicit_null_request_is_unavailable
else
  bad explicit_null_request_is_unavailable "$(cat "$tmp/asknull.out" "$tmp/asknull.err" 2>/dev/null)"
fi
stop

# 3. No driver, --null: the guest gets the Null adapter.
if start withnull "${no_driver[@]}" -- --null && ask withnull &&
   grep -q "^status: Success" "$tmp/withnull.out" && grep -q "^backend: Null" "$tmp/withnull.out" &&
   ! grep -q "WARNING" "$tmp/withnull.log"; then
  ok no_driver_with_null_gets_the_null_adapter
else
  bad no_driver_with_null_gets_the_null_adapter "$(cat "$tmp/withnull.out" "$tmp/withnull.err" 2>/dev/null)"
fi
stop

# 4. The normal environment (lavapipe): the real adapter, no warning; an
#    explicit Null request is still refused without --null.
if start lavapipe -- && ask lavapipe && ask lavapipe-null null &&
   grep -q "^status: Success" "$tmp/lavapipe.out" && grep -q "^backend: Vulkan" "$tmp/lavapipe.out" &&
   grep -q "^status: Unavailable" "$tmp/lavapipe-null.out" &&
   grep -q "wgv-server: adapter: .* (Vulkan)" "$tmp/lavapipe.log" &&
   ! grep -q "WARNING" "$tmp/lavapipe.log"; then
  ok driver_present_gets_the_real_adapter
else
  bad driver_present_gets_the_real_adapter "$(cat "$tmp/lavapipe.out" "$tmp/lavapipe-null.out" "$tmp/lavapipe.log" 2>/dev/null | head -c 600)"
fi
stop

# 5. vhost-user-webgpu warns the same way at start-up.
"${no_driver[@]}" "$daemon" --socket-path "$tmp/vu.sock" 2>"$tmp/vu.log" &
vpid=$!
for _ in $(seq 1 200); do [ -S "$tmp/vu.sock" ] && break; sleep 0.05; done
kill -TERM $vpid 2>/dev/null
wait $vpid 2>/dev/null
if grep -q "vhost-user-webgpu: WARNING: no GPU adapter found, only Dawn's Null backend" "$tmp/vu.log"; then
  ok vhost_user_daemon_warns
else
  bad vhost_user_daemon_warns "stderr: $(grep vhost-user "$tmp/vu.log" | head -c 400)"
fi

# 6. wgvinfo marks the Null adapter, in both outputs, and warns.
"${no_driver[@]}" "$wgvinfo" >"$tmp/info.out" 2>"$tmp/info.err"
"${no_driver[@]}" "$wgvinfo" --json >"$tmp/info.json" 2>/dev/null
if grep -q "^adapter: .*\[NULL: Dawn's Null backend, no GPU" "$tmp/info.out" &&
   grep -q "WARNING: only Dawn's Null adapter was found" "$tmp/info.err" &&
   grep -q '"null_backend": true' "$tmp/info.json" &&
   python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$tmp/info.json"; then
  ok wgvinfo_marks_the_null_adapter
else
  bad wgvinfo_marks_the_null_adapter "$(head -c 400 "$tmp/info.out")"
fi

echo "null-adapter: $passed passed, $failed failed"
[ $failed -eq 0 ]
