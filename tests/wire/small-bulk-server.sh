#!/bin/sh
# wgv-server with a bulk area of one page, for run-parity's --server.
exec "${WGV_SERVER_BIN:?}" --bulk-kib 4 "$@"
