#!/usr/bin/env bash
# Stands in for a suite the build could not define because something it
# needs is missing, so that the suite fails (or is skipped) by name instead
# of disappearing. It fails, naming what is missing; where WGV_ALLOW_SKIP
# (comma-separated suite names) names the suite, it is skipped instead
# (exit 77, meson's skip).
# Usage: unavailable.sh SUITE REASON
suite=$1 why=$2
case ",${WGV_ALLOW_SKIP:-}," in
  *",$suite,"*)
    echo "skip $suite: $why"
    echo "$suite: 0 passed, 0 failed, 1 skipped"
    exit 77
    ;;
esac
echo "FAIL $suite: $why (WGV_ALLOW_SKIP=$suite skips it instead)"
echo "$suite: 0 passed, 1 failed"
exit 1
