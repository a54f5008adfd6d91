# rbee-hive-monitor: `make` builds, `make run` runs the live demo, `make test`
# runs every test: the host suite, then the VM suite (a pure cgroup v2 kernel
# under QEMU, for everything that needs cgroup controllers).
SHELL     := /bin/bash
JDK       := $(shell bin/find-jdk)
ifeq ($(JDK),)
$(error no JDK >= 22: install one (e.g. apt-get install openjdk-25-jdk-headless) or set JAVA_HOME)
endif
export JAVA_HOME := $(JDK)
# Maven 3.8 on a new JDK warns about sun.misc.Unsafe; keep the output readable.
export MAVEN_OPTS ?= --sun-misc-unsafe-memory-access=allow
MVN       := mvn -B -ntp
# gcc/libc6-dev: the launcher and the static test programs; tmux: the `top` test;
# the cross compiler: the jar's second launcher (aarch64 on x86-64, x86-64 on aarch64).
CROSS_GCC := $(if $(filter aarch64,$(shell uname -m)),gcc-x86-64-linux-gnu,gcc-aarch64-linux-gnu)
DEB_TOOLS := gcc make maven libc6-dev tmux $(CROSS_GCC)
# prometheus: promtool and a real Prometheus for the serve tests (RealPrometheusTest); chromium: the
# headless browser of PageBrowserTest. Installed without their recommends (node-exporter and friends);
# policy-rc.d/no systemd keeps prometheus's service stopped.
DEB_NORECOMMENDS := prometheus chromium
# qemu-user runs the second launcher's protocol tests (LauncherProtocolTest); where
# it cannot be installed those tests are skipped, saying so, and the build goes on.
DEB_OPTIONAL := qemu-user-static

.PHONY: all build deps run test host-test smoke javadoc example-test gpu-check clean

all: build

# Debian packages the build needs: installed when we are root, else named.
deps:
	@missing=""; for p in $(DEB_TOOLS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	norec=""; for p in $(DEB_NORECOMMENDS); do dpkg -s $$p >/dev/null 2>&1 || norec="$$norec $$p"; done; \
	if [ -n "$$missing$$norec" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "installing:$$missing$$norec"; apt-get update -qq && \
	    { [ -z "$$missing" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; } && \
	    { [ -z "$$norec" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$norec; }; \
	  else echo "missing Debian packages:$$missing$$norec (run: sudo apt-get install$$missing$$norec)" >&2; exit 1; fi; \
	fi
	@for p in $(DEB_OPTIONAL); do dpkg -s $$p >/dev/null 2>&1 && continue; \
	  if [ "$$(id -u)" = 0 ] && { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$p; }; then :; \
	  else echo "deps: $$p not installed: the tests that need it are skipped" >&2; fi; \
	done

build: deps
	$(MVN) -q install -DskipTests

run: build
	@bin/demo

# The host suite (every module's tests), then the CLI as a user runs it.
host-test: deps
	$(MVN) install
	$(MAKE) --no-print-directory javadoc
	$(MAKE) --no-print-directory smoke
	$(MAKE) --no-print-directory example-test

# The exported API's javadoc with doclint on: a warning fails (about 20 s). The plugin
# skips a run whose output is already there, so that is removed first.
javadoc:
	rm -rf core/target/reports/apidocs
	$(MVN) -q -pl core javadoc:javadoc

# examples/mini-hive, a separate Maven project, against the library that host-test
# (or make) installed in the local repository: the way an embedder uses it.
example-test:
	$(MVN) -f examples/mini-hive/pom.xml verify

smoke:
	@out=$$(bin/rbee-mon run --group demo --instance 1 --quiet -- /bin/cat /proc/self/cgroup); \
	echo "$$out" | grep '^0::'; \
	echo "$$out" | grep -q '^0::.*/rbee.slice/demo/1$$' || { echo "smoke: the worker was not in rbee.slice/demo/1" >&2; exit 1; }

# The VM suites run what the host suite built: the busybox-init guest and the
# systemd guest (systemd as PID 1), side by side (each guest is one emulated CPU,
# so one host core each), once the image is built; -Oline keeps each line whole.
# Where the image cannot be built, each suite says so (RBEE_SKIP_VM: vm/README.md).
test: host-test
	vm/build.sh $(VM_CACHE) || echo "vm image not built: the VM suites say why" >&2
	$(MAKE) --no-print-directory -j2 -Oline vm-test vm-test-systemd

gpu-check: build
	gpu-check/run.sh

clean:
	$(MVN) -q clean
	$(MAKE) -C native-launcher clean

# JMH: make bench (about 7 minutes), make bench-quick (about 1 minute).
include benchmarks/bench.mk

# The QEMU test VM (vm/): make vm-image, vm-smoke, vm-test, vm-test-systemd (see vm/README.md).
include vm/vm.mk
include vm/vm-test.mk
