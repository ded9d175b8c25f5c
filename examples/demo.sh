#!/usr/bin/env bash
# make demo: the CRIU-like example built plain and with logpack (only CC
# changes), run with text logging and with binary logging, the binary log
# decoded and compared with the text log line for line.
set -euo pipefail
cd "$(dirname "$0")/.."
# Only this script decides where binary logging is on.
unset LOGPACK_FILE LOGPACK_DB
ROOT=$PWD
LP=$ROOT/bin/logpack
CMP=$ROOT/bin/logcmp
EX=examples/criu-like
OUT=$EX/build/demo
rm -rf "$OUT"
mkdir -p "$OUT"

# Bold headings only on a terminal (and not with NO_COLOR set): no escape
# codes in a pipe or a file.
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
else
	bold() { printf '\n%s\n' "$*"; }
fi
show() { printf '  $ %s\n' "$*"; }
# elapsed CMD...: runs CMD, stores its wall time in ms in $ms.
elapsed() {
	local t0 t1
	t0=$(date +%s%N)
	"$@"
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
}
# Bytes a logpack log really holds: the header's tail field (docs/FORMAT.md);
# the file itself is preallocated ahead of the writers.
lpk_used() { od -An -t u8 -j 72 -N 8 "$1" | tr -d ' '; }

bold "1. Build the CRIU-like example with plain gcc"
show "make -C $EX O=build/plain"
rm -rf "$EX/build/plain" "$EX/build/logpack"
elapsed make -s -C "$EX" O=build/plain >/dev/null
t_plain_build=$ms

bold "2. Build the same tree with logpack: only CC changes"
show "make -C $EX O=build/logpack CC=\"$LP cc --preset criu -- gcc\""
elapsed make -s -C "$EX" O=build/logpack CC="$LP cc --preset criu -- gcc" >/dev/null
printf '  clean builds: gcc %d ms, through logpack cc %d ms\n' "$t_plain_build" "$ms"

bold "3. Run with text logging (-v4), then with binary logging (LOGPACK_FILE)"
show "$EX/build/plain/criu-like -v4 -o $OUT/text.log"
elapsed "$EX/build/plain/criu-like" -v4 -o "$OUT/text.log" >/dev/null
t_text=$ms
show "LOGPACK_FILE=$OUT/run.lpk $EX/build/logpack/criu-like -v4 -o $OUT/text-alongside.log"
elapsed env LOGPACK_FILE="$OUT/run.lpk" "$EX/build/logpack/criu-like" -v4 -o "$OUT/text-alongside.log" >/dev/null
t_bin=$ms
printf '  text run %d ms, binary run %d ms; the text log of the binary run has %d bytes\n' \
	"$t_text" "$t_bin" "$(wc -c <"$OUT/text-alongside.log")"

bold "4. Decode the binary log in CRIU's layout"
show "bin/logpack decode --format criu --level 4 -o $OUT/decoded.log $OUT/run.lpk"
elapsed "$LP" decode --format criu --level 4 -o "$OUT/decoded.log" "$OUT/run.lpk"
t_dec=$ms
echo
"$CMP" -side 12 -width 76 -names "text log (plain build)","decoded binary log (logpack build)" "$OUT/text.log" "$OUT/decoded.log"
text_bytes=$(wc -c <"$OUT/text.log")
lpk_bytes=$(lpk_used "$OUT/run.lpk")
printf '  %d lines; text log %d bytes; binary log file %d bytes in use (%.2fx, with chunk headers,\n' \
	"$(wc -l <"$OUT/text.log")" "$text_bytes" "$lpk_bytes" \
	"$(awk -v a="$lpk_bytes" -v b="$text_bytes" 'BEGIN { print a / b }')"
printf '  call-site descriptors and the partly filled chunks of 4 processes); decoded in %d ms\n' "$t_dec"

bold "Where the bytes go"
show "bin/logpack stats $OUT/run.lpk | head -7"
"$LP" stats "$OUT/run.lpk" >"$OUT/stats.txt"
head -7 "$OUT/stats.txt" | sed 's/^/  /'

bold "5. Default verbosity: the text log has only warnings, the binary log has everything"
show "$EX/build/plain/criu-like -o $OUT/text-default.log"
"$EX/build/plain/criu-like" -o "$OUT/text-default.log" >/dev/null
show "LOGPACK_FILE=$OUT/default.lpk $EX/build/logpack/criu-like -o $OUT/default-alongside.log"
env LOGPACK_FILE="$OUT/default.lpk" "$EX/build/logpack/criu-like" -o "$OUT/default-alongside.log" >/dev/null
show "bin/logpack decode --format criu --level 2 -o $OUT/default-2.log $OUT/default.lpk   # what the text log showed"
"$LP" decode --format criu --level 2 -o "$OUT/default-2.log" "$OUT/default.lpk"
"$CMP" "$OUT/text-default.log" "$OUT/default-2.log"
show "bin/logpack decode --format criu --level 4 -o $OUT/default-4.log $OUT/default.lpk   # the full debug log, after the fact"
"$LP" decode --format criu --level 4 -o "$OUT/default-4.log" "$OUT/default.lpk"
"$CMP" "$OUT/text.log" "$OUT/default-4.log"

bold "6. A crash: the program kills itself with SIGKILL in the middle of the dump"
show "$EX/build/plain/criu-like -v4 -o $OUT/text-killed.log --kill-at 3"
{ "$EX/build/plain/criu-like" -v4 -o "$OUT/text-killed.log" --kill-at 3 >/dev/null; } 2>/dev/null || true
show "LOGPACK_FILE=$OUT/killed.lpk $EX/build/logpack/criu-like -v4 --kill-at 3"
{ env LOGPACK_FILE="$OUT/killed.lpk" "$EX/build/logpack/criu-like" -v4 --kill-at 3 >/dev/null; } 2>/dev/null || true
show "bin/logpack decode --format criu --level 4 -o $OUT/killed.log $OUT/killed.lpk"
"$LP" decode --format criu --level 4 -o "$OUT/killed.log" "$OUT/killed.lpk"
printf '  last line: %s\n' "$(tail -1 "$OUT/killed.log")"
"$CMP" "$OUT/text-killed.log" "$OUT/killed.log"
echo
echo "Logs are in $OUT/."
