# rbee-hive-monitor: `make` builds, `make run` runs the live demo, `make test`
# runs every test (host suite, then the VM suite with a pure cgroup v2).
SHELL     := /bin/bash
JDK       := $(shell bin/find-jdk)
ifeq ($(JDK),)
$(error no JDK >= 22: install one (e.g. apt-get install openjdk-25-jdk-headless) or set JAVA_HOME)
endif
export JAVA_HOME := $(JDK)
# Maven 3.8 on a new JDK warns about sun.misc.Unsafe; keep the output readable.
export MAVEN_OPTS ?= --sun-misc-unsafe-memory-access=allow
MVN       := mvn -B -ntp -e
DEB_TOOLS := gcc make maven libc6-dev

.PHONY: all build deps run test host-test clean

all: build

# Debian packages the build needs: installed when we are root, else named.
deps:
	@missing=""; for p in $(DEB_TOOLS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "missing Debian packages:$$missing (run: sudo apt-get install$$missing)" >&2; exit 1; fi; \
	fi

build: deps
	$(MVN) -q install -DskipTests

run: build
	@bin/demo

host-test: deps
	$(MVN) install

# The VM suite after the host suite (which builds what the guest runs);
# RBEE_SKIP_VM=1 skips it, loudly, where QEMU cannot run at all.
test: host-test
	$(MAKE) --no-print-directory vm-test

clean:
	$(MVN) -q clean
	$(MAKE) -C native-launcher clean

# The QEMU test VM (vm/): make vm-image, vm-smoke, vm-test (see vm/README.md).
include vm/vm.mk
include vm/vm-test.mk
