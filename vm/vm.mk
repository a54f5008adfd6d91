# Makefile fragment for the QEMU test VM; in the root Makefile: include vm/vm.mk
# VM_CACHE holds the kernel, initramfs, scratch disk and runs/ (git-ignored).
VM_CACHE ?= .vm-cache

.PHONY: vm-image vm-smoke vm-fixtures

# Installs host packages when missing (needs root then); fast when cached.
vm-image:
	vm/build.sh $(VM_CACHE)

# Boots the guest once and checks it; the JVM-written file must reach the host.
vm-smoke: vm-image
	rm -rf $(VM_CACHE)/runs/smoke
	VM_RUN_DIR=$(VM_CACHE)/runs/smoke vm/run.sh $(VM_CACHE) vm/smoke.sh 300
	test -s $(VM_CACHE)/runs/smoke/jvm-write/hello.jar

# Captures a real pure-v2 leaf (cpu io memory pids) into the parser fixtures.
vm-fixtures: vm-image
	rm -rf $(VM_CACHE)/runs/fixtures && mkdir -p $(VM_CACHE)/runs/fixtures
	printf 'RBEE_REPO=%s exec sh %s/vm/capture-fixtures.sh\n' "$(CURDIR)" "$(CURDIR)" > $(VM_CACHE)/runs/fixtures.sh
	VM_RUN_DIR=$(VM_CACHE)/runs/fixtures vm/run.sh $(VM_CACHE) $(VM_CACHE)/runs/fixtures.sh 300
	rm -rf core/src/test/resources/fixtures/vm-pure-v2
	cp -r $(VM_CACHE)/runs/fixtures/fixture core/src/test/resources/fixtures/vm-pure-v2
