#!/usr/bin/env bash
# libFuzzer targets for every parser that reads untrusted bytes (docs/RELIABILITY.md).
#
#   fuzz/run.sh TARGET SECONDS   fuzz one target; new inputs go to fuzz/.work/TARGET, crashes
#                                to fuzz/.work/artifacts/; exits non-zero on a crash
#   fuzz/run.sh smoke [SECONDS]  every target in turn, SECONDS in all (default 60): CI's run
#   fuzz/run.sh seeds            rewrite the committed seed corpora in fuzz/corpus/ from real
#                                protocol runs (each target writes its own)
#   fuzz/run.sh build            build only
#
# Targets: FuzzRecordFrames FuzzHandshake FuzzHandshakerService FuzzEnvoyYAML FuzzProxyHTTP.
# FUZZ_CONFIGURATION=debug builds faster and runs slower (default release). Extra libFuzzer
# flags go in FUZZ_FLAGS.
set -euo pipefail
FUZZ_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$FUZZ_DIR")
TARGETS=(FuzzRecordFrames FuzzHandshake FuzzHandshakerService FuzzEnvoyYAML FuzzProxyHTTP)
CONFIGURATION=${FUZZ_CONFIGURATION:-release}
SCRATCH=$FUZZ_DIR/.build
WORK=$FUZZ_DIR/.work

build() {
    # -parse-as-library: the targets have no main; libFuzzer's is linked in.
    swift build -c "$CONFIGURATION" --package-path "$FUZZ_DIR" --scratch-path "$SCRATCH" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >&2
    swift build -c "$CONFIGURATION" --package-path "$FUZZ_DIR" --scratch-path "$SCRATCH" --show-bin-path
}

known_target() {
    local target
    for target in "${TARGETS[@]}"; do [[ $target == "$1" ]] && return 0; done
    echo "run.sh: unknown target '$1' (targets: ${TARGETS[*]})" >&2
    return 1
}

# Runs $1 for $3 seconds from the binaries in $2; prints "TARGET executions=N ... crashes=0".
run_target() {
    local target=$1 bin=$2 seconds=$3 log
    mkdir -p "$WORK/$target" "$WORK/artifacts"
    log="$WORK/$target.log"
    local status=0
    # -detect_leaks=0: the Swift runtime's metadata caches read as leaks to LeakSanitizer;
    # ASan still catches every out-of-bounds access and use-after-free.
    # SWIFT_BACKTRACE: the Swift runtime's own crash backtracer would run inside ASan's and
    # libFuzzer's crash handling (and trips ASan itself); theirs is the report that matters.
    # shellcheck disable=SC2086
    SWIFT_BACKTRACE=enable=no "$bin/$target" "$WORK/$target" "$FUZZ_DIR/corpus/$target" \
        -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=4096 -detect_leaks=0 \
        -print_final_stats=1 -artifact_prefix="$WORK/artifacts/$target-" ${FUZZ_FLAGS:-} >"$log" 2>&1 || status=$?
    local executions coverage
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    coverage=$(grep -aoE ' cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
    if [[ $status != 0 ]]; then
        echo "$target: CRASH (exit $status) after ${executions:-?} executions; log $log" >&2
        grep -aE "fuzz invariant|ERROR: AddressSanitizer|Fatal error|SUMMARY|Test unit written" "$log" >&2 || tail -20 "$log" >&2
        return 1
    fi
    echo "$target executions=${executions:-0} seconds=$seconds edges=${coverage:-?} crashes=0"
}

command=${1:-}
case $command in
    build)
        build >/dev/null
        ;;
    seeds)
        bin=$(build)
        for target in "${TARGETS[@]}"; do
            rm -rf "$FUZZ_DIR/corpus/$target"
            ALTS_FUZZ_WRITE_SEEDS="$FUZZ_DIR/corpus/$target" "$bin/$target"
        done
        cp "$REPO"/envoy/*.yaml "$FUZZ_DIR/corpus/FuzzEnvoyYAML/"
        ;;
    smoke)
        total=${2:-60}
        each=$(( total / ${#TARGETS[@]} ))
        bin=$(build)
        failed=0
        for target in "${TARGETS[@]}"; do run_target "$target" "$bin" "$each" || failed=1; done
        exit $failed
        ;;
    "")
        sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
    *)
        known_target "$command"
        seconds=${2:?usage: fuzz/run.sh TARGET SECONDS}
        bin=$(build)
        run_target "$command" "$bin" "$seconds"
        ;;
esac
