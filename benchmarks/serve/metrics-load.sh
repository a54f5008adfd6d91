#!/usr/bin/env bash
# /metrics latency, bytes and the server's memory with N live workers (default 1000).
# Usage: benchmarks/serve/metrics-load.sh [JAR] [N] [REQUESTS]
# Each worker is a sleep(1) in its own leaf of rbee.slice/t-load-*/; everything is removed at the end.
# Run as root on a host with cgroup2 (like the tests).  Prints one summary line per figure.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
jar=${1:-$here/cli/target/rbee-mon.jar}
n=${2:-1000}
requests=${3:-200}
java=$("$here/bin/find-jdk")/bin/java
mnt=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
group=t-load-$$
dir=$mnt/rbee.slice/$group
port=$((20000 + RANDOM % 20000))
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  if [ -d "$dir" ]; then
    for leaf in "$dir"/*/; do [ -f "$leaf/cgroup.kill" ] && echo 1 > "$leaf/cgroup.kill"; done
    sleep 0.5
    for leaf in "$dir"/*/; do rmdir "$leaf" 2>/dev/null || true; done
    rmdir "$dir" 2>/dev/null || true
  fi
}
trap cleanup EXIT
mkdir -p "$dir"
for i in $(seq 1 "$n"); do
  mkdir "$dir/$i"
  sh -c "echo \$\$ > '$dir/$i/cgroup.procs' && exec sleep 3600" &
  disown
done
"$java" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
  -jar "$jar" serve --port "$port" --interval 1s --hive-id load 2>/tmp/metrics-load-$$.err &
server=$!
url=http://127.0.0.1:$port/metrics
for _ in $(seq 1 100); do
  c=$(curl -s "$url" 2>/dev/null | grep -c "group=\"$group\"" || true)
  [ "$c" -ge "$n" ] && break
  sleep 0.5
done
rss0=$(awk '/VmRSS/ { print $2 }' /proc/$server/status)
# Warm-up, then the measured requests over one keep-alive connection.
urls() { for _ in $(seq 1 "$1"); do printf -- '-o /dev/null %s ' "$url"; done; }
curl -s $(urls 50)
curl -s -w '%{time_total} %{size_download}\n' $(urls "$requests") > /tmp/metrics-load-$$.times
sort -n /tmp/metrics-load-$$.times | awk -v n="$requests" '
  { t[NR] = $1 * 1000; b = $2 }
  END { printf "requests %d  median %.2f ms  p90 %.2f ms  max %.2f ms  bytes %d\n", n, t[int(n/2)], t[int(n*0.9)], t[n], b }'
rss1=$(awk '/VmRSS/ { print $2 }' /proc/$server/status)
echo "server RSS: ${rss0} kB after the first sample, ${rss1} kB after the requests"
page=$(curl -s "$url"); workers=$(echo "$page" | grep -c "^rbee_worker_cpu_usage_seconds_total{group=\"$group\"" || true); echo "$page" | grep "^rbee_scrape_duration_seconds" || true
echo "workers in /metrics: $workers"
rm -f /tmp/metrics-load-$$.times
