#!/usr/bin/env bash
# The namespace smoke test with two workers (two queue pairs per port):
# flows, verdicts, reload quiescence (rte_rcu_qsbr) and flow snapshots across
# workers.
set -euo pipefail
exec bash "$2/tests/lab/dataplane_smoke.test.sh" "$1" "$2" 2
