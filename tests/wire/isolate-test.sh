#!/usr/bin/env bash
# wgv-server --isolate: a worker process per guest (docs/isolation.md),
# and the cap on one user's guests at once (--max-guests-per-user).
# Usage: isolate-test.sh BUILD_DIR
set -u
build=$1
server=$build/src/server/wgv-server
guest=$build/tests/wire/isolate-guest
native=$build/tests/parity/compute_storage-native
wire=$build/tests/parity/compute_storage-wire
tmp=$(mktemp -d /tmp/wgv-isolate-test.XXXXXX)
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

n=0
# start NAME [SERVER OPTIONS]: a fresh isolated server; sets sock, log, spid.
start() {
  n=$((n + 1))
  sock=$tmp/s$n.sock log=$tmp/server-$1.log
  "$server" --socket "$sock" --isolate --verbose "${@:2}" 2>"$log" &
  spid=$!
  for _ in $(seq 1 200); do [ -S "$sock" ] && return 0; sleep 0.05; done
  return 1
}
stop() { kill -TERM "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; }
# wait_line FILE PATTERN [SECONDS]
wait_line() {
  for _ in $(seq 1 $((${3:-20} * 20))); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  return 1
}
# worker_pid CONTEXT: the pid the server logged for that context's worker.
worker_pid() {
  wait_line "$log" "context $1: worker pid " && grep -m1 "context $1: worker pid " "$log" | awk '{print $NF}'
}
# field PID NAME: a line of /proc/PID/status, without its name.
field() { awk -v f="$2:" '$1 == f { $1 = ""; print substr($0, 2) }' "/proc/$1/status" 2>/dev/null; }
# idle_guest NAME SECONDS: a guest that connects, then waits; sets gpid.
idle_guest() {
  WGV_SERVER=$sock timeout 120 "$guest" idle "$2" >"$tmp/$1.out" 2>"$tmp/$1.err" &
  gpid=$!
  wait_line "$tmp/$1.out" ready 30
}

"$native" >"$tmp/native.out" 2>/dev/null

# 1. Guests served by workers get the native results, several at once.
if start results; then
  pids=()
  for i in 1 2 3 4; do
    WGV_SERVER=$sock timeout 120 "$wire" >"$tmp/wire.$i.out" 2>"$tmp/wire.$i.err" &
    pids+=($!)
  done
  allok=1
  for i in 1 2 3 4; do
    wait "${pids[$((i - 1))]}" || allok=0
    cmp -s "$tmp/native.out" "$tmp/wire.$i.out" || allok=0
  done
  workers=$(grep -c "worker pid" "$log")
  if [ $allok = 1 ] && [ "$workers" = 4 ] && kill -0 $spid 2>/dev/null; then
    ok isolated_guests_get_the_native_results
  else
    bad isolated_guests_get_the_native_results "results ok: $allok, workers: $workers"
  fi
  stop
else
  bad isolated_guests_get_the_native_results "server did not start"
fi

# 2. A worker is confined before it runs the guest's first command: seccomp
#    filter mode, no_new_privs, and (as root) nobody's uid; it holds its own
#    connection and no other socket (not the listener); the parent holds no
#    guest's socket; and the adapter the guest asks for afterwards works.
if start confined && idle_guest confined 3; then
  wpid=$(worker_pid 1)
  sc=$(field "$wpid" Seccomp) nnp=$(field "$wpid" NoNewPrivs)
  socks=$(ls -l "/proc/$wpid/fd" 2>/dev/null | grep -c 'socket:')
  # The parent's sockets: the listener and the pooled workers' control
  # sockets, none of them the guest's connection.
  wsock=$(ls -l "/proc/$wpid/fd" 2>/dev/null | grep -o 'socket:\[[0-9]*\]' | head -n1)
  psocks=$(ls -l "/proc/$spid/fd" 2>/dev/null | grep -c 'socket:')
  pguest=$(ls -l "/proc/$spid/fd" 2>/dev/null | grep -cF "${wsock:-none}")
  if [ "$sc" = 2 ] && [ "$nnp" = 1 ]; then
    ok worker_runs_under_seccomp_with_no_new_privs
  else
    bad worker_runs_under_seccomp_with_no_new_privs "Seccomp: '$sc', NoNewPrivs: '$nnp' (pid '$wpid')"
  fi
  if [ "$socks" = 1 ] && [ -n "$wsock" ] && [ "$pguest" = 0 ] && [ "$psocks" -ge 1 ]; then
    ok worker_holds_only_its_own_socket
  else
    bad worker_holds_only_its_own_socket "worker sockets: $socks, parent sockets: $psocks, the guest's among them: $pguest"
  fi
  if [ "$(id -u)" = 0 ]; then
    uids=$(field "$wpid" Uid) gids=$(field "$wpid" Gid) groups=$(field "$wpid" Groups)
    want="$nobody $nobody $nobody $nobody"
    if [ -n "$nobody" ] && [ "$uids" = "$want" ] && [ "${gids%% *}" != 0 ] &&
       ! echo " $groups " | grep -q ' 0 '; then
      ok worker_runs_as_nobody_when_root
    else
      bad worker_runs_as_nobody_when_root "Uid: '$uids', Gid: '$gids', Groups: '$groups'"
    fi
  else
    skip worker_runs_as_nobody_when_root "not root: the privilege drop to nobody needs root"
  fi
  wait $gpid
  grc=$?
  if [ $grc = 0 ]; then ok adapter_and_device_work_after_the_privilege_drop
  else bad adapter_and_device_work_after_the_privilege_drop "guest exit $grc: $(cat "$tmp/confined.out" "$tmp/confined.err" | head -c 300)"; fi
  stop
else
  bad worker_runs_under_seccomp_with_no_new_privs "server or guest did not start"
fi

# 3. SIGKILL of one worker ends its guest only: the guest notices, the other
#    guest finishes with the right results, the server logs it and goes on.
if start sigkill && idle_guest a 3; then
  apid=$gpid
  idle_guest b 3
  bpid=$gpid
  wa=$(worker_pid 1)
  kill -KILL "$wa"
  wait $apid; arc=$?
  wait $bpid; brc=$?
  if [ $arc = 3 ] && [ $brc = 0 ] && kill -0 $spid 2>/dev/null &&
     wait_line "$log" "context 1: worker ended by signal 9" 5 &&
     WGV_SERVER=$sock timeout 60 "$wire" >"$tmp/after-kill.out" 2>/dev/null &&
     cmp -s "$tmp/native.out" "$tmp/after-kill.out"; then
    ok sigkill_of_a_worker_ends_only_its_guest
  else
    bad sigkill_of_a_worker_ends_only_its_guest "killed guest exit $arc (want 3), other guest exit $brc (want 0)
$(tail -5 "$log")"
  fi
  stop
else
  bad sigkill_of_a_worker_ends_only_its_guest "server or guest did not start"
fi

# 4. SIGTERM to the server with guests connected: it stops its workers,
#    removes its socket and exits 0 within seconds; the guests (asleep while
#    it happens) find their connection gone when they wake.
if start sigterm && idle_guest t1 6; then
  g1=$gpid
  idle_guest t2 6
  g2=$gpid
  w1=$(worker_pid 1) w2=$(worker_pid 2)
  t0=$(date +%s%N)
  kill -TERM $spid
  wait $spid; rc=$?
  ms=$((($(date +%s%N) - t0) / 1000000))
  left=""
  for p in $w1 $w2; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
  wait $g1; r1=$?
  wait $g2; r2=$?
  if [ $rc = 0 ] && [ ! -e "$sock" ] && [ -z "$left" ] && [ $r1 = 3 ] && [ $r2 = 3 ] &&
     [ $ms -lt 10000 ]; then
    ok sigterm_stops_workers_and_server "$ms ms"
  else
    bad sigterm_stops_workers_and_server "exit $rc after $ms ms, socket left: $([ -e "$sock" ] && echo yes || echo no), workers left:'$left', guests exit $r1 $r2 (want 3 3)"
  fi
else
  bad sigterm_stops_workers_and_server "server or guest did not start"
fi

# 5. The GPU watchdog. CPU-ONLY TEST: on lavapipe the endless shader spins
#    on the CPU, where killing the worker stops it; a real GPU needs its
#    driver's own timeout as well. The guest's connection must close within
#    seconds of the watchdog's 3, the server must stay up, and the next guest
#    must still get correct results.
if start watchdog --watchdog 3; then
  t0=$(date +%s)
  WGV_SERVER=$sock timeout 60 "$guest" hang >"$tmp/hang.out" 2>"$tmp/hang.err"
  hrc=$?
  t1=$(date +%s)
  if [ $hrc = 4 ]; then
    skip watchdog_ends_an_endless_shader_and_the_server_goes_on "not a CPU adapter: on a GPU an endless shader needs the driver's own timeout too"
  elif [ $hrc = 3 ] && [ $((t1 - t0)) -le 15 ] && grep -q "context 1: watchdog:" "$log" &&
     kill -0 $spid 2>/dev/null && WGV_SERVER=$sock timeout 60 "$wire" >"$tmp/after-hang.out" 2>/dev/null &&
     cmp -s "$tmp/native.out" "$tmp/after-hang.out"; then
    ok watchdog_ends_an_endless_shader_and_the_server_goes_on "$((t1 - t0)) s"
  else
    bad watchdog_ends_an_endless_shader_and_the_server_goes_on "guest exit $hrc (want 3) after $((t1 - t0)) s
$(tail -5 "$log")"
  fi
  stop
else
  bad watchdog_ends_an_endless_shader_and_the_server_goes_on "server did not start"
fi

# 5b. The same while a second device of the same guest keeps finishing
#     work: the watchdog looks at each callback owed, so progress elsewhere
#     does not hide the hung one. Both devices are told they are lost.
#     lavapipe gives a process one compute thread a CPU it may use, and the
#     endless shader holds one for good: with one CPU the other device could
#     not finish anything, so its worker gets two whatever the machine.
if LP_NUM_THREADS=2 start watchdog2 --watchdog 3; then
  t0=$(date +%s)
  WGV_SERVER=$sock timeout 60 "$guest" hang2 >"$tmp/hang2.out" 2>"$tmp/hang2.err"
  hrc=$?
  t1=$(date +%s)
  if [ $hrc = 4 ]; then
    skip watchdog_sees_a_hung_device_beside_a_busy_one "not a CPU adapter: on a GPU an endless shader needs the driver's own timeout too"
  elif [ $hrc = 3 ] && [ $((t1 - t0)) -le 15 ] && grep -q "context 1: watchdog:" "$log" &&
     grep -q "the other device finished round 3" "$tmp/hang2.out" && kill -0 $spid 2>/dev/null; then
    ok watchdog_sees_a_hung_device_beside_a_busy_one "$((t1 - t0)) s, $(grep -c 'finished round' "$tmp/hang2.out") rounds on the other device"
  else
    bad watchdog_sees_a_hung_device_beside_a_busy_one "guest exit $hrc (want 3) after $((t1 - t0)) s
$(tail -3 "$tmp/hang2.out")
$(tail -5 "$log")"
  fi
  stop
else
  bad watchdog_sees_a_hung_device_beside_a_busy_one "server did not start"
fi

# 5c. A guest that holds a device and does nothing for longer than the
#     watchdog's limit owes nothing: its device-lost callback, which may
#     never fire, is not work the GPU owes, so the worker must live.
if start watchdog-idle --watchdog 2 && idle_guest idle 5; then
  wait "$gpid"
  irc=$?
  if [ $irc = 0 ] && ! grep -q "watchdog:" "$log"; then
    ok watchdog_leaves_an_idle_guest_alone
  else
    bad watchdog_leaves_an_idle_guest_alone "guest exit $irc (want 0)
$(tail -3 "$log")"
  fi
  stop
else
  bad watchdog_leaves_an_idle_guest_alone "server or guest did not start"
fi

# 6. --no-seccomp: the worker still sets no_new_privs, without a filter.
if start noseccomp --no-seccomp && idle_guest ns 1; then
  wpid=$(worker_pid 1)
  sc=$(field "$wpid" Seccomp) nnp=$(field "$wpid" NoNewPrivs)
  wait $gpid; grc=$?
  if [ "$sc" = 0 ] && [ "$nnp" = 1 ] && [ $grc = 0 ]; then ok no_seccomp_leaves_workers_unfiltered
  else bad no_seccomp_leaves_workers_unfiltered "Seccomp: '$sc', NoNewPrivs: '$nnp', guest exit $grc"; fi
  stop
else
  bad no_seccomp_leaves_workers_unfiltered "server or guest did not start"
fi

# 7. --user naming nobody known: a log line, and the guests are still served.
if start nouser --user wgv-no-such-user; then
  WGV_SERVER=$sock timeout 60 "$wire" >"$tmp/nouser.out" 2>/dev/null
  if { [ "$(id -u)" != 0 ] || grep -q "user wgv-no-such-user does not exist" "$log"; } &&
     cmp -s "$tmp/native.out" "$tmp/nouser.out"; then
    ok an_unknown_user_is_logged_and_skipped
  else
    bad an_unknown_user_is_logged_and_skipped "$(head -3 "$log")"
  fi
  stop
else
  bad an_unknown_user_is_logged_and_skipped "server did not start"
fi

# 7b. The pool (--pool, default 2): workers wait ready before any guest,
#     privileges dropped (no_new_privs; nobody's uid as root), holding no
#     socket but their control one and no filter yet; a guest is served by
#     one (which then runs under the filter), and the pool is refilled.
#     --pool 0 forks a worker when the guest connects.
if start pool --pool 2 && wait_line "$log" "pool: worker" 20; then
  wait_line "$log" "pool: worker .* ready" 20
  ppid_=$(grep -m1 "pool: worker" "$log" | awk '{print $(NF-1)}')
  sleep 0.5
  nnp=$(field "$ppid_" NoNewPrivs) sc=$(field "$ppid_" Seccomp) uid=$(field "$ppid_" Uid)
  socks=$(ls -l "/proc/$ppid_/fd" 2>/dev/null | grep -c 'socket:')
  want_uid=$(id -u)
  [ "$(id -u)" = 0 ] && [ -n "$nobody" ] && want_uid=$nobody
  if [ "$nnp" = 1 ] && [ "$sc" = 0 ] && [ "${uid%% *}" = "$want_uid" ] && [ "$socks" = 1 ]; then
    ok pooled_workers_wait_with_privileges_dropped
  else
    bad pooled_workers_wait_with_privileges_dropped "pid '$ppid_': NoNewPrivs '$nnp', Seccomp '$sc', Uid '$uid' (want $want_uid), sockets $socks"
  fi
  WGV_SERVER=$sock timeout 120 "$wire" >"$tmp/pool.out" 2>"$tmp/pool.err"
  wpid=$(worker_pid 1)
  ready=$(grep -c "pool: worker .* ready" "$log")
  if cmp -s "$tmp/native.out" "$tmp/pool.out" && grep -q "context 1: taken by a pooled worker" "$log" &&
     grep -q "context 1: worker confined .*seccomp on" "$log" && [ "$ready" -ge 3 ]; then
    ok a_pooled_worker_serves_the_guest_and_the_pool_refills
  else
    bad a_pooled_worker_serves_the_guest_and_the_pool_refills "worker '$wpid', ready lines $ready: $(grep -v '^$' "$log" | tail -5 | tr '\n' '|')"
  fi
  stop
else
  bad pooled_workers_wait_with_privileges_dropped "server did not start a pooled worker"
fi
# With --pool-warm the waiting worker has its instance and adapter made
# (the driver loaded) before the guest comes; the guest gets the native
# results through it.
if start warm --pool 1 --pool-warm && wait_line "$log" "pool: worker" 20; then
  sleep 1
  WGV_SERVER=$sock timeout 120 "$wire" >"$tmp/warm.out" 2>"$tmp/warm.err"
  if cmp -s "$tmp/native.out" "$tmp/warm.out" && grep -q "context 1: taken by a pooled worker" "$log"; then
    ok a_warm_pooled_worker_serves_the_guest
  else
    bad a_warm_pooled_worker_serves_the_guest "$(grep -v '^$' "$log" | tail -5 | tr '\n' '|')"
  fi
  stop
else
  bad a_warm_pooled_worker_serves_the_guest "server did not start a pooled worker"
fi
if start nopool --pool 0; then
  WGV_SERVER=$sock timeout 120 "$wire" >"$tmp/nopool.out" 2>"$tmp/nopool.err"
  if cmp -s "$tmp/native.out" "$tmp/nopool.out" && ! grep -q "pool:" "$log" &&
     grep -q "context 1: worker pid" "$log"; then
    ok pool_0_forks_a_worker_per_guest
  else
    bad pool_0_forks_a_worker_per_guest "$(head -5 "$log" | tr '\n' '|')"
  fi
  stop
else
  bad pool_0_forks_a_worker_per_guest "server did not start"
fi

# 8. Worker options without isolation are refused (--watchdog is not one:
#    thread mode has a watchdog too, server-test.sh).
"$server" --socket "$tmp/x.sock" --no-isolate --user nobody 2>"$tmp/opt.err"
rc=$?
if [ $rc = 2 ] && grep -q -- "--user applies to isolated workers" "$tmp/opt.err"; then
  ok worker_options_need_isolate
else
  bad worker_options_need_isolate "exit $rc: $(cat "$tmp/opt.err")"
fi

# 9. --max-guests-per-user: a user other than the server's own and root
#    gets no more guests served at once; the next is refused at the
#    handshake with a reason naming the option, root's guests are not
#    counted, and once one of the user's guests has left the next is
#    served. Needs root (a guest of another user).
if why=$(other_user_missing "$guest"); then
  skip max_guests_per_user_caps_another_user "$why"
else
  chmod 711 "$tmp"
  mkdir -p -m 777 "$tmp/other"
  n=$((n + 1))
  sock=$tmp/other/s$n.sock log=$tmp/server-cap.log
  "$server" --socket "$sock" --isolate --verbose --max-guests-per-user 2 2>"$log" &
  spid=$!
  for _ in $(seq 1 200); do [ -S "$sock" ] && break; sleep 0.05; done
  chmod 777 "$sock"
  run_nobody() { WGV_SERVER=$sock XDG_RUNTIME_DIR=$tmp/other as_nobody timeout 120 "$@"; }
  run_nobody "$guest" idle 4 >"$tmp/cap1.out" 2>"$tmp/cap1.err" &
  c1=$!
  run_nobody "$guest" idle 4 >"$tmp/cap2.out" 2>"$tmp/cap2.err" &
  c2=$!
  wait_line "$tmp/cap1.out" ready 30 && wait_line "$tmp/cap2.out" ready 30
  run_nobody "$wire" >"$tmp/cap3.out" 2>"$tmp/cap3.err"
  r3=$?
  WGV_SERVER=$sock timeout 120 "$wire" >"$tmp/cap-root.out" 2>"$tmp/cap-root.err"
  rroot=$?
  wait $c1; r1=$?
  wait $c2; r2=$?
  # A guest's place is free once its worker has ended.
  wait_line "$log" "context 1: worker ended" 20 && wait_line "$log" "context 2: worker ended" 20
  run_nobody "$wire" >"$tmp/cap4.out" 2>"$tmp/cap4.err"
  r4=$?
  stop
  if [ $r1 = 0 ] && [ $r2 = 0 ] && [ $r3 != 0 ] &&
     grep -q "uid $nobody already has 2 guests connected.*--max-guests-per-user 2" "$tmp/cap3.err" &&
     grep -q "refused: .*--max-guests-per-user 2" "$log" &&
     [ $rroot = 0 ] && cmp -s "$tmp/native.out" "$tmp/cap-root.out" &&
     [ $r4 = 0 ] && cmp -s "$tmp/native.out" "$tmp/cap4.out"; then
    ok max_guests_per_user_caps_another_user
  else
    bad max_guests_per_user_caps_another_user "idle guests exit $r1 $r2 (want 0 0), third exit $r3 (want a refusal): $(head -c 300 "$tmp/cap3.err"); root's guest exit $rroot, after one left exit $r4
$(tail -4 "$log")"
  fi
fi

if [ $skipped -gt 0 ]; then
  echo "isolate: $passed passed, $failed failed, $skipped skipped"
else
  echo "isolate: $passed passed, $failed failed"
fi
[ $failed -eq 0 ]
