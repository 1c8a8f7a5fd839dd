#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# bind_and_run.sh - the suite's one kselftest test (TEST_PROGS): binds the
# devices named in VFIO_GROUPS_DEVICES, runs the test binaries beside it and
# restores the devices, through ./run (conformance/run).

usage() {
	cat <<USAGE
usage: bind_and_run.sh [--help]

The vfio_groups entry of a kselftest install (run_kselftest.sh runs it).
Environment:
  VFIO_GROUPS_DEVICES   the devices under test: BDFs or VENDOR:DEVICE IDs,
                        separated by spaces (e.g. "0000:01:00.0 1234:11e8");
                        unset: the test skips (exit 4)
  VFIO_GROUPS_IMPL      upstream (vfio-pci, the default), reference
                        (vfio-ref) or a driver name
  VFIO_GROUPS_TESTS     the binaries to run, separated by spaces (default:
                        every one installed beside this script)
  VFIO_GROUPS_TIMEOUT   bound on one binary in seconds (default: run's 300)
  VFIO_GROUPS_RESULTS   where run writes ktap.txt and summary.txt
                        (default: \${TMPDIR:-/tmp}/vfio_groups-results)
  VFIO_GROUPS_FORCE=1   touch IOMMU groups that hold a device the host uses
  VFIO_GROUPS_ALLOW_INCOMPLETE=1  pass when the run left part of the core set
                        unexercised (run --allow-incomplete; run exits 3
                        otherwise, and kselftest reports not ok)
Binds each device (and what its IOMMU group needs) to the implementation's
driver, runs the binaries with a line per binary, restores every driver,
prints run's KTAP, and exits with run's status (0 passed, 1 failed); 4
(skip) without root or without VFIO_GROUPS_DEVICES. The kselftest time
bound of this test is in ./settings; run bounds each binary on its own.
USAGE
}

case "${1:-}" in
-h|--help) usage; exit 0 ;;
"") ;;
*) usage >&2; exit 2 ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
skip() { echo "bind_and_run.sh: SKIP: $*"; exit 4; }
[ -n "${VFIO_GROUPS_DEVICES:-}" ] ||
	skip "no devices to test: set VFIO_GROUPS_DEVICES (bind_and_run.sh --help)"
[ "$(id -u)" = 0 ] || skip "binding devices needs root"

# The binaries: every executable here but run, its ktap-wrap and the scripts.
tests=${VFIO_GROUPS_TESTS:-}
if [ -z "$tests" ]; then
	for f in "$here"/*; do
		name=${f##*/}
		case "$name" in run|ktap-wrap|*.sh) continue ;; esac
		[ -f "$f" ] && [ -x "$f" ] && tests="$tests $name"
	done
fi
[ -n "$tests" ] || { echo "bind_and_run.sh: no test binaries in $here"; exit 1; }

set --
for d in $VFIO_GROUPS_DEVICES; do set -- "$@" --device "$d"; done
[ "${VFIO_GROUPS_FORCE:-0}" = 1 ] && set -- "$@" --force
[ "${VFIO_GROUPS_ALLOW_INCOMPLETE:-0}" = 1 ] && set -- "$@" --allow-incomplete
[ -n "${VFIO_GROUPS_TIMEOUT:-}" ] && set -- "$@" --timeout "$VFIO_GROUPS_TIMEOUT"
results=${VFIO_GROUPS_RESULTS:-${TMPDIR:-/tmp}/vfio_groups-results}
"$here/run" --impl "${VFIO_GROUPS_IMPL:-upstream}" "$@" --tests "$here" \
	--only "$(echo $tests | tr ' ' ,)" --results "$results"
rc=$?
[ -f "$results/ktap.txt" ] && cat "$results/ktap.txt"
exit $rc
