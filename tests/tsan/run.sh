#!/usr/bin/env bash
# make test-tsan: build tests/tsan/driver.cpp with ThreadSanitizer and check its two verdicts:
#   * the real kernels of csrc/kernels/ run with zero reported races and correct results;
#   * the broken kernel (a missing __syncthreads) gets a data race reported at its file:line.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${TMPDIR:-/tmp}/minitransformer-tsan"
mkdir -p "$out"
start=$(date +%s%N)
"${CXX:-g++}" -std=c++20 -O1 -g -fsanitize=thread -Icsrc -Itests/emu/kernels tests/tsan/driver.cpp \
  -o "$out/driver" -lpthread
export TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1"

echo "== real kernels (expect no race)"
if ! "$out/driver" real 2> "$out/real.log"; then
  cat "$out/real.log"; echo "FAIL: the real kernels gave a wrong result or a ThreadSanitizer report"; exit 1
fi
if grep -q "ThreadSanitizer" "$out/real.log"; then
  cat "$out/real.log"; echo "FAIL: ThreadSanitizer reported on the real kernels"; exit 1
fi

echo "== broken kernel: softmax_missing_barrier (expect a race)"
status=0
"$out/driver" broken 2> "$out/broken.log" || status=$?
if [ "$status" -ne 66 ] || ! grep -q "WARNING: ThreadSanitizer: data race" "$out/broken.log"; then
  cat "$out/broken.log"; echo "FAIL: ThreadSanitizer did not report the missing __syncthreads (exit $status)"; exit 1
fi
echo "ThreadSanitizer: $(grep -c 'WARNING: ThreadSanitizer: data race' "$out/broken.log") race report(s), first at:"
grep -m1 -E "softmax_missing_barrier\.cuh:[0-9]+" "$out/broken.log" | sed 's/^ */    /'
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "test-tsan passed in $((elapsed_ms / 1000)).$(( elapsed_ms % 1000 / 100 )) s (build included)"
