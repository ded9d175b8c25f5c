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
# TOLERANCE (fraction of lines two runs may differ in, default 0.03).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
: "${CRIU_SRC:?set CRIU_SRC to a CRIU source tree (git clone https://github.com/checkpoint-restore/criu)}"
LOGPACK=${LOGPACK:-$here/bin/logpack}
WORK=${CRIU_CHECK_DIR:-/tmp/logpack-criu-check}
JOBS=${JOBS:-$(nproc)}
TOLERANCE=${TOLERANCE:-0.03}
LOGCMP=${LOGCMP:-$here/bin/logcmp}

[ "$(id -u)" = 0 ] || { echo "criu-check: CRIU dumps and restores need root" >&2; exit 2; }
[ -x "$LOGPACK" ] || { echo "criu-check: $LOGPACK not built (make build)" >&2; exit 2; }
[ -d "$CRIU_SRC/criu" ] || { echo "criu-check: $CRIU_SRC does not look like a CRIU tree" >&2; exit 2; }

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok:   $*"; }

# ---- build both ways ----
mkdir -p "$WORK"
for v in plain logpack; do
	if [ ! -d "$WORK/$v/criu" ]; then
		if [ -d "$CRIU_SRC/.git" ]; then
			git clone -q --shared "$CRIU_SRC" "$WORK/$v"
			git -C "$WORK/$v" checkout -q "$(git -C "$CRIU_SRC" rev-parse HEAD)"
		else
			cp -a "$CRIU_SRC" "$WORK/$v"
		fi
	fi
done
start=$(date +%s.%N)
make -s -C "$WORK/plain" -j"$JOBS" >"$WORK/build-plain.log" 2>&1 || { tail -20 "$WORK/build-plain.log"; fail "plain build"; exit 1; }
mid=$(date +%s.%N)
make -s -C "$WORK/logpack" -j"$JOBS" CC="$LOGPACK cc --preset criu -- gcc" >"$WORK/build-logpack.log" 2>&1 ||
	{ tail -20 "$WORK/build-logpack.log"; fail "the whole tree builds through logpack cc"; exit 1; }
end=$(date +%s.%N)
pass "both builds (plain $(printf %.1f "$(echo "$mid - $start" | bc)") s, logpack $(printf %.1f "$(echo "$end - $mid" | bc)") s; incremental if built before)"
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

# ---- dump and restore of a small process tree, both ways ----
dump_restore() { # $1: plain|logpack  $2: criu binary
	local v=$1 criu=$2 d=$run_dir/$1
	mkdir -p "$d/img"
	setsid sh -c 'sh -c "while :; do sleep 0.1; done" & while :; do sleep 0.1; done' </dev/null >/dev/null 2>&1 &
	local pid=$!
	sleep 0.3
	local env=()
	[ "$v" = logpack ] && env=(LOGPACK_FILE="$d/run.lpk")
	if ! env "${env[@]}" "$criu" dump -t "$pid" -D "$d/img" -v4 -o dump.log --shell-job 2>"$d/dump.err"; then
		fail "$v dump (see $d/img/dump.log)"
		kill -9 -- -"$pid" 2>/dev/null || true
		return 1
	fi
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
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

echo
if [ "$failures" -gt 0 ]; then
	echo "criu-check: $failures check(s) failed (work directory: $WORK)"
	exit 1
fi
echo "criu-check: all checks passed (work directory: $WORK)"
