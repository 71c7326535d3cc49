# `make ci` runs exactly what .ci/run (and so CI) runs.
.PHONY: ci test fmt-check clippy slurm bench

ci: test fmt-check clippy slurm

test:
	cargo test

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
