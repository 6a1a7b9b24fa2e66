#!/usr/bin/env bash
# The compiled rulesets load into a real kernel and say what the policy says.
# In a throwaway network namespace (egwt-nft-PID, removed on every exit):
#  1. firmware/egw.cfg (with the lab's geo DB) in mark mode loads with
#     `nft -f`; listed back as JSON it has the chains, hooks and priorities,
#     the set elements (unit prefixes, terminal MAC . IP pairs, resolvers,
#     geo prefixes from the lab DB, DoH addresses, the dispatch map), and
#     every rule has a counter and a comment;
#  2. the iptables-nft NFQUEUE rule of mark mode (installed by egw-controld,
#     docs/kernel-mode.md) goes in beside it;
#  3. loading again replaces the table in one transaction (run-time set
#     elements gone, no rule doubled), and a ruleset the kernel rejects
#     leaves the loaded one untouched;
#  4. native-mode rulesets (this kernel has no nft queue) fail only on their
#     queue rules, and load once those are replaced.
# Args: build dir, source dir. Runs as root.
set -euo pipefail
build=$(cd "${1:?usage: nft-load.test.sh BUILD_DIR SOURCE_DIR}" && pwd)
src=$(cd "${2:?usage: nft-load.test.sh BUILD_DIR SOURCE_DIR}" && pwd)
egwctl=$build/control/egwctl
ns=egwt-nft-$$
tmp=$(mktemp -d)
cleanup() {
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns"
in_ns() { ip netns exec "$ns" "$@"; }
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

# --- 1. the lab policy, mark mode ---
"$egwctl" policy compile --target nft --queue-mode mark --inside egw-in \
	--outside egw-out "$src/firmware/egw.cfg" > "$tmp/egw.nft"
if in_ns nft -f "$tmp/egw.nft"; then ok "firmware/egw.cfg (mark mode) loads"; else
	bad "firmware/egw.cfg (mark mode) does not load"; exit 1; fi
in_ns nft -j list ruleset > "$tmp/list1.json"

# check.py LISTING: assertions on the listed ruleset of the lab policy
cat > "$tmp/check.py" <<'EOF'
import json, sys

doc = json.load(open(sys.argv[1]))["nftables"]
fails = []
def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        fails.append(what)

def val(e):
    """A set element as text: 10.1.0.0/16, a-b, mac . ip, key : verdict."""
    if isinstance(e, dict) and "elem" in e:
        return val(e["elem"]["val"])
    if isinstance(e, list) and len(e) == 2 and isinstance(e[1], dict) and \
            ("goto" in e[1] or "jump" in e[1]):
        k = "goto" if "goto" in e[1] else "jump"
        return "%s : %s %s" % (val(e[0]), k, e[1][k]["target"])
    if isinstance(e, dict) and "prefix" in e:
        return "%s/%d" % (e["prefix"]["addr"], e["prefix"]["len"])
    if isinstance(e, dict) and "range" in e:
        return "%s-%s" % (val(e["range"][0]), val(e["range"][1]))
    if isinstance(e, dict) and "concat" in e:
        return " . ".join(val(x) for x in e["concat"])
    return str(e)

sets, chains, rules = {}, {}, {}
for obj in doc:
    for kind in ("set", "map"):
        if kind in obj and obj[kind]["table"] == "egw":
            s = obj[kind]
            sets[s["name"]] = (s.get("comment", ""), [val(e) for e in s.get("elem", [])])
    if "chain" in obj and obj["chain"]["table"] == "egw":
        chains[obj["chain"]["name"]] = obj["chain"]
    if "rule" in obj and obj["rule"]["table"] == "egw":
        rules.setdefault(obj["rule"]["chain"], []).append(obj["rule"])

def by_comment(prefix):
    return [n for n, (c, _) in sets.items() if c.startswith(prefix)]

def has(setname, *elems):
    got = sets.get(setname, ("", []))[1]
    missing = [e for e in elems if e not in got]
    check(setname in sets and not missing,
          "set %s holds %s%s" % (setname, ", ".join(elems),
                                 " (missing %s; has %s)" % (missing, got) if missing else ""))

for c in ("forward", "identity", "dns", "allow", "profile_0", "profile_1",
          "verdicts", "dns_redirect", "dns_nat"):
    check(c in chains and len(rules.get(c, [])) > 0, "chain %s with rules" % c)
fwd = chains.get("forward", {})
check(fwd.get("hook") == "forward" and fwd.get("prio") == -160 and fwd.get("policy") == "drop",
      "forward: hook forward, priority -160 (before iptables mangle -150), policy drop")
v = chains.get("verdicts", {})
check(v.get("hook") == "forward" and v.get("prio", 0) > 0 and v.get("policy") == "accept",
      "verdicts: hook forward after iptables filter, policy accept")
n = chains.get("dns_redirect", {})
check(n.get("type") == "nat" and n.get("hook") == "prerouting", "dns_redirect: nat prerouting")

has("unit_0_v4", "10.1.0.0/16")
has("unit_0_v6", "2001:db8:1::/48")
has("unit_1_v4", "10.2.0.0/16")
check(sets.get("unit_0_v4", ("",))[0].startswith("unit finance (egw.cfg:"),
      "unit set comment names the unit and its line")
has("units_v4", "10.1.0.0/16", "10.2.0.0/16")
has("terminals_v4", "02:00:0a:01:00:0a . 10.1.0.10", "02:00:0a:01:00:0b . 10.1.0.11",
    "02:00:0a:02:00:14 . 10.2.0.20")
has("terminals_v6", "02:00:0a:01:00:0a . 2001:db8:1::10")
has("registered_v4", "10.1.0.10", "10.1.0.11", "10.2.0.20")
has("registered_v6", "2001:db8:1::10")
has("resolvers_v4", "198.51.100.53")
gd = by_comment("geo class CN-GD ")
cn = by_comment("geo class CN ")
check(len(gd) == 2 and len(cn) == 2, "geo sets for CN and CN-GD, one per family")
for name in gd:
    if name.endswith("_v4"):
        has(name, "198.51.100.0/24")
for name in cn:
    if name.endswith("_v4"):
        has(name, "192.0.2.0/24", "198.51.100.0/24")
doh = by_comment("category doh ")
for name in doh:
    if name.endswith("_v4"):
        has(name, "203.0.113.111")
check(len(doh) == 2, "category doh address sets")
has("dispatch_v4", "10.1.0.0/16 : goto profile_0", "10.2.0.0/16 : goto profile_1")
has("dispatch_v6", "2001:db8:1::/48 : goto profile_0")
check("flagged_v4" in sets and "flagged_v6" in sets, "flagged sets for egw-controld")

nrules = sum(len(r) for r in rules.values())
uncommented = [r for rs in rules.values() for r in rs if not r.get("comment")]
nocounter = [r for rs in rules.values() for r in rs
             if not any("counter" in x for x in r["expr"])]
check(nrules > 30 and not uncommented, "all %d rules carry a comment" % nrules)
check(not nocounter, "every rule has a counter")
located = [r for rs in rules.values() for r in rs if "egw.cfg:" in r.get("comment", "")]
check(len(located) > 15, "%d rules cite their egw.cfg line" % len(located))
print("rules %d" % nrules)
sys.exit(1 if fails else 0)
EOF
if python3 "$tmp/check.py" "$tmp/list1.json" > "$tmp/check1.out"; then
	cat "$tmp/check1.out"
else
	cat "$tmp/check1.out"
	bad "the listed ruleset lacks what the policy says (above)"
fi

# --- 2. the NFQUEUE rule of mark mode, as egw-controld installs it ---
if in_ns iptables -t mangle -A FORWARD -m mark --mark 0x00e90001 -j NFQUEUE --queue-num 0 \
	&& in_ns iptables -t mangle -S FORWARD | grep -q -- "--mark 0xe90001 -j NFQUEUE --queue-num 0"; then
	ok "iptables-nft NFQUEUE rule on the punt mark installs next to the table"
else
	bad "iptables NFQUEUE rule on the punt mark"
fi

# --- 3. atomic replacement ---
in_ns nft add element inet egw flagged_v4 '{ 203.0.113.80 timeout 1h }'
in_ns nft add rule inet egw forward counter comment '"stray rule"'
in_ns nft -f "$tmp/egw.nft"
in_ns nft -j list ruleset > "$tmp/list2.json"
if python3 "$tmp/check.py" "$tmp/list2.json" > "$tmp/check2.out"; then
	ok "second load: the ruleset is complete again"
else
	cat "$tmp/check2.out"; bad "second load"
fi
listing() { in_ns nft list table inet egw | sed 's/counter packets [0-9]* bytes [0-9]*/counter/'; }
listing > "$tmp/table2.txt"
if grep -q "203.0.113.80" "$tmp/table2.txt" || grep -q "stray rule" "$tmp/table2.txt"; then
	bad "second load kept run-time additions: the table was not replaced"
else
	ok "second load replaced the table (run-time element and stray rule gone)"
fi
count_rules() {
	python3 -c 'import json,sys; print(sum(1 for o in json.load(open(sys.argv[1]))["nftables"]
		if "rule" in o and o["rule"]["table"] == "egw"))' "$1"
}
n1=$(count_rules "$tmp/list1.json")
n2=$(count_rules "$tmp/list2.json")
if [ "$n1" = "$n2" ] && [ "$n1" -gt 0 ]; then ok "same $n2 rules after reloading (none doubled)"; else
	bad "rules before/after reload: $n1 / $n2"; fi
sed 's/jump dns_nat/jump egw_no_such_chain/' "$tmp/egw.nft" > "$tmp/broken.nft"
if in_ns nft -f "$tmp/broken.nft" 2> "$tmp/broken.err"; then
	bad "a ruleset jumping to a missing chain loaded"
else
	listing > "$tmp/table3.txt"
	if cmp -s "$tmp/table2.txt" "$tmp/table3.txt"; then
		ok "a rejected ruleset leaves the loaded table untouched"
	else
		bad "a rejected ruleset changed the loaded table"
		diff "$tmp/table2.txt" "$tmp/table3.txt" | head -20
	fi
fi

# --- 4. native queue mode: only the queue rules fail on this kernel ---
for cfg in "$src/firmware/egw.cfg" "$src"/tests/golden/nft/*.cfg; do
	name=$(basename "$cfg" .cfg)
	args=()
	case $cfg in
	*/tests/golden/nft/*)
		if [ -f "${cfg%.cfg}.args" ]; then read -r -a args < "${cfg%.cfg}.args"; fi ;;
	esac
	# the golden's own options, native mode unless it says otherwise
	(cd "$(dirname "$cfg")" && "$egwctl" policy compile --target nft "${args[@]}" "$cfg") \
		> "$tmp/$name.nft"
	if grep -q "meta mark set 0x00e90001 accept" "$tmp/$name.nft"; then
		if in_ns nft -f "$tmp/$name.nft"; then ok "$name (mark mode) loads"; else
			bad "$name (mark mode) does not load"; fi
		continue
	fi
	queues=$(grep -c "queue num" "$tmp/$name.nft" || true)
	if in_ns nft -f "$tmp/$name.nft" 2> "$tmp/$name.err"; then
		# a kernel with nft queue: fine too
		ok "$name (native mode) loads"
		continue
	fi
	errs=0
	other=0
	while IFS=: read -r _ line _; do
		errs=$((errs + 1))
		if ! sed -n "${line}p" "$tmp/$name.nft" | grep -q "queue num"; then
			other=$((other + 1))
			sed -n "${line}p" "$tmp/$name.nft"
		fi
	done < <(grep -E '^[^:]+:[0-9]+:[0-9-]+: Error' "$tmp/$name.err")
	if [ "$errs" -gt 0 ] && [ "$other" = 0 ]; then
		ok "$name (native mode): the kernel refused only queue rules ($errs of $queues)"
	else
		cat "$tmp/$name.err"
		bad "$name (native mode): $other errors on rules other than queue"
	fi
	sed -E 's/queue num [0-9-]+( [a-z,]+)? comment/accept comment/' "$tmp/$name.nft" > "$tmp/$name-noq.nft"
	if in_ns nft -f "$tmp/$name-noq.nft"; then
		ok "$name (native mode) loads once its queue statements are replaced"
	else
		bad "$name (native mode) fails beyond its queue statements"
	fi
done

exit "$fail"
