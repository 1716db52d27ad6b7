# Two commands matter: `make run` (install and start) and `make test` (install test deps and run everything).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Debian packages the integration tests need: userspace WireGuard in namespaces, and a VM with the kernel module.
# --no-install-recommends matters: without it wireguard-tools pulls a whole kernel, systemd and udev.
APT_PACKAGES := wireguard-go wireguard-tools iputils-ping iproute2 qemu-system-x86 linux-image-amd64 busybox-static \
	strace zbar-tools openssh-server

.PHONY: run test test-deps lint unit integration kernel screenshots bench clean

run: $(BIN)/.installed
	$(BIN)/wgtui $(ARGS)

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.test-installed: $(BIN)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

test-deps: $(BIN)/.test-installed
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
		if [ -n "$$missing" ]; then \
			echo "installing Debian packages: $$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		fi; \
	else \
		echo "not root (or no apt-get): Debian packages for the integration tests not installed; those tests will say they skip"; \
	fi

lint: $(BIN)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: $(BIN)/.test-installed
	$(BIN)/pytest -q -m "not kernel"

kernel: $(BIN)/.test-installed
	PATH="$(abspath $(BIN)):$$PATH" scripts/vm-tests

test: test-deps
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory kernel

screenshots: $(BIN)/.installed
	$(BIN)/python scripts/screenshots.py

bench: $(BIN)/.test-installed
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .vm-out
