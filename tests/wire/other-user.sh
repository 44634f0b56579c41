# Sourced by the wire suites' scripts: running a guest as another user
# (nobody), for the tests of what a server does with other users' guests.
#   as_nobody CMD...        runs CMD as nobody
#   other_user_missing PROG prints why PROG cannot run as nobody here (and
#                           returns 0), or prints nothing and returns 1
nobody=$(id -u nobody 2>/dev/null)
as_nobody() { setpriv --reuid="$nobody" --regid="$(id -g nobody)" --clear-groups "$@"; }
other_user_missing() {
  if [ "$(id -u)" != 0 ]; then
    echo "not root: a guest of another user needs root to start"
  elif [ -z "$nobody" ] || ! command -v setpriv >/dev/null; then
    echo "no user nobody, or no setpriv (util-linux)"
  elif ! as_nobody test -x "$1"; then
    echo "nobody cannot run $1 (a private build folder)"
  else
    return 1
  fi
}
