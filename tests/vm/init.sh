#!/bin/sh
# /init of the VM test's initramfs (tests/vm/run-vm builds it; busybox sh).
# Loads the virtio-gpu driver, runs every program of /etc/tests.list against
# the host's vhost-user-webgpu through /dev/dri/renderD128, checks each
# result, prints "guest: N passed, M failed" on the serial console and
# powers the VM off.
#
# /etc/tests.list: one "NAME KIND ARGS..." line per program (/bin/NAME):
#   parity   exit 0 and stdout identical to /expected/NAME.txt (the native
#            run's transcript on the host)
#   example  exit 0; if /expected/NAME.png exists, /tmp/NAME.png must be
#            byte-identical to it; stdout is shown (timings)
#   client   a dynamically linked program (its libraries in /lib): exit 0;
#            its whole stdout is shown, for the host to check, then its
#            times in the guest ("cpu: real S", "cpu: user S", "cpu: sys S")
#
# /etc/share present: the host's shared folder (tag "share", virtio-9p) is
# mounted read-only at /share first.
/bin/busybox mkdir -p /proc /sys /dev /tmp /out
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

say() { echo "guest: $*"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }

say "kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpu, $(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB"
t0=$(uptime_s)
while read -r ko; do
  insmod "/lib/modules/$ko" || say "insmod $ko failed"
done </etc/modules.order
i=0
while [ ! -e /dev/dri/renderD128 ] && [ $i -lt 100 ]; do
  sleep 0.1
  i=$((i + 1))
done
if [ -e /dev/dri/renderD128 ]; then
  say "virtio-gpu loaded, /dev/dri/renderD128 present ($(awk "BEGIN { printf \"%.2f\", $(uptime_s) - $t0 }") s)"
else
  say "no /dev/dri/renderD128 after loading the modules"
  dmesg | grep -i -E 'virtio|drm' | tail -n 20
fi

# A host folder shared over virtio-9p (run-vm --share), read-only.
if [ -f /etc/share ]; then
  mkdir -p /share
  mount -t 9p -o trans=virtio,version=9p2000.L,ro share /share || say "cannot mount the shared folder"
fi

passed=0
failed=0
show() { sed 's/^/guest:     /' | head -n "${1:-20}"; }
while read -r name kind args; do
  [ -n "$name" ] || continue
  start=$(uptime_s)
  # shellcheck disable=SC2086
  if [ "$kind" = client ]; then
    LD_LIBRARY_PATH=/lib time -p "/bin/$name" $args >"/out/$name.txt" 2>"/out/$name.err" </dev/null
  else
    "/bin/$name" $args >"/out/$name.txt" 2>"/out/$name.err" </dev/null
  fi
  rc=$?
  secs=$(awk "BEGIN { printf \"%.2f\", $(uptime_s) - $start }")
  why=""
  if [ $rc -ne 0 ]; then
    why="exit $rc"
  elif [ "$kind" = parity ] && ! cmp -s "/out/$name.txt" "/expected/$name.txt"; then
    why="transcript differs from the native one"
  elif [ "$kind" = example ] && [ -f "/expected/$name.png" ] &&
       ! cmp -s "/tmp/$name.png" "/expected/$name.png"; then
    why="/tmp/$name.png differs from the native image"
  fi
  if [ -z "$why" ]; then
    passed=$((passed + 1))
    say "ok   $name ($secs s)"
    [ "$kind" = example ] && show 20 <"/out/$name.txt"
    if [ "$kind" = client ]; then
      show 100000 <"/out/$name.txt"
      tail -n 3 "/out/$name.err" | sed 's/^/cpu: /' | show
    fi
  else
    failed=$((failed + 1))
    say "FAIL $name ($secs s): $why"
    if [ "$kind" = parity ] && [ -f "/expected/$name.txt" ]; then
      diff "/expected/$name.txt" "/out/$name.txt" | show 12
    else
      show 12 <"/out/$name.txt"
    fi
    show 8 <"/out/$name.err"
  fi
done </etc/tests.list
if [ -f /out/adapter_info.txt ]; then
  say "adapter as the guest sees it:"
  grep -m 2 -E 'backend|adapter' /out/adapter_info.txt | show 2
fi
say "$passed passed, $failed failed"
sync
poweroff -f
