#!/usr/bin/env bash
# egw-dataplane --replay on generated captures (tests/replay/gen.py):
# identity, DNS/DoT/DoH, VLAN/QinQ, fragments, IPv6 extension headers,
# malformed frames. Args: build dir, source dir.
set -euo pipefail
exec /usr/bin/python3 "$2/tests/replay/check_replay.py" "$1" "$2"
