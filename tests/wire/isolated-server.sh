#!/bin/sh
# wgv-server with a worker process per guest, for run-parity's --server
# (WGV_ISOLATE_OPTIONS adds options, e.g. --seccomp-log).
exec "${WGV_SERVER_BIN:?}" --isolate ${WGV_ISOLATE_OPTIONS:-} "$@"
