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

# Removes the local cluster, logs and keys (after make stop).
clean-data: stop
	rm -rf .data
