#!/usr/bin/env bash
# Proxy throughput and latency (docs/performance.md, "Proxy").
#
# In one run, against the same nginx upstream (one worker, a fixed ~1 KB
# chat.completion for POST /v1/chat/completions), with wrk -t1 at 1 and at 64
# connections:
#   direct       nginx itself
#   bare_proxy   the measuring stick from $SHARED_BENCH/bare_proxy.cpp with
#                NSIGN=2 (forward + two Ed25519 signatures, nothing else)
#   event        (only when named in TARGETS) scripts/bench/event_proxy.cpp:
#                bare_proxy's work on one epoll loop per core instead of a
#                blocking thread per connection (docs/performance.md)
#   helm         helm proxy, embedded boundary, durable receipts (--sync always)
#   helm-nosync  the same with --sync none
#   helm-translated  helm durable, Anthropic Messages clients (POST /v1/messages)
#                translated to the OpenAI-compatible upstream and back
# and prints a table plus the ratios the targets are stated in. The table
# also gives each proxy's own CPU time per request (user part in brackets)
# and its thread switches per request (all threads, voluntary and not).
#
#   scripts/bench-proxy.sh [--seconds S] [--warmup S] [--rounds N] [--raw-backlog] [--keep]
#
# --rounds N runs every target N times, round by round (direct, bare, helm,
# ..., then again), so that each helm figure has a bare_proxy figure taken
# minutes apart at most. The table then gives each cell's median, and each
# ratio is the median of the N per-round ratios, with their range: on a
# shared VM one round's ratio says little.
#
# bare_proxy and helm run with scripts/bench/listen_backlog.c preloaded, which
# raises cpp-httplib's listen backlog of 5 to 1024: without it, wrk's burst of
# 64 connects overflows the accept queue and a few first requests wait 1-3 s
# for a SYN retransmission, which then dominates p99. --raw-backlog measures
# without the shim (the "listen overflows" column shows when that happened).
#
# Environment: SHARED_BENCH (default: ../shared/bench next to the repo),
# HELM_BIN (default: build/helm), POLICY (default: policies/development.toml),
# TARGETS (default: "direct bare helm helm-nosync").
# Needs nginx, wrk, g++, pkg-config, cpp-httplib, libsodium, curl, python3.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${SHARED_BENCH:-$(cd "$root/.." && pwd)/shared/bench}"
helm_bin="${HELM_BIN:-$root/build/helm}"
policy="${POLICY:-$root/policies/development.toml}"
targets="${TARGETS:-direct bare helm helm-nosync helm-translated}"
seconds=8
warmup=2
rounds=1
keep=0
shim=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    --raw-backlog) shim=0; shift ;;
    -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
    *) echo "bench-proxy: unknown argument $1" >&2; exit 2 ;;
  esac
done

for tool in nginx wrk g++ pkg-config curl python3; do
  command -v "$tool" >/dev/null || { echo "bench-proxy: $tool not found (scripts/setup.sh installs it)" >&2; exit 1; }
done
[[ -x "$helm_bin" ]] || { echo "bench-proxy: $helm_bin not built" >&2; exit 1; }
[[ -f "$shared/bare_proxy.cpp" && -f "$shared/post.lua" ]] || { echo "bench-proxy: no bare_proxy.cpp/post.lua in $shared" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/helm-bench-proxy.XXXXXX")"
pids=()
stop_pid() {
  local pid="$1"
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
cleanup() {
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  if [[ $keep -eq 0 ]]; then rm -rf "$work"; else echo "# kept $work" >&2; fi
}
trap cleanup EXIT
# A private copy: a rebuild in the checkout must not swap the binary mid-run.
cp "$helm_bin" "$work/helm"
helm_bin="$work/helm"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {  # wait_port PORT PID
  for _ in $(seq 100); do
    if (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    kill -0 "$2" 2>/dev/null || { echo "bench-proxy: process $2 exited before listening on $1" >&2; return 1; }
    sleep 0.1
  done
  echo "bench-proxy: nothing listening on $1" >&2; return 1
}

body='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Explain consistent hashing in two sentences."}]}'
# check_ok URL [HEADER]: one POST must come back 200 with a chat.completion,
# or the benchmark would be measuring error responses.
check_ok() {
  local url="$1" hdr="${2:-X-Bench: 1}" code
  code="$(curl -s -o "$work/check.out" -D "$work/check.hdr" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' -H "$hdr" --data "$body" "$url")"
  if [[ "$code" != 200 ]] || ! grep -q '"chat.completion"' "$work/check.out"; then
    echo "bench-proxy: $url answered $code, not 200 with a completion:" >&2
    cat "$work/check.out" >&2; echo >&2; return 1
  fi
}

# --- upstream: nginx -------------------------------------------------------
nginx_port="$(free_port)"
cp "$root/scripts/bench/completion.json" "$work/completion.json"
user_line=""
[[ "$(id -u)" == 0 ]] && user_line="user $(id -un) $(id -gn);"
sed -e "s#@DIR@#$work#g" -e "s#@PORT@#$nginx_port#g" -e "s#@USER@#$user_line#g" \
  "$root/scripts/bench/nginx.conf.in" >"$work/nginx.conf"
nginx -p "$work" -c "$work/nginx.conf" -e "$work/nginx-error.log" >"$work/nginx.out" 2>&1 &
pids+=($!)
wait_port "$nginx_port" "${pids[-1]}"
upstream="http://127.0.0.1:$nginx_port"
check_ok "$upstream/v1/chat/completions"

# --- measuring stick: bare_proxy -------------------------------------------
# shellcheck disable=SC2046
g++ -O2 -std=c++20 "$shared/bare_proxy.cpp" -o "$work/bare_proxy" \
  $(pkg-config --cflags --libs cpp-httplib libsodium) -lpthread

if [[ " $targets " == *" event "* ]]; then
  # shellcheck disable=SC2046
  g++ -O2 -std=c++20 "$root/scripts/bench/event_proxy.cpp" -o "$work/event_proxy" \
    $(pkg-config --cflags --libs libsodium) -lpthread
fi

preload=()
if [[ $shim -eq 1 ]]; then
  gcc -O2 -shared -fPIC "$root/scripts/bench/listen_backlog.c" -o "$work/listen_backlog.so" -ldl
  preload=(env "LD_PRELOAD=$work/listen_backlog.so")
fi

declare -A rps p50 p99 errs non2xx drops cpu usr csw idle

# CPU time of the proxy under test per request, from /proc/PID/stat (utime,
# stime): a steadier figure than req/s on a shared machine. measured_pid is
# the process run_wrk charges ("" for nginx direct: "-").
measured_pid=""
clk_tck="$(getconf CLK_TCK)"
proc_ticks() {  # proc_ticks PID -> "utime stime"
  awk '{ print $14, $15 }' "/proc/$1/stat"
}
# Thread switches of the proxy under test, all its threads: a thread that
# blocks (voluntary) or is preempted (involuntary) pays for being switched
# back in, and that is where helm and bare_proxy differ most
# (docs/performance.md).
proc_switches() {  # proc_switches PID -> "voluntary involuntary"
  cat /proc/"$1"/task/*/status 2>/dev/null |
    awk '/^voluntary_ctxt_switches/ { v += $2 } /^nonvoluntary_ctxt_switches/ { n += $2 } END { print v + 0, n + 0 }'
}

# The machine's CPU time so far, "idle total" in ticks (/proc/stat; iowait
# counts as idle). Idle CPU during a run at 64 connections means the proxy
# left cores unused while its requests waited (docs/performance.md, "Nonces
# made in idle time").
cpu_idle_total() {
  awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print $5 + $6, t; exit }' /proc/stat
}

# Listen-queue overflows on this host (nstat, iproute2), or "-" without nstat.
# cpp-httplib 0.11.4 listens with a backlog of 5: when wrk opens its 64
# connections at once, some handshakes overflow the accept queue and their
# first request waits for a SYN/ACK retransmission (~1 s), which lands in p99.
listen_overflows() {
  if command -v nstat >/dev/null; then
    nstat -az TcpExtListenOverflows 2>/dev/null | awk '$1 == "TcpExtListenOverflows" { print $2; f = 1 } END { if (!f) print "-" }'
  else
    echo -
  fi
}

# run_wrk NAME CONNS URL [HEADERS] [LUA]
run_wrk() {
  local name="$1" conns="$2" url="$3" headers="${4:-}" lua="${5:-$shared/post.lua}" out line
  local k="$name/$conns/$round"
  if [[ "$warmup" != 0 ]]; then
    WRK_HEADERS="$headers" wrk -t1 -c"$conns" -d"${warmup}s" -s "$lua" "$url" >/dev/null 2>&1 || true
  fi
  out="$work/wrk-$name-$conns-$round.txt"
  local before after ticks0="" ticks1="" sw0="" sw1="" idle0 idle1
  before="$(listen_overflows)"
  [[ -n "$measured_pid" ]] && ticks0="$(proc_ticks "$measured_pid")" && sw0="$(proc_switches "$measured_pid")"
  idle0="$(cpu_idle_total)"
  WRK_HEADERS="$headers" wrk -t1 -c"$conns" -d"${seconds}s" --timeout 10s --latency \
    -s "$lua" "$url" >"$out" 2>&1
  idle1="$(cpu_idle_total)"
  [[ -n "$measured_pid" ]] && ticks1="$(proc_ticks "$measured_pid")" && sw1="$(proc_switches "$measured_pid")"
  after="$(listen_overflows)"
  idle[$k]="$(awk -v a="$idle0" -v b="$idle1" 'BEGIN {
    split(a, x, " "); split(b, y, " "); t = y[2] - x[2]; if (t < 1) t = 1
    printf "%.0f\n", 100 * (y[1] - x[1]) / t }')"
  line="$(grep '^RESULT' "$out" || true)"
  [[ -n "$line" ]] || { echo "bench-proxy: no RESULT from wrk for $name/$conns:" >&2; cat "$out" >&2; return 1; }
  rps[$k]="$(sed -E 's/.*rps=([0-9]+).*/\1/' <<<"$line")"
  p50[$k]="$(sed -E 's/.*p50_us=([0-9]+).*/\1/' <<<"$line")"
  p99[$k]="$(sed -E 's/.*p99_us=([0-9]+).*/\1/' <<<"$line")"
  errs[$k]="$(sed -E 's/.* errors=([0-9]+).*/\1/' <<<"$line")"
  non2xx[$k]="$(sed -E 's/.*non2xx_seen_by_thread0=([0-9]+).*/\1/' <<<"$line")"
  if [[ "$before" == - || "$after" == - ]]; then drops[$k]=-; else drops[$k]=$((after - before)); fi
  cpu[$k]=-; usr[$k]=-; csw[$k]=-
  if [[ -n "$sw0" && -n "$sw1" ]]; then
    csw[$k]="$(awk -v a="$sw0" -v b="$sw1" -v r="${rps[$k]}" -v s="$seconds" 'BEGIN {
      split(a, x, " "); split(b, y, " "); n = r * s; if (n < 1) n = 1
      printf "%.2f\n", ((y[1] + y[2]) - (x[1] + x[2])) / n }')"
  fi
  if [[ -n "$ticks0" && -n "$ticks1" ]]; then
    read -r cpu[$k] usr[$k] < <(awk -v a="$ticks0" -v b="$ticks1" \
      -v r="${rps[$k]}" -v s="$seconds" -v hz="$clk_tck" 'BEGIN {
        split(a, x, " "); split(b, y, " "); n = r * s; if (n < 1) n = 1
        printf "%d %d\n", ((y[1] + y[2]) - (x[1] + x[2])) * 1e6 / hz / n, (y[1] - x[1]) * 1e6 / hz / n }')
  fi
  echo "# round $round $name c=$conns: $line listen_overflows=${drops[$k]} switches_per_req=${csw[$k]} idle_pct=${idle[$k]}" >&2
}

run_pair() {  # run_pair NAME URL [HEADERS] [LUA]
  run_wrk "$1" 1 "$2" "${3:-}" "${4:-$shared/post.lua}"
  run_wrk "$1" 64 "$2" "${3:-}" "${4:-$shared/post.lua}"
}

run_helm() {  # run_helm NAME SYNC [PATH LUA]
  local name="$1" sync="$2" path="${3:-/v1/chat/completions}" lua="${4:-$shared/post.lua}"
  local port admin dir pid key
  port="$(free_port)"; admin="$(free_port)"; dir="$work/$name-data-$round"
  "${preload[@]}" "$helm_bin" proxy --upstream "$upstream" --policy "$policy" --data-dir "$dir" \
    --port "$port" --admin-port "$admin" --sync "$sync" >"$work/$name-$round.log" 2>&1 &
  pid=$!; pids+=("$pid"); measured_pid="$pid"
  wait_port "$port" "$pid"
  key="$(cat "$dir/keys/bootstrap.key")"
  check_ok "http://127.0.0.1:$port/v1/chat/completions" "Authorization: Bearer $key"
  grep -qi '^X-Helm-Status: ALLOW' "$work/check.hdr" || { echo "bench-proxy: $name did not ALLOW" >&2; return 1; }
  run_pair "$name" "http://127.0.0.1:$port$path" "Authorization: Bearer $key" "$lua"
  stop_pid "$pid"
  # Each run starts from the same machine: earlier runs' ledgers left in the
  # page cache would slow the next one's writes (docs/performance.md).
  [[ $keep -eq 1 ]] || rm -rf "$dir"
}

echo "# $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%dT%H:%M:%SZ), wrk -t1 ${seconds}s (+${warmup}s warm-up), $rounds round(s), backlog shim $([[ $shim -eq 1 ]] && echo on || echo off), helm $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')" >&2
for round in $(seq "$rounds"); do
  for t in $targets; do
    case "$t" in
      direct) measured_pid=""; run_pair direct "$upstream/v1/chat/completions" ;;
      bare|event)
        port="$(free_port)"
        "${preload[@]}" "$work/${t}_proxy" 2 "$port" "$nginx_port" >"$work/$t-$round.log" 2>&1 &
        pid=$!; pids+=("$pid"); measured_pid="$pid"
        wait_port "$port" "$pid"
        check_ok "http://127.0.0.1:$port/v1/chat/completions"
        run_pair "$t" "http://127.0.0.1:$port/v1/chat/completions"
        stop_pid "$pid" ;;
      helm) run_helm helm always ;;
      helm-nosync) run_helm helm-nosync none ;;
      helm-translated) run_helm helm-translated always /v1/messages "$root/scripts/bench/post_anthropic.lua" ;;
      *) echo "bench-proxy: unknown target $t" >&2; exit 2 ;;
    esac
  done
done

# --- summary over the rounds -----------------------------------------------
median() {  # median VALUE... ("-" for none; the lower middle's mean for an even count)
  if [[ $# -eq 0 ]]; then echo -; return; fi
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# per_round EXPR VAR=ARRAY[target/conns]...: EXPR, evaluated by awk once per
# round with each VAR bound to that round's figure; one value per line. A
# round missing a figure is skipped.
per_round() {
  local expr="$1"; shift
  local r b var array key val ok
  local -a args
  for r in $(seq "$rounds"); do
    args=(); ok=1
    for b in "$@"; do
      var="${b%%=*}"; array="${b#*=}"; key="${array#*[}"; key="${key%]}"; array="${array%%[*}"
      local -n arr="$array"
      val="${arr[$key/$r]:--}"
      unset -n arr
      [[ "$val" == - ]] && ok=0
      args+=(-v "$var=$val")
    done
    if [[ $ok -eq 1 ]]; then awk "${args[@]}" "BEGIN { print $expr }"; fi
  done
}
# stats FORMAT EXPR VAR=ARRAY[target/conns]...: the median of per_round, and
# over several rounds its range.
stats() {
  local fmt="$1"; shift
  local -a v; mapfile -t v < <(per_round "$@")
  [[ ${#v[@]} -gt 0 ]] || { echo -; return; }
  local m lo hi
  m="$(median "${v[@]}")"; lo="$(printf '%s\n' "${v[@]}" | sort -g | head -1)"; hi="$(printf '%s\n' "${v[@]}" | sort -g | tail -1)"
  if [[ ${#v[@]} -eq 1 ]]; then printf "$fmt\n" "$m"; else printf "$fmt ($fmt–$fmt over %d rounds)\n" "$m" "$lo" "$hi" "${#v[@]}"; fi
}
for t in $targets; do
  for c in 1 64; do
    for a in rps p50 p99 cpu usr csw idle; do
      declare -n arr="$a"
      vals=()
      for r in $(seq "$rounds"); do [[ "${arr[$t/$c/$r]:--}" != - ]] && vals+=("${arr[$t/$c/$r]}"); done
      arr[$t/$c]="$(median "${vals[@]}")"
      unset -n arr
    done
    for a in errs non2xx drops; do
      declare -n arr="$a"
      total=0
      for r in $(seq "$rounds"); do
        if [[ "${arr[$t/$c/$r]:--}" == - ]]; then total=-; break; fi
        total=$(( total + arr[$t/$c/$r] ))
      done
      arr[$t/$c]="$total"
      unset -n arr
    done
  done
done

label() {
  case "$1" in
    direct) echo "nginx direct" ;;
    bare) echo "bare_proxy, NSIGN=2" ;;
    event) echo "event_proxy (epoll, 2 threads), NSIGN=2" ;;
    helm) echo "helm, durable receipts (sync always)" ;;
    helm-nosync) echo "helm, --sync none" ;;
    helm-translated) echo "helm durable, Anthropic client → OpenAI upstream" ;;
  esac
}
ms() { awk -v u="$1" 'BEGIN { if (u >= 10000) printf "%.1f ms", u/1000; else printf "%d µs", u }'; }

echo
[[ $rounds -gt 1 ]] && echo "Medians over $rounds rounds; errors, non-2xx and overflows summed."
echo "| target | conns | req/s | p50 | p99 | CPU/req (user) | switches/req | machine idle | errors | non-2xx | listen overflows |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for t in $targets; do
  for c in 1 64; do
    k="$t/$c"
    cpu_cell="-"
    [[ "${cpu[$k]}" != - ]] && cpu_cell="$(printf '%.0f' "${cpu[$k]}") µs ($(printf '%.0f' "${usr[$k]}"))"
    echo "| $(label "$t") | $c | $(printf '%.0f' "${rps[$k]}") | $(ms "${p50[$k]}") | $(ms "${p99[$k]}") | $cpu_cell | ${csw[$k]} | ${idle[$k]}% | ${errs[$k]} | ${non2xx[$k]} | ${drops[$k]} |"
  done
done
echo

# Each ratio is taken within a round, then summarised; verdicts go by the median.
verdict() { if [[ "$1" == 1 ]]; then echo "met"; else echo "MISSED"; fi; }
has() { [[ " $targets " == *" $1 "* ]]; }
if has helm && has bare; then
  r="$(median $(per_round 'a / b' a='rps[helm/64]' b='rps[bare/64]'))"
  echo "- helm durable / bare_proxy req/s at 64 connections: $(stats '%.3f' 'a / b' a='rps[helm/64]' b='rps[bare/64]') (target >= 0.75: $(verdict "$(awk -v r="$r" 'BEGIN { print (r >= 0.75) ? 1 : 0 }')"))"
  echo "- for reference, CPU per request at 64 connections, helm durable / bare_proxy: $(stats '%.2f' 'a / b' a='cpu[helm/64]' b='cpu[bare/64]')"
fi
if has helm; then
  p="$(median $(per_round 'a' a='p99[helm/64]'))"
  echo "- helm durable p99 at 64 connections: $(stats '%.1f ms' 'a / 1000' a='p99[helm/64]') (target < 10 ms: $(verdict "$(awk -v p="$p" 'BEGIN { print (p < 10000) ? 1 : 0 }')"))"
fi
if has helm-nosync && has direct; then
  d="$(median $(per_round 'a - b' a='p50[helm-nosync/1]' b='p50[direct/1]'))"
  echo "- helm --sync none p50 minus direct p50 at 1 connection: $(stats '%.0f µs' 'a - b' a='p50[helm-nosync/1]' b='p50[direct/1]') (target < 200 µs: $(verdict "$(awk -v d="$d" 'BEGIN { print (d < 200) ? 1 : 0 }')"))"
fi
if has helm && has direct; then
  echo "- for reference, helm durable p50 minus direct p50 at 1 connection: $(stats '%.0f µs' 'a - b' a='p50[helm/1]' b='p50[direct/1]')"
fi
if has helm-translated && has helm; then
  r="$(median $(per_round 'a / b' a='rps[helm-translated/64]' b='rps[helm/64]'))"
  echo "- translated (Anthropic → OpenAI) / verbatim req/s at 64 connections: $(stats '%.3f' 'a / b' a='rps[helm-translated/64]' b='rps[helm/64]') (target >= 0.70: $(verdict "$(awk -v r="$r" 'BEGIN { print (r >= 0.70) ? 1 : 0 }')"))"
fi
if has event && has bare; then
  echo "- for reference, event_proxy / bare_proxy req/s at 64 connections: $(stats '%.3f' 'a / b' a='rps[event/64]' b='rps[bare/64]'), CPU per request $(stats '%.2f' 'a / b' a='cpu[event/64]' b='cpu[bare/64]')"
fi
if has bare && has direct; then
  echo "- for reference, bare_proxy p50 minus direct p50 at 1 connection: $(stats '%.0f µs' 'a - b' a='p50[bare/1]' b='p50[direct/1]')"
fi
bad=0
for t in $targets; do
  for c in 1 64; do
    k="$t/$c"
    if [[ "${non2xx[$k]}" != 0 || "${errs[$k]}" != 0 ]]; then echo "- WARNING: $k had ${errs[$k]} errors, ${non2xx[$k]} non-2xx" >&2; bad=1; fi
  done
done
exit "$bad"
