# shellcheck shell=bash
# The small policy of the controld lab: the topology of controld-common.sh
# (the registered terminal 10.1.0.10 of unit "finance", the resolver
# 198.51.100.53), which bench/punt_rate.sh builds again for its gateway.
# Source this file, then
#   lab_policy FILE FAIL_MODE LOG_DIR
# writes it to FILE with gateway.fail_mode FAIL_MODE and the behaviour log in
# LOG_DIR (uncompressed); the geo database is the lab's, by absolute path.

LAB_POLICY_GEO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../firmware/lab" && pwd)/geo-lab.mmdb

lab_policy() {
	local file=${1:?lab_policy FILE FAIL_MODE LOG_DIR} mode=${2:?} log=${3:?}
	cat > "$file" <<POL
version = 1;
gateway: { inside = "net_af_packet0,iface=egw-in"; outside = "net_af_packet1,iface=egw-out";
  punt = "net_tap0,iface=egw-punt"; fail_mode = "$mode"; };
geo: { database = "$LAB_POLICY_GEO"; };
units = (
  { name = "finance"; prefixes = [ "10.1.0.0/16" ]; profile = "standard";
    terminals = ( { ip = "10.1.0.10"; mac = "02:00:0a:01:00:0a"; switch_port = "sw1/0/3";
                    location = "Building A 3F"; user = "zhang.wei"; } ); }
);
terminals: { binding = "prefix"; unregistered = "drop"; };
dns: { resolvers = [ "198.51.100.53" ]; violation = "drop";
  suspicious: { max_qname = 60; max_label = 40; min_entropy_bits = 4.3;
                max_queries_per_second = 50; }; };
categories = (
  { name = "commercial-mail"; domains = [ "mail.qq.com", "gmail.com" ]; },
  { name = "doh"; domains = [ "dns.google" ]; addresses = [ "203.0.113.111" ]; }
);
profiles = (
  { name = "standard";
    rules = (
      { action = "deny";  category = "commercial-mail"; },
      { action = "deny";  proto = "tcp"; port = 8081; },
      { action = "allow"; }
    ); }
);
log: { directory = "$log"; retention_days = 60; compress = "none"; };
POL
}
