#!/usr/bin/env bash
# Idle memory of the daemon (README "What it costs"): `anova2mqtt run` against
# `anova2mqtt simulate` (two cookers and an oven, all idle) and mosquitto, with the HTTP API,
# the cook history and the MCP server on (HISTORY=false / MCP=false turn them off). After
# SECONDS (default 12) of idle it prints /proc/<pid>/status's VmRSS, RssAnon (the daemon's own
# memory), RssFile (code and libraries mapped from files) and Threads, three runs, then the
# resident size of each mapping of the last run (smaps).
#
#   cargo build --release --no-default-features
#   scripts/idle-rss.sh target/release/anova2mqtt
set -euo pipefail
bin="$(realpath "${1:-target/release/anova2mqtt}")"
seconds="${SECONDS_IDLE:-12}"
dir="$(mktemp -d /tmp/anova2mqtt-idle-rss.XXXXXX)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mqtt_port="$(free_port)"; cloud_port="$(free_port)"; http_port="$(free_port)"
mosquitto -p "$mqtt_port" >"$dir/mosquitto.log" 2>&1 & broker=$!
"$bin" simulate --listen "127.0.0.1:$cloud_port" >"$dir/simulate.log" 2>&1 & cloud=$!
trap 'kill "$cloud" "$broker" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
sleep 1
cat >"$dir/config.toml" <<EOF
[anova]
url = "ws://127.0.0.1:$cloud_port"
token = "anova-idle-rss"
[mqtt]
url = "mqtt://127.0.0.1:$mqtt_port"
client_id = "anova2mqtt-idle-rss"
[http]
listen = "127.0.0.1:$http_port"
[history]
enabled = ${HISTORY:-true}
path = "$dir/history.sqlite3"
[mcp]
enabled = ${MCP:-true}
EOF
for run in 1 2 3; do
  rm -f "$dir"/history.sqlite3*
  "$bin" run --config "$dir/config.toml" >"$dir/daemon.log" 2>&1 & daemon=$!
  sleep "$seconds"
  echo "run $run: $(grep -E '^(VmRSS|RssAnon|RssFile|Threads)' "/proc/$daemon/status" | tr -s ' \t' ' ' | tr '\n' ' ')"
  [ "$run" = 3 ] && cp "/proc/$daemon/smaps" "$dir/smaps"
  kill "$daemon"; wait "$daemon" 2>/dev/null || true
done
echo "resident KiB by mapping (run 3):"
awk '/^[0-9a-f]+-[0-9a-f]+ /{name=($6=="" ? "[anonymous]" : $6) " " $2} /^Rss:/{rss[name]+=$2}
     END{for (n in rss) if (rss[n] > 0) print rss[n], n}' "$dir/smaps" | sort -rn | head -12
