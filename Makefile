# The README's commands. Each one installs what is missing first
# (scripts/bootstrap is quick and offline when nothing is).
BUILD ?= build
MESON_OPTIONS ?= -Dwerror=true

.PHONY: all deps build run run-vm check check-clients bench bench-llm fuzz clean

all: build

deps:
	@scripts/bootstrap

build: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) $(MESON_OPTIONS) >/dev/null
	@ninja -C $(BUILD) >/dev/null || ninja -C $(BUILD)

run: build
	@scripts/run $(BUILD)

run-vm: build
	@scripts/bootstrap --vm --clients
	@scripts/run-vm $(BUILD)

check: build
	@scripts/bootstrap --fuzz --vm
	@scripts/check $(BUILD)

check-clients: build
	@scripts/bootstrap --clients
	@scripts/check-clients $(BUILD)

bench: build
	@scripts/bench $(BUILD)

bench-llm: build
	@scripts/bootstrap --clients --vm
	@scripts/bench-llm $(BUILD)

fuzz: build
	@scripts/bootstrap --fuzz
	@scripts/fuzz $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD)-asan build-fuzz
