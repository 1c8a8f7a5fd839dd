# SPDX-License-Identifier: GPL-2.0
#
# make            build the conformance suite (and fetch what it needs)
# make conformance  run the suite in the testbed: KERNEL=6.1|6.12|6.1-debug
#                 IOMMU=intel|amd|virtio IMPL=reference|upstream (KERNEL_IMAGE and
#                 KERNEL_MODULES point it at any other kernel)
# make spec       the specification: build/spec/vfio-groups.html, man pages
# make check      every test: host-side checks, then the testbed matrix
# make deps       install what is missing (needs root for apt-get)

KERNEL ?= 6.1
IOMMU ?= intel
IMPL ?= reference
export KERNEL IOMMU IMPL

# The lanes make check runs: kernel-iommu-impl. 7.3-intel-upstream is not
# among them yet: its guest now and then wedges in the DMA-fault tests (see
# the spec's Implementations section); run it with make conformance KERNEL=7.3.
# 6.1-debug is 6.1 with KASAN, lockdep and kmemleak (tools/kernel-build).
CHECK_LANES ?= 6.1-intel-upstream 6.12-intel-upstream \
	6.1-intel-reference 6.12-intel-reference \
	6.1-debug-intel-upstream 6.1-debug-intel-reference

KSFT_DIR := $(CURDIR)/.cache/kselftest

all: deps conformance-build

deps:
	@tools/deps

$(KSFT_DIR)/.extracted: | deps
	@tools/kselftest-fetch >/dev/null

conformance-build: $(KSFT_DIR)/.extracted build/examples/vfio-example
	@$(MAKE) -s -C conformance KSFT_DIR=$(KSFT_DIR)

# The spec's worked example: the testbed runs it, so it cannot rot.
build/examples/vfio-example: spec/example/vfio-example.c
	@mkdir -p $(@D)
	$(CC) -Wall -Wextra -Werror -O2 -static -o $@ $<

conformance: all
	@tools/testbed

check: all check-host check-testbed-hang debug-kernel
	@for lane in $(CHECK_LANES); do \
		m=$${lane##*-}; rest=$${lane%-*}; i=$${rest##*-}; k=$${rest%-*}; \
		echo "== lane $$lane"; \
		KERNEL=$$k IOMMU=$$i IMPL=$$m tools/testbed || true; \
	done
	@echo "== all lanes"
	@tools/report $(addprefix results/,$(CHECK_LANES))

check-host: spec
	@echo "== host: tools"
	@tools/selftest
	@echo "== host: ABI of uapi/vfio_groups.h against the kernels' <linux/vfio.h>"
	@tools/abi-check
	@tools/abi-check --self-test
	@echo "== host: requirement traceability"
	@tools/trace
	@echo "== host: reference driver: W=1, sparse and checkpatch --strict on 6.1 and 6.12"
	@tools/driver-check

spec: deps
	@tools/spec-build

# The 6.1-debug lanes' kernel: built once (minutes), then taken from .cache.
debug-kernel: deps
	@echo "== kernel: 6.1-debug (tools/kernel-build; cached)"
	@tools/kernel-build >/dev/null

# A guest that hangs must be killed at the bound and reported, not hang CI.
check-testbed-hang:
	@echo "== testbed: a hung guest is killed and reported"
	@if IMPL=upstream TIMEOUT=30 RESULTS=results/selftest-hang tools/testbed --hang \
			>/dev/null 2>&1; then \
		echo "FAIL: the hung guest was reported as a pass"; exit 1; fi
	@grep -q 'hanging on purpose' results/selftest-hang/console.txt || \
		{ echo "FAIL: the guest never reached its hang"; exit 1; }
	@jq -e '.guest | test("killed after the 30s bound")' \
		results/selftest-hang/summary.json >/dev/null || \
		{ echo "FAIL: the hang was not reported"; exit 1; }
	@jq -e '[.tests[] | select(.name == "testbed" and .result == "fail")] | length == 1' \
		results/selftest-hang/summary.json >/dev/null || \
		{ echo "FAIL: the hang is not a failed test"; exit 1; }
	@echo "ok: killed at the 30s bound and reported as a failed run"

clean:
	rm -rf build results

distclean: clean
	rm -rf .cache

.PHONY: all deps conformance-build conformance check check-host spec \
	check-testbed-hang debug-kernel clean distclean
