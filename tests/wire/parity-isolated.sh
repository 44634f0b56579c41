#!/usr/bin/env bash
# The parity suite with every wire program served by an isolated worker
# (wgv-server --isolate, seccomp and all). Closing line: "parity-isolated:
# N passed, M failed". Usage: parity-isolated.sh BUILD_DIR SERVER
set -o pipefail
here=$(dirname "$0")
export WGV_SERVER_BIN=$2
python3 "$here/../parity/run-parity" "$1" --server "$here/isolated-server.sh" |
  sed -u 's/^parity: \([0-9]* passed\)/parity-isolated: \1/'
