#!/bin/sh
# `make fuzz`: builds the libFuzzer targets of tests/fuzz/ into build/fuzz/
# and runs each for FUZZ_SECONDS (default 60), starting from the small seed
# corpus in tests/fuzz/corpus/TARGET/.  What the runs find (new inputs,
# crashes) stays in build/fuzz/; copy an input to the seed corpus only when
# it pins down a fixed bug.
set -eu

cd "$(dirname "$0")/../.."
seconds=${FUZZ_SECONDS:-60}
out=build/fuzz
cc=${FUZZ_CC:-clang}
flags="-std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter
    -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
    -fno-sanitize-recover=all -Idaemon"
pkgs="libssh inih libcrypto"

mkdir -p "$out/tmp"
# Word splitting wanted: flags and pkg-config output are word lists.
# shellcheck disable=SC2086,SC2046
$cc $flags -o "$out/fuzz_target" tests/fuzz/fuzz_target.c daemon/addr.c \
    daemon/policy.c
# shellcheck disable=SC2086,SC2046
$cc $flags $(pkg-config --cflags $pkgs) -o "$out/fuzz_config" \
    tests/fuzz/fuzz_config.c daemon/config.c daemon/policy.c daemon/addr.c \
    daemon/log.c daemon/cred.c daemon/cert.c daemon/krl.c daemon/keyopts.c \
    daemon/wire.c $(pkg-config --libs $pkgs) -lpthread
# shellcheck disable=SC2086,SC2046
$cc $flags $(pkg-config --cflags libcrypto) -o "$out/fuzz_cert" \
    tests/fuzz/fuzz_cert.c daemon/cert.c daemon/wire.c \
    $(pkg-config --libs libcrypto)
# shellcheck disable=SC2086,SC2046
$cc $flags $(pkg-config --cflags libcrypto) -o "$out/fuzz_krl" \
    tests/fuzz/fuzz_krl.c daemon/krl.c daemon/cert.c daemon/wire.c \
    $(pkg-config --libs libcrypto)

status=0
# shellcheck disable=SC2086
$cc $flags -o "$out/fuzz_proxy" tests/fuzz/fuzz_proxy.c daemon/proxy.c \
    daemon/addr.c
for target in target config cert krl proxy; do
	mkdir -p "$out/corpus/$target" "$out/crashes/$target"
	echo "fuzz: $target for ${seconds}s"
	FUZZ_TMPDIR="$out/tmp" "$out/fuzz_$target" \
	    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	    -max_len=4096 -print_final_stats=1 \
	    -dict="tests/fuzz/$target.dict" \
	    -artifact_prefix="$out/crashes/$target/" \
	    "$out/corpus/$target" "tests/fuzz/corpus/$target" || status=1
done
rm -rf "$out"/tmp/fuzz_config.*
exit $status
