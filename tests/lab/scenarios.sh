# shellcheck shell=bash
# Scenario checks for egw's lab (firmware/lab/lab.sh). Source this file, then
#   sc_init PREFIX            # the lab's prefix (lab.sh up --prefix PREFIX)
#   sc_ping fin1 198.51.100.80 ok
#   sc_suite policy           # every scenario with example.cfg's expectations
#
# Every check takes the expected outcome as its last argument, observes what
# really happens, prints one line
#   PASS|FAIL  <what was tried>  expected <E>  observed <O>  [detail]
# and returns 0 when the observation matches the expectation, 1 otherwise.
# Outcomes:
#   ok          the server named by the check answered (its own identity)
#   blocked     no answer: timeout, reset, refused, unreachable, noconnect,
#               closed (no reply at all), error:N
#   reset       the connection was reset (TCP RST) - a subset of blocked
#   redirected  (DNS) the approved resolver 198.51.100.53 answered instead
#   nxdomain    (DNS) the answer was NXDOMAIN
#   =V[,V...]   (DNS) the answer records were exactly these values
#   short:N     (bulk) only N bytes arrived
#   answer      (DNS) any non-empty answer
# Anything else observed is printed as is (e.g. "other:web 203.0.113.80" when
# a different server answered, "refused" for a DNS REFUSED).
#
# Needs root and the lab's namespaces; the checks only send traffic between
# the lab's namespaces.

SC_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SC_LAB=${SC_LAB:-$SC_LIB_DIR/../../firmware/lab/lab.sh}
SC_PREFIX=
SC_STATE=
SC_PASSED=0
SC_FAILED=0
SC_TIMEOUT=${SC_TIMEOUT:-4}     # seconds a blocked attempt waits

# Identities of the lab's resolvers (the TXT record whoami.lab).
declare -A SC_RESOLVER_ID=([198.51.100.53]=approved [198.51.100.54]=inprovince
                           [203.0.113.53]=foreign)
SC_APPROVED=198.51.100.53

sc_init() {
	SC_PREFIX=${1:?sc_init PREFIX}
	SC_STATE=${EGW_LAB_RUN:-/run/egw-lab}/$SC_PREFIX
	SC_PASSED=0
	SC_FAILED=0
	if [ ! -d "$SC_STATE" ]; then
		echo "scenarios: lab '$SC_PREFIX' is not up ($SC_STATE missing)" >&2
		return 1
	fi
}

sc_x() {  # sc_x HOST CMD...: run in a lab host's namespace
	local h=$1; shift
	ip netns exec "$SC_PREFIX-$h" "$@"
}

# sc_match EXPECT OBSERVED
sc_match() {
	local e=$1 o=$2
	[ "$e" = "$o" ] && return 0
	case $e in
	blocked)
		case $o in timeout | reset | refused | unreachable | noconnect | closed | error*) return 0 ;; esac ;;
	answer)
		case $o in =?*) return 0 ;; esac ;;
	esac
	return 1
}

# sc_result LABEL EXPECT OBSERVED [DETAIL]: prints the row, counts, returns.
sc_result() {
	local label=$1 e=$2 o=$3 detail=${4:-}
	local verdict=PASS rc=0
	if ! sc_match "$e" "$o"; then
		verdict=FAIL
		rc=1
	fi
	if [ "$rc" = 0 ]; then SC_PASSED=$((SC_PASSED + 1)); else SC_FAILED=$((SC_FAILED + 1)); fi
	if [ -n "${SC_TABLE:-}" ]; then
		printf '%-6s  %-17s  %-54s  %-15s  %s\n' "$verdict" "${SC_ID:--}" "$label" "$e" "$o"
	else
		printf '%s  %-56s expected %-16s observed %-16s %s\n' \
			"$verdict" "$label" "$e" "$o" "$detail"
	fi
	return "$rc"
}

# sc_table_header: the column names of SC_TABLE=1 rows (sc_suite's scenario
# id, what was tried, expected, observed; no details: one screen wide).
sc_table_header() {
	printf '%-6s  %-17s  %-54s  %-15s  %s\n' result scenario "what was tried" expected observed
}

sc_url_host() {  # an address as it goes into a URL
	case $1 in *:*) echo "[$1]" ;; *) echo "$1" ;; esac
}

# Classifies a failed curl run: exit code and its stderr.
sc_curl_failure() {
	local rc=$1 err=$2
	case $err in
	*"reset by peer"*) echo reset; return ;;
	*"Connection refused"*) echo refused; return ;;
	*"No route to host"* | *"Network is unreachable"* | *"unreachable"*) echo unreachable; return ;;
	esac
	case $rc in
	28) echo timeout ;;
	52 | 56) echo closed ;;
	7) echo noconnect ;;
	*) echo "error:$rc" ;;
	esac
}

# sc_web_fetch HOST SCHEME DST NAME: sets SC_OBS and SC_DETAIL.
sc_web_fetch() {
	local h=$1 scheme=$2 dst=$3 name=$4 port=80
	[ "$scheme" = https ] && port=443
	local url args=(-sS --connect-timeout "$SC_TIMEOUT" -m $((SC_TIMEOUT + 2)))
	[ "$scheme" = https ] && args+=(-k)
	if [ -n "$name" ]; then
		args+=(--resolve "$name:$port:$(sc_url_host "$dst")")
		url="$scheme://$name/"
	else
		url="$scheme://$(sc_url_host "$dst")/"
	fi
	local out err rc=0
	err=$(mktemp)
	out=$(sc_x "$h" curl "${args[@]}" "$url" 2>"$err") || rc=$?
	local msg
	msg=$(head -c 200 "$err" | tr '\n' ' ')
	rm -f "$err"
	if [ "$rc" = 0 ]; then
		SC_DETAIL=${out%%$'\n'*}
		# "egw-lab web ADDR ..." or "egw-lab doh ADDR": which server answered.
		local kind addr
		read -r _ kind addr _ <<<"$SC_DETAIL"
		if [ "$addr" = "$dst" ]; then
			SC_OBS=ok
		else
			SC_OBS="other:$kind $addr"
		fi
	else
		SC_OBS=$(sc_curl_failure "$rc" "$msg")
		SC_DETAIL=$msg
	fi
}

# --- the checks --------------------------------------------------------------

# sc_ping HOST DST EXPECT (ok|blocked): ICMP echo (IPv6 when DST has a ':').
sc_ping() {
	local h=$1 dst=$2 e=$3 o=blocked
	if sc_x "$h" ping -c 2 -i 0.3 -W "$SC_TIMEOUT" -q "$dst" >/dev/null 2>&1; then
		o=ok
	fi
	sc_result "$h ping $dst" "$e" "$o"
}

# sc_pmtu HOST DST EXPECT: path MTU discovery through the gateway. The
# router's link to the servers gets MTU 1280; HOST pings DST with 1400-byte
# packets that may not be fragmented, so the router answers "fragmentation
# needed" / "packet too big" about them. ok = HOST learned the path MTU
# 1280 (the ICMP error crossed the gateway), else blocked. MTUs and HOST's
# route cache are restored afterwards.
sc_pmtu() {
	local h=$1 dst=$2 e=$3 o=blocked fam=-4
	case $dst in *:*) fam=-6 ;; esac
	sc_x rtr ip link set up0 mtu 1280
	sc_x net ip link set eth0 mtu 1280
	sc_x "$h" ping "$fam" -M do -c 2 -i 0.3 -W "$SC_TIMEOUT" -s 1400 "$dst" >/dev/null 2>&1 || true
	local route
	route=$(sc_x "$h" ip "$fam" route get "$dst" 2>&1 | tr '\n' ' ')
	case $route in *" mtu 1280"*) o=ok ;; esac
	sc_x rtr ip link set up0 mtu 1500
	sc_x net ip link set eth0 mtu 1500
	sc_x "$h" ip "$fam" route flush cache >/dev/null 2>&1 || true
	sc_result "$h pmtu $dst (router MTU 1280)" "$e" "$o" "$route"
}

# sc_http HOST DST [NAME] EXPECT: HTTP GET (Host: NAME, connecting to DST).
sc_http() {
	local h=$1 dst=$2 name='' e
	if [ $# -ge 4 ]; then name=$3; e=$4; else e=$3; fi
	sc_web_fetch "$h" http "$dst" "$name"
	sc_result "$h http $dst${name:+ Host:$name}" "$e" "$SC_OBS" "$SC_DETAIL"
}

# sc_https HOST DST [SNI] EXPECT: HTTPS GET with SNI (and Host) NAME.
sc_https() {
	local h=$1 dst=$2 name='' e
	if [ $# -ge 4 ]; then name=$3; e=$4; else e=$3; fi
	sc_web_fetch "$h" https "$dst" "$name"
	sc_result "$h https $dst${name:+ SNI:$name}" "$e" "$SC_OBS" "$SC_DETAIL"
}

# sc_bulk HOST SCHEME DST BYTES EXPECT: downloads BYTES bytes (GET /bytes/N)
# over http or https; ok when all arrived (TCP segmentation, retransmits and
# offloads through the gateway are sound).
sc_bulk() {
	local h=$1 scheme=$2 dst=$3 n=$4 e=$5
	local out rc=0 err o
	err=$(mktemp)
	out=$(sc_x "$h" curl -sS -k --connect-timeout "$SC_TIMEOUT" -m $((SC_TIMEOUT + 20)) \
		-o /dev/null -w '%{size_download} %{speed_download}' \
		"$scheme://$(sc_url_host "$dst")/bytes/$n" 2>"$err") || rc=$?
	local msg
	msg=$(head -c 200 "$err" | tr '\n' ' ')
	rm -f "$err"
	local got=${out%% *} speed=${out#* }
	if [ "$rc" = 0 ] && [ "$got" = "$n" ]; then
		o=ok
		msg="$n bytes at $((${speed%.*} / 1024)) KiB/s"
	elif [ "$rc" = 0 ]; then
		o="short:$got"
	else
		o=$(sc_curl_failure "$rc" "$msg")
		[ "$o" = timeout ] && [ "${got:-0}" != 0 ] && o="short:$got"
	fi
	sc_result "$h $scheme $dst $n bytes" "$e" "$o" "$msg"
}

# sc_tls HOST DST PORT SNI EXPECT: a bare TLS handshake with openssl s_client
# (the DoT probe on 853; "openssl from terminals" on 443).
sc_tls() {
	local h=$1 dst=$2 port=$3 sni=$4 e=$5
	local out rc=0 o detail
	out=$(sc_x "$h" timeout $((SC_TIMEOUT + 2)) openssl s_client \
		-connect "$(sc_url_host "$dst"):$port" -servername "$sni" \
		</dev/null 2>&1) || rc=$?
	if grep -q 'Cipher is [A-Z]' <<<"$out" && ! grep -q 'Cipher is (NONE)' <<<"$out"; then
		o=ok
		detail=$(grep -m1 -o 'TLSv1[.0-9]*, Cipher is [A-Z0-9_-]*' <<<"$out" || true)
	elif [ "$rc" = 124 ]; then
		o=timeout
	elif grep -qi 'reset by peer\|errno=104' <<<"$out"; then
		o=reset
	elif grep -qi 'refused\|errno=111' <<<"$out"; then
		o=refused
	elif grep -qi 'unreachable\|No route' <<<"$out"; then
		o=unreachable
	else
		o="error:$rc"
	fi
	[ -n "${detail:-}" ] || detail=$(grep -o -m1 -i 'connection [a-z ]*\|errno=[0-9]*\|alert [a-z ]*' <<<"$out" | head -n1 || true)
	sc_result "$h openssl $dst:$port SNI:$sni" "$e" "$o" "$detail"
}

# sc_dig HOST RESOLVER NAME TYPE [tcp]: sets SC_OBS (=values, nxdomain,
# nodata, refused, servfail, timeout, ...) and SC_DETAIL.
sc_dig() {
	local h=$1 r=$2 name=$3 type=$4 tcp=${5:-}
	local args=(+time="$SC_TIMEOUT" +tries=1 +noall +comments +answer)
	[ "$tcp" = tcp ] && args+=(+tcp)
	local out rc=0
	out=$(sc_x "$h" dig "${args[@]}" "@$r" "$name" "$type" 2>&1) || rc=$?
	local status
	status=$(grep -o 'status: [A-Z]*' <<<"$out" | head -n1 | cut -d' ' -f2)
	SC_DETAIL=
	if [ -z "$status" ]; then
		if grep -qi 'refused' <<<"$out"; then SC_OBS=refused
		elif grep -qi 'reset' <<<"$out"; then SC_OBS=reset
		else SC_OBS=timeout; fi
		SC_DETAIL="dig rc $rc"
		return
	fi
	case $status in
	NOERROR)
		local vals
		vals=$(awk -v t="$type" '$1 !~ /^;/ && $4 == t { $1=$2=$3=$4=""; sub(/^ +/, ""); gsub(/"/, ""); print }' <<<"$out" |
			sort | paste -sd, -)
		if [ -n "$vals" ]; then SC_OBS="=$vals"; else SC_OBS=nodata; fi ;;
	*) SC_OBS=$(tr '[:upper:]' '[:lower:]' <<<"$status") ;;
	esac
}

# sc_dns HOST RESOLVER [tcp] EXPECT: asks RESOLVER who it is (TXT whoami.lab).
# ok = RESOLVER itself answered; redirected = the approved resolver answered.
sc_dns() {
	local h=$1 r=$2 tcp='' e
	if [ $# -ge 4 ]; then tcp=$3; e=$4; else e=$3; fi
	sc_dig "$h" "$r" whoami.lab TXT "$tcp"
	local o=$SC_OBS
	case $o in
	=*)
		local who=${o#=}
		who=${who%% *}
		SC_DETAIL="answered by $who"
		if [ "$who" = "${SC_RESOLVER_ID[$r]:-}" ]; then
			o=ok
		elif [ "$who" = "${SC_RESOLVER_ID[$SC_APPROVED]}" ]; then
			o=redirected
		else
			o="other:$who"
		fi ;;
	esac
	sc_result "$h dns${tcp:+/$tcp} @$r whoami" "$e" "$o" "$SC_DETAIL"
}

# sc_dns_name HOST RESOLVER NAME TYPE [tcp] EXPECT: the answer to NAME/TYPE.
sc_dns_name() {
	local h=$1 r=$2 name=$3 type=$4 tcp='' e
	if [ $# -ge 6 ]; then tcp=$5; e=$6; else e=$5; fi
	sc_dig "$h" "$r" "$name" "$type" "$tcp"
	sc_result "$h dns${tcp:+/$tcp} @$r $name $type" "$e" "$SC_OBS" "$SC_DETAIL"
}

# sc_dns_pipe HOST RESOLVER NAMES [split] EXPECT: the A queries NAMES
# (comma-separated) over one TCP connection to RESOLVER, all in one segment
# (pipelined, RFC 7766), or with split the query in two segments.
# ok = every query answered (whatever its rcode), reset = the connection
# was reset (docs/extensions.md, "DNS over TCP").
sc_dns_pipe() {
	local h=$1 r=$2 names=$3 split=one e
	if [ $# -ge 5 ]; then split=$4; e=$5; else e=$4; fi
	local out
	out=$(sc_x "$h" /usr/bin/python3 "$SC_LIB_DIR/dns_tcp_pipeline.py" "$r" "$names" \
		"$split" "$SC_TIMEOUT" 2>&1 | tail -n1)
	SC_OBS=${out%% *}
	SC_DETAIL=${out#"$SC_OBS"}
	sc_result "$h dns/tcp @$r ${split/one/pipelined} $names" "$e" "${SC_OBS:-error}" "$SC_DETAIL"
}

# sc_probe HOST SRC DST EXPECT: a UDP datagram with a fresh token from SRC to
# DST:9999; ok when the server logged it (so a spoofed source that never gets
# a reply is still seen).
sc_probe() {
	local h=$1 src=$2 dst=$3 e=$4
	local token="tok-$$-$RANDOM$RANDOM" o=blocked
	local bind=""
	[ -n "$src" ] && bind=",bind=$src"
	local addr=$dst
	case $dst in *:*) addr="[$dst]" ;; esac
	for _ in 1 2 3; do
		echo "$token" | sc_x "$h" socat -u - "UDP-SENDTO:$addr:9999$bind" 2>/dev/null || true
		sleep 0.2
	done
	for _ in $(seq 1 $((SC_TIMEOUT * 5))); do
		if grep -q " $token\$" "$SC_STATE/srv.log" 2>/dev/null; then
			o=ok
			break
		fi
		sleep 0.2
	done
	local seen
	seen=$(grep " $token\$" "$SC_STATE/srv.log" 2>/dev/null | head -n1 | cut -d' ' -f2)
	sc_result "$h udp ${src:+from $src }to $dst" "$e" "$o" "${seen:+server saw source $seen}"
}

# sc_spoof DST EXPECT: the rogue terminal sends from fin1's 10.1.0.10 with its
# other MAC (lab.sh spoof on; off again afterwards).
sc_spoof() {
	local dst=$1 e=$2 rc=0
	bash "$SC_LAB" spoof on --prefix "$SC_PREFIX" || { sc_result "rogue spoof setup" "$e" "error:setup"; return 1; }
	sc_probe rogue 10.1.0.10 "$dst" "$e" || rc=$?
	bash "$SC_LAB" spoof off --prefix "$SC_PREFIX" || true
	return "$rc"
}

# --- the suite ---------------------------------------------------------------
# One row per scenario: id, expectation in bridge mode (nothing enforced),
# expectation under firmware/egw.cfg (= example.cfg), the check.
sc_rows() {
	cat <<'EOF'
fin1-ping        ok               ok              sc_ping fin1 198.51.100.80
fin2-ping        ok               ok              sc_ping fin2 192.0.2.80
fin1-http        ok               ok              sc_http fin1 198.51.100.80 www.example.cn
fin1-https       ok               ok              sc_https fin1 198.51.100.80 www.example.cn
fin2-https-us    ok               ok              sc_https fin2 203.0.113.80 www.example.com
fin1-openssl     ok               ok              sc_tls fin1 192.0.2.80 443 www.beijing.example.cn
fin1-v6-ping     ok               ok              sc_ping fin1 2001:db8:ff::80
fin1-v6-http     ok               ok              sc_http fin1 2001:db8:ff::80 web6.example.com
fin1-v6-https    ok               ok              sc_https fin1 2001:db8:ff::80 web6.example.com
fin1-bulk        ok               ok              sc_bulk fin1 https 198.51.100.80 2000000
fin1-v6-bulk     ok               ok              sc_bulk fin1 http 2001:db8:ff::80 2000000
fin1-pmtu        ok               ok              sc_pmtu fin1 198.51.100.80
fin1-v6-pmtu     ok               ok              sc_pmtu fin1 2001:db8:ff::80
rogue-ping       ok               blocked         sc_ping rogue 198.51.100.80
rogue-http       ok               blocked         sc_http rogue 198.51.100.80
spoof-udp        ok               blocked         sc_spoof 198.51.100.80
dns-approved     ok               ok              sc_dns fin1 198.51.100.53
dns-inprovince   ok               ok              sc_dns fin1 198.51.100.54
dns-foreign      ok               redirected      sc_dns fin1 203.0.113.53
dns-foreign-tcp  ok               redirected      sc_dns fin1 203.0.113.53 tcp
dns-foreign-a    =203.0.113.99    =198.51.100.80  sc_dns_name fin1 203.0.113.53 www.example.cn A
dns-example-a    =198.51.100.80   =198.51.100.80  sc_dns_name fin1 198.51.100.53 www.example.cn A
dot              ok               blocked         sc_tls fin1 203.0.113.111 853 dns.google
doh              ok               blocked         sc_https fin1 203.0.113.111 dns.google
canary           =203.0.113.80    nxdomain        sc_dns_name fin1 198.51.100.53 use-application-dns.net A
mail-dns         =203.0.113.80    nxdomain        sc_dns_name fin1 198.51.100.53 mail.qq.com A
mail-dns-aaaa    =2001:db8:ff::80 nxdomain        sc_dns_name fin1 198.51.100.53 gmail.com AAAA
canary-tcp       =203.0.113.80    nxdomain        sc_dns_name fin1 198.51.100.53 use-application-dns.net A tcp
mail-dns-tcp     =203.0.113.80    nxdomain        sc_dns_name fin1 198.51.100.53 mail.qq.com A tcp
dns-example-tcp  =198.51.100.80   =198.51.100.80  sc_dns_name fin1 198.51.100.53 www.example.cn A tcp
dns-tcp-pipelined ok              ok              sc_dns_pipe fin1 198.51.100.53 www.example.cn,www.example.cn
mail-dns-pipelined ok             reset           sc_dns_pipe fin1 198.51.100.53 www.example.cn,mail.qq.com
dns-tcp-split    ok               reset           sc_dns_pipe fin1 198.51.100.53 mail.qq.com split
gmail-sni        ok               reset           sc_https fin1 203.0.113.80 gmail.com
mail-http-host   ok               reset           sc_http fin1 203.0.113.80 mail.qq.com
health-cn        ok               ok              sc_http health 198.51.100.80
health-cn-beijing ok              ok              sc_https health 192.0.2.80 www.beijing.example.cn
health-dns       ok               ok              sc_dns health 198.51.100.53
health-us        ok               blocked         sc_http health 203.0.113.80
health-us-https  ok               blocked         sc_https health 203.0.113.80 www.example.com
EOF
}

# sc_expect SET ID: the expectation of scenario ID in SET (bridge|policy).
sc_expect() {
	local col
	case $1 in bridge) col=2 ;; policy) col=3 ;; *) return 1 ;; esac
	sc_rows | awk -v id="$2" -v c="$col" '$1 == id { print $c; found=1 } END { exit !found }'
}

# sc_suite SET [ID...]: runs the scenarios (all, or the IDs given) with SET's
# expectations; prints one line each and a summary; returns 1 if any failed.
# SC_OVERRIDE="ID=EXPECT ..." replaces single expectations (a back end whose
# documented behaviour differs, e.g. SC_OVERRIDE="dot=reset").
# SC_TABLE=1: rows as a table (sc_table_header), the scenario id first.
sc_suite() {
	local set=$1; shift
	local col
	case $set in bridge) col=2 ;; policy) col=3 ;; *) echo "sc_suite: unknown set '$set'" >&2; return 2 ;; esac
	local before_p=$SC_PASSED before_f=$SC_FAILED
	local id eb ep check
	while read -r id eb ep check; do
		[ -n "$id" ] || continue
		if [ $# -gt 0 ]; then
			local want=0 x
			for x in "$@"; do [ "$x" = "$id" ] && want=1; done
			[ "$want" = 1 ] || continue
		fi
		local e=$eb o
		[ "$col" = 3 ] && e=$ep
		for o in ${SC_OVERRIDE:-}; do
			[ "${o%%=*}" = "$id" ] && e=${o#*=}
		done
		SC_ID=$id
		# shellcheck disable=SC2086 # the check's words are split on purpose
		$check "$e" </dev/null || true
		SC_ID=
	done < <(sc_rows)
	local p=$((SC_PASSED - before_p)) f=$((SC_FAILED - before_f))
	echo "scenarios ($set): $p passed, $f failed"
	[ "$f" = 0 ]
}

# sc_reload_traffic DIR PID LOG PATTERN: three reloads (SIGHUP to PID, one a
# second) under running traffic lose nothing: fin1 pings 198.51.100.80 every
# 10 ms, fin2 sends a numbered UDP stream to its echo server (port 9999) and
# fin1 downloads 6 MB over TCP across the reloads; every reply, datagram and
# byte must arrive, and LOG must gain three lines matching PATTERN (grep -E:
# the daemon's "reload done" line). Scratch files go to DIR. Prints a FAIL
# line per failure and one summary line; returns the number of failures.
sc_reload_traffic() {
	local dir=$1 pid=$2 log=$3 pat=$4 n=400 fails=0 before reloads seen tok
	local ping_pid udp_pid bulk_pid
	before=$(grep -cE "$pat" "$log")
	sc_x fin1 ping -c "$n" -i 0.01 -W 2 -q 198.51.100.80 >"$dir/ping.out" 2>&1 &
	ping_pid=$!
	tok="reload-$$-$RANDOM"
	sc_x fin2 /usr/bin/python3 - "$n" "$tok" >"$dir/udp.out" 2>&1 <<'PY' &
import socket, sys, time
n, tok = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("198.51.100.80", 9999))
s.setblocking(False)
got = set()
def drain():
    while True:
        try:
            d = s.recv(2048).decode(errors="replace").split()
        except BlockingIOError:
            return
        if d and d[-1].startswith(tok + "-"):
            got.add(d[-1])
for i in range(n):
    s.send(("%s-%d" % (tok, i)).encode())
    time.sleep(0.01)
    drain()
end = time.time() + 3
while time.time() < end and len(got) < n:
    time.sleep(0.05)
    drain()
print("echoed %d of %d" % (len(got), n))
PY
	udp_pid=$!
	# A TCP download that spans the reloads (rate-limited to ~6 s).
	sc_x fin1 curl -sS --limit-rate 1M -m 30 -o /dev/null -w '%{size_download}' \
		http://198.51.100.80/bytes/6000000 >"$dir/bulk.out" 2>&1 &
	bulk_pid=$!
	sleep 1
	for _ in 1 2 3; do
		kill -HUP "$pid"
		sleep 1
	done
	wait "$ping_pid"
	wait "$udp_pid"
	wait "$bulk_pid"
	reloads=$(($(grep -cE "$pat" "$log") - before))
	[ "$reloads" = 3 ] || {
		echo "FAIL: $reloads reloads done of 3: $(grep reload "$log" | tail -n 3)"
		fails=$((fails + 1))
	}
	grep -q "$n packets transmitted, $n received" "$dir/ping.out" || {
		echo "FAIL: ping lost packets across reloads: $(grep transmitted "$dir/ping.out")"
		fails=$((fails + 1))
	}
	grep -q "^echoed $n of $n\$" "$dir/udp.out" || {
		echo "FAIL: UDP echoes lost across reloads: $(cat "$dir/udp.out")"
		fails=$((fails + 1))
	}
	seen=$(grep -c " $tok-[0-9]*\$" "$SC_STATE/srv.log")
	[ "$seen" = "$n" ] || {
		echo "FAIL: the server saw $seen of $n UDP datagrams sent across reloads"
		fails=$((fails + 1))
	}
	[ "$(cat "$dir/bulk.out")" = 6000000 ] || {
		echo "FAIL: TCP download across reloads: $(cat "$dir/bulk.out")"
		fails=$((fails + 1))
	}
	echo "reloads: $reloads; ping: $(grep -o '[0-9]* received' "$dir/ping.out"); UDP:" \
		"$(cat "$dir/udp.out"), server saw $seen; TCP: $(cat "$dir/bulk.out") bytes"
	return "$fails"
}
