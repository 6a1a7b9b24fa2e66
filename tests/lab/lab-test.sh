# shellcheck shell=bash
# shellcheck disable=SC2154,SC2034 # build, src come from the test; state, cfg go to it
# The frame of a lab test that runs egw's daemons in the lab of
# firmware/lab/lab.sh (dataplane-reload, dataplane-scenarios, e2e-feedback,
# kernel-scenarios). Source it with build and src set (absolute paths), then:
#
#   lt_begin NAME PREFIX [BINARY...]
#       Needs root and every BINARY built (else "FAIL: ..." and exit 1). Sets
#       lab (lab.sh), prefix, state (the lab's state directory), tmp (a new
#       directory, mode 0755: the daemons may run as another user), fails=0.
#       On exit: lt_on_exit when the test defines it, lab.sh down, tmp
#       removed (kept when KEEP is set); SIGINT and SIGTERM exit 130 and 143.
#       ASAN_OPTIONS and UBSAN_OPTIONS for the sanitizer builds, unless set.
#   lt_policy [SED_EXPR...]
#       cfg=$tmp/egw.cfg: firmware/egw.cfg with the geo database by absolute
#       path, the behaviour log in $tmp/log and each SED_EXPR applied; exits
#       with a FAIL line when the paths could not be rewritten.
#   lt_dataplane_cmd SOCKET [ARG...]
#       Prints a --gw-cmd for lab.sh: this build's egw-dataplane on $cfg with
#       lab.sh's EAL options (--file-prefix $prefix), its control socket
#       SOCKET, then each ARG; its pid goes to $tmp/dp.pid, its exit status to
#       its log ("egw-dataplane exit status N").
#   lt_controld_cmd [ARG...]
#       The same for egw-controld on $cfg (pid in $tmp/cd.pid, "egw-controld
#       exit status N").
#   lt_up MODE WHAT GW_CMD...
#       lab.sh up in MODE on $cfg with the gateway commands (their output in
#       $state/gw1.log, gw2.log, ...); exits with "FAIL: the lab did not come
#       up with WHAT" when it does not come up.
#   lt_wait_line LOG REGEX
#       Waits up to 10 s for a line matching REGEX in LOG; non-zero when none
#       came.
#   lt_wait_exit LOG NAME
#       After a signal to the daemon NAME logging to LOG: waits up to 10 s
#       for its "NAME exit status" line and fails unless it is 0; fails on a
#       sanitizer report in LOG.

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

lt_cleanup() {
	if declare -F lt_on_exit >/dev/null; then
		lt_on_exit
	fi
	bash "$lab" down --prefix "$prefix" >/dev/null 2>&1 || true
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}

lt_begin() {
	local name=${1:?lt_begin NAME PREFIX [BINARY...]} b
	prefix=${2:?lt_begin NAME PREFIX [BINARY...]}
	shift 2
	lab=$src/firmware/lab/lab.sh
	state=${EGW_LAB_RUN:-/run/egw-lab}/$prefix
	fails=0
	tmp=$(mktemp -d "/tmp/$prefix.XXXXXX") || { echo "FAIL: no temporary directory"; exit 1; }
	trap lt_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	[ "$(id -u)" = 0 ] || { echo "FAIL: $name needs root"; exit 1; }
	for b in "$@"; do
		[ -x "$b" ] || { echo "FAIL: $b not built"; exit 1; }
	done
	chmod 0755 "$tmp"
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
}

lt_policy() {
	local e args=()
	for e in "$@"; do
		args+=(-e "$e")
	done
	cfg=$tmp/egw.cfg
	sed -e "s|\"lab/geo-lab.mmdb\"|\"$src/firmware/lab/geo-lab.mmdb\"|" \
		-e "s|directory = \"/var/log/egw\";|directory = \"$tmp/log\";|" "${args[@]}" \
		"$src/firmware/egw.cfg" >"$cfg"
	if ! grep -q "directory = \"$tmp/log\"" "$cfg" ||
		! grep -q "\"$src/firmware/lab/geo-lab.mmdb\"" "$cfg"; then
		echo "FAIL: could not rewrite the policy's paths"
		exit 1
	fi
}

# lt_gw_cmd PIDFILE NAME CMD...: CMD quoted for bash -c, in the background,
# its pid in PIDFILE, then "NAME exit status N".
lt_gw_cmd() {
	local pidfile=$1 name=$2 c
	shift 2
	printf -v c '%q ' "$@"
	printf '%s& echo $! >%q; wait $!; echo "%s exit status $?"' "$c" "$pidfile" "$name"
}

lt_dataplane_cmd() {
	local sock=${1:?lt_dataplane_cmd SOCKET [ARG...]}
	shift
	lt_gw_cmd "$tmp/dp.pid" egw-dataplane "$build/dataplane/egw-dataplane" \
		-l 0,1 --no-huge -m 512 --no-pci --no-shconf "--file-prefix=$prefix" \
		-- --config "$cfg" --socket "$sock" "$@"
}

lt_controld_cmd() {
	lt_gw_cmd "$tmp/cd.pid" egw-controld "$build/control/egw-controld" --config "$cfg" "$@"
}

lt_up() {
	local mode=${1:?lt_up MODE WHAT GW_CMD...} what=${2:?} c args=()
	shift 2
	for c in "$@"; do
		args+=(--gw-cmd "$c")
	done
	if ! bash "$lab" up --prefix "$prefix" --mode "$mode" --config "$cfg" "${args[@]}"; then
		echo "FAIL: the lab did not come up with $what"
		exit 1
	fi
}

lt_wait_line() {
	local i
	for i in $(seq 100); do
		grep -q -- "$2" "$1" && return 0
		sleep 0.1
	done
	return 1
}

lt_wait_exit() {
	local log=$1 name=$2
	lt_wait_line "$log" "^$name exit status"
	grep -q "^$name exit status 0\$" "$log" ||
		fail "$name did not exit 0 on SIGTERM: $(tail -n 5 "$log")"
	if grep -q 'Sanitizer' "$log"; then
		fail "sanitizer report: $(grep -A5 Sanitizer "$log" | head -n 20)"
	fi
}
