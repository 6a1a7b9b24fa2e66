#!/usr/bin/env bash
# The README's run command: set up the machine, build, and run the gateway in
# the built-in lab with the default policy (firmware/egw.cfg).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash firmware/setup.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$(nproc)"
if [ -x firmware/lab/lab.sh ] && [ -x build/release/dataplane/egw-dataplane ]; then
    exec bash firmware/lab/lab.sh demo build/release
fi
# Until the fast path and the lab land: show what the policy compiles to.
build/release/control/egwctl policy check firmware/egw.cfg
build/release/control/egwctl policy compile --target nft firmware/egw.cfg
