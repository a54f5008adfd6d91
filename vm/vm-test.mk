# Makefile fragment for the VM suite; in the root Makefile (after vm/vm.mk):
#   include vm/vm-test.mk
# `make vm-test` runs every test tagged "vm" inside the QEMU guest (vm/test.sh):
# the guest image is built or taken from $(VM_CACHE) by vm/build.sh, the project
# must be built already (make build: core classes, test classes, native-launcher).
#   make vm-test VM_TEST=MemoryLimitVmTest                 one class
#   make vm-test VM_TEST=MemoryLimitVmTest#oomKillIsReported one method
#   make vm-test RBEE_SKIP_VM=1   where QEMU cannot run at all: skip, loudly
# Prints "vm: N passed, N failed, N skipped"; JUnit XML in core/target/vm-reports/.
# `make vm-test-systemd` (same variables) boots systemd as PID 1 in the guest and
# runs the tests tagged "systemd" (dev.rbee.hive.monitor.vm.systemd) from a
# service; prints "vm-systemd: ..."; reports in core/target/vm-systemd-reports/.
#   make vm-test-systemd VM_TAG=systemd-figures   the spawn-cost and adoption figures (opt-in)
VM_CACHE ?= .vm-cache

.PHONY: vm-test vm-test-systemd

vm-test:
	VM_TEST='$(VM_TEST)' VM_TEST_TIMEOUT='$(VM_TEST_TIMEOUT)' RBEE_SKIP_VM='$(RBEE_SKIP_VM)' vm/test.sh $(VM_CACHE)

vm-test-systemd:
	VM_SUITE=systemd VM_TAG='$(VM_TAG)' VM_TEST='$(VM_TEST)' VM_JAVA_OPTS='$(VM_JAVA_OPTS)' VM_TEST_TIMEOUT='$(VM_TEST_TIMEOUT)' RBEE_SKIP_VM='$(RBEE_SKIP_VM)' vm/test.sh $(VM_CACHE)
