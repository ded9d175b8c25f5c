#!/usr/bin/env bash
# criu-check.sh - logpack against the real CRIU: builds a CRIU tree twice
# (plainly and with only CC changed to logpack cc), runs criu check, a dump
# and a restore of a small process tree at -v4 both ways, an error case
# without -o, and compares: the decoded binary log (with the run's text
# log beside it) against plain CRIU's text log, and what reaches stderr.
#
#   make criu-check CRIU_SRC=/path/to/criu     (as root: CRIU needs it)
#
# Environment: CRIU_SRC (required), LOGPACK (default bin/logpack),
# CRIU_CHECK_DIR (work directory, default /tmp/logpack-criu-check; the two
# builds are kept there between runs), JOBS (make -j, default nproc),
# TOLERANCE (fraction of lines two runs may differ in, default 0.03),
# BENCH_ROUNDS (rounds of the dump/restore CPU comparison, default 10; 0
# skips it), BUILD_ROUNDS (rounds of from-clean builds both ways,
# interleaved, to compare build time; default 0).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
: "${CRIU_SRC:?set CRIU_SRC to a CRIU source tree (git clone https://github.com/checkpoint-restore/criu)}"
LOGPACK=${LOGPACK:-$here/bin/logpack}
WORK=${CRIU_CHECK_DIR:-/tmp/logpack-criu-check}
JOBS=${JOBS:-$(nproc)}
TOLERANCE=${TOLERANCE:-0.03}
LOGCMP=${LOGCMP:-$here/bin/logcmp}
CRIUBENCH=${CRIUBENCH:-$here/bin/criubench}
BENCH_ROUNDS=${BENCH_ROUNDS:-10}
BUILD_ROUNDS=${BUILD_ROUNDS:-0}

[ "$(id -u)" = 0 ] || { echo "criu-check: CRIU dumps and restores need root" >&2; exit 2; }
[ -x "$LOGPACK" ] || { echo "criu-check: $LOGPACK not built (make build)" >&2; exit 2; }
# A CRIU source tree, or a git repository of one (bare or not).
if [ "$(git -C "$CRIU_SRC" rev-parse --is-bare-repository 2>/dev/null)" = true ]; then
	git -C "$CRIU_SRC" cat-file -e HEAD:criu/crtools.c 2>/dev/null ||
		{ echo "criu-check: $CRIU_SRC is not a CRIU repository" >&2; exit 2; }
elif [ ! -d "$CRIU_SRC/criu" ]; then
	echo "criu-check: $CRIU_SRC does not look like a CRIU tree" >&2
	exit 2
fi

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok:   $*"; }

# ---- build both ways ----
mkdir -p "$WORK"
for v in plain logpack; do
	if [ ! -d "$WORK/$v/criu" ]; then
		if [ -d "$CRIU_SRC/.git" ] || [ "$(git -C "$CRIU_SRC" rev-parse --is-bare-repository 2>/dev/null)" = true ]; then
			git clone -q --shared "$CRIU_SRC" "$WORK/$v"
			git -C "$WORK/$v" checkout -q "$(git -C "$CRIU_SRC" rev-parse HEAD)"
		else
			cp -a "$CRIU_SRC" "$WORK/$v"
		fi
	fi
done
# Objects and links made by another logpack (its rewriter, its runtime)
# are stale: the logpack tree is rebuilt from clean when logpack changed.
lpid=$(sha256sum "$LOGPACK" | cut -c1-16)
how="incremental"
if [ "$(cat "$WORK/logpack/.logpack-id" 2>/dev/null)" != "$lpid" ]; then
	make -s -C "$WORK/logpack" clean >/dev/null 2>&1 || true
	how="logpack tree from clean: logpack changed"
fi
start=$(date +%s.%N)
make -s -C "$WORK/plain" -j"$JOBS" >"$WORK/build-plain.log" 2>&1 || { tail -20 "$WORK/build-plain.log"; fail "plain build"; exit 1; }
mid=$(date +%s.%N)
make -s -C "$WORK/logpack" -j"$JOBS" CC="$LOGPACK cc --preset criu -- gcc" >"$WORK/build-logpack.log" 2>&1 ||
	{ tail -20 "$WORK/build-logpack.log"; fail "the whole tree builds through logpack cc"; exit 1; }
end=$(date +%s.%N)
echo "$lpid" >"$WORK/logpack/.logpack-id"
pass "both builds (plain $(printf %.1f "$(echo "$mid - $start" | bc)") s, logpack $(printf %.1f "$(echo "$end - $mid" | bc)") s; $how)"

# ---- build time: from clean, both ways in turn; wall and CPU (user+sys
# of make and everything it ran), medians ----
if [ "$BUILD_ROUNDS" -gt 0 ]; then
	build_times() { # tree, make arguments...: prints "wall cpu" seconds
		local tree=$1 t
		shift
		make -s -C "$WORK/$tree" clean >/dev/null 2>&1 || true
		t=$({ TIMEFORMAT='%R %U %S'; time make -s -C "$WORK/$tree" -j"$JOBS" "$@" >"$WORK/build-$tree.log" 2>&1; } 2>&1) ||
			{ tail -20 "$WORK/build-$tree.log"; return 1; }
		echo "$t" | awk '{printf "%.2f %.2f\n", $1, $2 + $3}'
	}
	# The median over the rounds of an awk expression of a round's
	# fields (plain wall, plain CPU, logpack wall, logpack CPU).
	median() { awk "{print $1}" "$WORK/build-times" | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
	: >"$WORK/build-times"
	for r in $(seq "$BUILD_ROUNDS"); do
		p=$(build_times plain) || { fail "plain build"; exit 1; }
		l=$(build_times logpack CC="$LOGPACK cc --preset criu -- gcc") || { fail "logpack build"; exit 1; }
		echo "$p $l" >>"$WORK/build-times"
		echo "      build round $r: plain ${p% *} s wall, ${p#* } s CPU; logpack ${l% *} s wall, ${l#* } s CPU"
	done
	pass "$(printf 'build from clean, median of %d rounds: plain %.1f s wall, %.1f s CPU; logpack cc %.1f s, %.1f s; ratio per round %.2fx wall, %.2fx CPU' \
		"$BUILD_ROUNDS" "$(median '$1')" "$(median '$2')" "$(median '$3')" "$(median '$4')" "$(median '$3 / $1')" "$(median '$4 / $2')")"
fi

PLAIN=$WORK/plain/criu/criu
LP=$WORK/logpack/criu/criu
nsites=$(objdump -h "$LP" | awk '$2 == "logpack_sites" {print $3}')
[ -n "$nsites" ] && pass "criu carries a site table (0x$nsites bytes)" || fail "criu has no logpack_sites section"

run_dir=$WORK/run
rm -rf "$run_dir"
mkdir -p "$run_dir"

# ---- criu check ----
"$PLAIN" check >"$run_dir/check-plain.out" 2>&1 || true
LOGPACK_FILE=$run_dir/check.lpk "$LP" check >"$run_dir/check-logpack.out" 2>&1 || true
if diff -q <(sed 's/[0-9]\+/#/g' "$run_dir/check-plain.out") <(sed 's/[0-9]\+/#/g' "$run_dir/check-logpack.out") >/dev/null; then
	pass "criu check prints the same with binary logging on ($(wc -l <"$run_dir/check-plain.out") lines)"
else
	fail "criu check output differs:"
	diff <(sed 's/[0-9]\+/#/g' "$run_dir/check-plain.out") <(sed 's/[0-9]\+/#/g' "$run_dir/check-logpack.out") | head -10
fi

# ---- errors on stderr: a dump of a pid that does not exist, no -o ----
"$PLAIN" dump -t 999999999 -D "$run_dir" >/dev/null 2>"$run_dir/err-plain.txt" || true
LOGPACK_FILE=$run_dir/err.lpk "$LP" dump -t 999999999 -D "$run_dir" >/dev/null 2>"$run_dir/err-logpack.txt" || true
if diff -q <(grep -E '^(Error|Warn)' "$run_dir/err-plain.txt" | sed 's/[0-9]\+/#/g') \
	<(grep -E '^(Error|Warn)' "$run_dir/err-logpack.txt" | sed 's/[0-9]\+/#/g') >/dev/null &&
	grep -q '^Error' "$run_dir/err-logpack.txt"; then
	pass "a failing dump's errors reach stderr with binary logging on ($(grep -c '^Error' "$run_dir/err-logpack.txt") error lines)"
else
	fail "error lines on stderr differ:"
	diff <(grep -E '^(Error|Warn)' "$run_dir/err-plain.txt") <(grep -E '^(Error|Warn)' "$run_dir/err-logpack.txt") | head -10
fi

# ---- RPC: the error message runc, podman and LXD show (cr_errmsg) ----
cat >"$run_dir/rpc.py" <<'PY'
import os, socket, subprocess, sys
tree, work = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(tree, "lib"))
import pycriu.rpc_pb2 as rpc
def call(req_type, images, pid=None):
    s1, s2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    p = subprocess.Popen([os.path.join(tree, "criu/criu"), "swrk", str(s2.fileno())], pass_fds=[s2.fileno()])
    s2.close()
    req = rpc.criu_req()
    req.type = req_type
    os.makedirs(images, exist_ok=True)
    fd = os.open(images, os.O_DIRECTORY)
    req.opts.images_dir_fd = fd
    req.opts.log_level = 4
    req.opts.log_file = "rpc.log"
    if pid:
        req.opts.pid = pid
    s1.send(req.SerializeToString())
    resp = rpc.criu_resp()
    resp.ParseFromString(s1.recv(1 << 20))
    p.wait()
    os.close(fd)
    return "success=%s cr_errmsg=%r" % (resp.success, resp.cr_errmsg)
print("dump of a missing pid:", call(rpc.DUMP, os.path.join(work, "dump"), pid=999999999))
print("restore of no images:", call(rpc.RESTORE, os.path.join(work, "restore")))
PY
if python3 -c 'import google.protobuf' 2>/dev/null; then
	python3 "$run_dir/rpc.py" "$WORK/plain" "$run_dir/rpc-plain" >"$run_dir/rpc-plain.txt" 2>&1 || true
	LOGPACK_FILE=$run_dir/rpc.lpk python3 "$run_dir/rpc.py" "$WORK/logpack" "$run_dir/rpc-logpack" >"$run_dir/rpc-logpack.txt" 2>&1 || true
	if grep -q "cr_errmsg=" "$run_dir/rpc-plain.txt" && ! grep -q "cr_errmsg=''" "$run_dir/rpc-plain.txt" &&
		diff -q <(sed 's/[0-9]\+/#/g' "$run_dir/rpc-plain.txt") <(sed 's/[0-9]\+/#/g' "$run_dir/rpc-logpack.txt") >/dev/null; then
		pass "RPC replies carry the same error message with binary logging on:"
		sed 's/^/      /' "$run_dir/rpc-logpack.txt"
	else
		fail "RPC replies differ:"
		diff "$run_dir/rpc-plain.txt" "$run_dir/rpc-logpack.txt" | head -10
	fi
else
	echo "skip: the RPC check needs python3 with protobuf (python3-protobuf)"
fi

# A parent and a child, the same in every run, without address space
# randomisation (CRIU's pagemap cache logs differently for other layouts):
# two runs' logs compare line for line. Sets pid.
start_tree() {
	setarch "$(uname -m)" -R setsid sh -c 'sleep 1000 & exec sleep 1001' </dev/null >/dev/null 2>&1 &
	pid=$!
	sleep 0.3
}

# Ends the tree whether or not a dump killed it (a failed dump leaves it
# sleeping for a quarter of an hour).
stop_tree() {
	kill -9 -- -"$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# ---- dump and restore of a small process tree, both ways ----
dump_restore() { # $1: plain|logpack  $2: criu binary
	local v=$1 criu=$2 d=$run_dir/$1
	mkdir -p "$d/img"
	local pid
	start_tree
	local env=()
	[ "$v" = logpack ] && env=(LOGPACK_FILE="$d/run.lpk")
	if ! env "${env[@]}" "$criu" dump -t "$pid" -D "$d/img" -v4 -o dump.log --shell-job 2>"$d/dump.err"; then
		fail "$v dump (see $d/img/dump.log)"
		kill -9 -- -"$pid" 2>/dev/null || true
		return 1
	fi
	# The dump killed the tree; its pids must be free (the shell reaps its
	# job, the child is reaped by init) before they can be restored.
	wait "$pid" 2>/dev/null || true
	for _ in $(seq 100); do pgrep -s "$pid" >/dev/null || break; sleep 0.05; done
	if ! env "${env[@]}" "$criu" restore -D "$d/img" -v4 -o restore.log -d --pidfile "$d/pid" --shell-job 2>"$d/restore.err"; then
		fail "$v restore (see $d/img/restore.log)"
		return 1
	fi
	kill -9 -- -"$(cat "$d/pid")" 2>/dev/null || kill -9 "$(cat "$d/pid")" 2>/dev/null || true
	return 0
}
if dump_restore plain "$PLAIN" && dump_restore logpack "$LP"; then
	pass "dump and restore work both ways"
	d=$run_dir/logpack
	for s in 1:dump 2:restore; do
		n=${s%%:*} what=${s#*:}
		if ! "$LOGPACK" decode --format criu --level 4 --session "$n" "$d/run.lpk" "$d/img/$what.log" \
			>"$d/$what.decoded" 2>"$d/$what.decode-err"; then
			fail "decoding the $what: $(head -3 "$d/$what.decode-err")"
			continue
		fi
		plain_lines=$(wc -l <"$run_dir/plain/img/$what.log")
		text_lines=$(wc -l <"$d/img/$what.log")
		echo "      $what: plain -v4 text log $plain_lines lines; logpack run: text log $text_lines lines, decoded (with it) $(wc -l <"$d/$what.decoded") lines"
		if "$LOGCMP" -fuzzy "$TOLERANCE" -show 8 "$run_dir/plain/img/$what.log" "$d/$what.decoded"; then
			pass "the decoded $what log agrees with plain CRIU's -v4 log"
		else
			fail "the decoded $what log differs from plain CRIU's -v4 log"
		fi
	done
fi

# ---- default verbosity: what CRIU computes only at -v4 (pr_quelled) ----
# Not a check: how much of the -v4 log a default-verbosity run with binary
# logging on decodes to at --level 4 (the README's "Verbosity").
q=$run_dir/quelled
mkdir -p "$q/img"
start_tree
if [ -s "$run_dir/plain/img/dump.log" ] && LOGPACK_FILE=$q/run.lpk "$LP" dump -t "$pid" -D "$q/img" -o dump.log --shell-job 2>"$q/dump.err" &&
	"$LOGPACK" decode --format criu --level 4 "$q/run.lpk" "$q/img/dump.log" >"$q/decoded" 2>"$q/decode.err"; then
	echo "info: a default-verbosity dump, recorded, decodes at --level 4 to:"
	"$LOGCMP" -fuzzy 1 -show 0 "$run_dir/plain/img/dump.log" "$q/decoded" | sed 's/^/      /'
else
	echo "info: the default-verbosity dump did not run (see $q)"
fi
stop_tree

# ---- two programs writing one log at the same time: page server and dump ----
ps=$run_dir/page-server
mkdir -p "$ps/srv" "$ps/dump"
LOGPACK_FILE=$ps/run.lpk "$LP" page-server -D "$ps/srv" --address 127.0.0.1 --port 27027 -v4 -o ps.log >"$ps/srv.out" 2>&1 &
srv=$!
sleep 0.5
start_tree
if LOGPACK_FILE=$ps/run.lpk "$LP" dump -t "$pid" -D "$ps/dump" --page-server --address 127.0.0.1 --port 27027 \
	-v4 -o dump.log --shell-job 2>"$ps/dump.err" && wait "$srv"; then
	if "$LOGPACK" decode --text=none "$ps/run.lpk" >/dev/null 2>"$ps/decode.err" && [ ! -s "$ps/decode.err" ] &&
		[ "$("$LOGPACK" stats --format json "$ps/run.lpk" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["sessions"]))')" = 2 ]; then
		pass "criu page-server and criu dump --page-server share one log: two sessions, decoded cleanly"
	else
		fail "the shared log of page-server and dump: $(head -3 "$ps/decode.err")"
	fi
else
	fail "page-server dump (see $ps)"
	kill "$srv" 2>/dev/null || true
fi
stop_tree

# ---- what logging costs: dump and restore CPU, interleaved rounds ----
if [ "$BENCH_ROUNDS" -gt 0 ]; then
	echo
	"$CRIUBENCH" -plain "$PLAIN" -logpack "$LP" -rounds "$BENCH_ROUNDS" -dir "$WORK/bench" || fail "criubench"
fi

echo
if [ "$failures" -gt 0 ]; then
	echo "criu-check: $failures check(s) failed (work directory: $WORK)"
	exit 1
fi
echo "criu-check: all checks passed (work directory: $WORK)"
