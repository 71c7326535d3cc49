# `make ci` runs exactly what .ci/run (and so CI) runs.
.PHONY: ci test fmt-check clippy slurm bench

ci: test fmt-check clippy slurm

# Where the CPU has every feature the engine's wide loops need (engine::wide::available),
# their unit tests must run, not skip: NORTHBOUND_REQUIRE_SIMD=1 makes a skip a failure.
# (Not when NORTHBOUND_SIMD=off turns them off on purpose.)
REQUIRE_SIMD := $(if $(filter off,$(NORTHBOUND_SIMD)),0,$(shell \
	for f in avx512f avx512bw avx512dq avx512vl avx2 bmi2 popcnt; do \
	grep -qw $$f /proc/cpuinfo 2>/dev/null || { echo 0; exit; }; done; echo 1))

test:
	NORTHBOUND_REQUIRE_SIMD=$(REQUIRE_SIMD) cargo test

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --all-targets -- -D warnings

# A 4-shard sweep on a real single-node Slurm (installed with apt-get if missing), merged
# and compared with cmp against the same sweep run without Slurm.
slurm:
	cargo build
	bash scripts/slurm/test-local-cluster.sh

bench:
	cargo bench
