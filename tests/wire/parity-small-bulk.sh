#!/usr/bin/env bash
# The parity suite against a wgv-server whose bulk area is one page (4 KiB):
# every mapping above 2 KiB is streamed through guest memory and every
# write above 512 bytes goes in chunks (docs/protocol.md, "Large
# transfers"), and the transcripts must still be the native ones. Closing
# line: "parity-small-bulk: N passed, M failed".
# Usage: parity-small-bulk.sh BUILD_DIR SERVER
set -o pipefail
here=$(dirname "$0")
export WGV_SERVER_BIN=$2
python3 "$here/../parity/run-parity" "$1" --server "$here/small-bulk-server.sh" |
  sed -u 's/^parity: \([0-9]* passed\)/parity-small-bulk: \1/'
