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
    libsystemd-dev libcap-dev libssl-dev
    # run
    nftables iptables iproute2 mmdb-bin zstd
    # lab and tests
    libmaxmind-db-writer-perl dnsmasq-base unbound dnsutils curl openssl
    python3 python3-scapy tcpdump iputils-ping ethtool socat procps
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
