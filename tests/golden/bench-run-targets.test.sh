#!/usr/bin/env bash
# bench/run.sh builds what it runs: every program that run.sh, or a script
# it runs, starts from the build directory ($build/..., lab.sh's $b/...) is
# in the list of targets run.sh builds. A program missing there is not
# noticed on a developer's build directory, which holds everything, but
# stops the one command on a fresh clone partway through (bench_rebind did,
# after two minutes of measurements). Static: reads the scripts, runs none.
# Args: build dir (unused), source dir.
set -euo pipefail
src=$(cd "$2" && pwd)
python3 - "$src" <<'PY'
import os, re, sys

src = sys.argv[1]
run = os.path.join(src, "bench/run.sh")
text = open(run).read()

# The targets: the words after --target up to the redirection.
m = re.search(r"--target((?:\s|\\\n)+(?:[\w-]+(?:\s|\\\n)+)+)>/dev/null", text)
assert m, "run.sh: no 'cmake --build ... --target ... >/dev/null' line"
targets = set(m.group(1).replace("\\", " ").split())

# The scripts run.sh runs, and what those run or source, from the source tree.
seen, todo = set(), [run]
while todo:
    f = todo.pop()
    if f in seen:
        continue
    seen.add(f)
    for rel in re.findall(r'\$(?:src|\{src\}|TOP)/([\w./-]+\.sh)', open(f).read()):
        p = os.path.join(src, rel)
        if os.path.exists(p):
            todo.append(p)
    if f.endswith("kernel_mode.sh"):   # sources netns.sh through dirname "$0"
        todo.append(os.path.join(src, "tests/lab/netns.sh"))

used = {}
for f in sorted(seen):
    for prog in re.findall(r'\$\{?(?:build|b|BUILD)\}?/(?:dataplane|control|bench|rules|tests)/([\w-]+)',
                           open(f).read()):
        used.setdefault(prog, os.path.relpath(f, src))
assert used, "no program from the build directory found: the patterns are stale"
missing = sorted(p for p in used if p not in targets)
for p in missing:
    print("FAIL: %s runs %s, which bench/run.sh does not build (targets: %s)"
          % (used[p], p, " ".join(sorted(targets))))
if missing:
    sys.exit(1)
print("ok: %d scripts, programs %s all built by run.sh"
      % (len(seen), " ".join(sorted(used))))
PY
