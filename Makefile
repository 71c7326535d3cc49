# `make ci` runs exactly what .ci/run (and so CI) runs.
.PHONY: ci test fmt-check clippy bench

ci: test fmt-check clippy

test:
	cargo test

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --all-targets -- -D warnings

bench:
	cargo bench
