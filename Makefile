# Kefu: the two commands are `make run` and `make test` (see README.md).
.PHONY: run stop test bench build clean-data

run:
	@scripts/run.sh

stop:
	@scripts/stop.sh

test:
	@scripts/test.sh

bench:
	@scripts/bench.sh

build:
	swift build

# Stops everything, then deletes the local cluster (wherever it lives: README, Quick start), logs and keys.
clean-data:
	@scripts/stop.sh --clean-data
