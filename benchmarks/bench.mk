# JMH benchmarks (issue 7).  Included by the root Makefile; also works alone:
#   make -f benchmarks/bench.mk bench
#
#   make bench        the fixed configuration (~10-12 min on 2 cores; issue 17's heartbeat,
#                     exit and adoption figures add ~4: Floor.heartbeat ~1 min, LifeBench
#                     (1000 spawns three times: exits, adoption by a live owner's peer, takeover after the owner JVM died) ~2.5 min, HeartbeatBench ~1.5 min): writes
#                     benchmarks/results/latest.json (JMH), latest-floor.json (C
#                     floor, result sizes, heartbeat fds/heap, machine), latest-life.json
#                     (exit detection, adoption) and latest.md (the tables)
#   make bench-quick  the same benchmarks, short iterations (~1.5-2 min): writes
#                     benchmarks/results/tmp/quick{.json,-floor.json,.md} (not committed)
#   make bench-vm     issue 17's heartbeat figures that need the QEMU guest (~18 min under TCG on
#                     2 cores: root, a pure cgroup v2, 1000 real leaves, 10 000 workers under
#                     ulimit -n 65536; vm/README.md): writes benchmarks/results/latest-vm.json and
#                     prints its section of the report; make bench runs it after the host part,
#                     before the report (latest.md's "Heartbeat in the VM"), so make bench takes
#                     ~30 min; where QEMU cannot run, the JSON and the report say "not run" and why
#   BENCH_FILTER=regex  runs only the matching JMH benchmarks (e.g. FileReadBench)
#
# Needs root (it creates cgroups under the host's cgroup2 mount, found in
# /proc/self/mountinfo, and removes them again) and a C compiler.
SHELL      := /bin/bash
BENCH_DIR  := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
BENCH_JAR  := $(BENCH_DIR)/target/benchmarks.jar
BENCH_RES  := $(BENCH_DIR)/results
BENCH_TMP  := $(BENCH_RES)/tmp
BENCH_C    := $(BENCH_DIR)/c/build/pread-floor
BENCH_CC   ?= $(or $(CC),cc)
MVN        ?= mvn -B -ntp -e
JAVA       ?= $(if $(JAVA_HOME),$(JAVA_HOME)/bin/java,java)
export MAVEN_OPTS ?= --sun-misc-unsafe-memory-access=allow
BENCH_JVM  := $(JAVA) --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED
# JOL (the result's size) attaches to its own JVM; -XX:+EnableDynamicAgentLoading keeps that quiet
BENCH_JOL  := -Djdk.attach.allowAttachSelf=true -XX:+EnableDynamicAgentLoading -Djol.magicFieldOffset=true
BENCH_FILTER ?= dev.rbee.hive.monitor.bench

# fixed configurations: full (make bench) and quick (make bench-quick)
BENCH_JMH_FULL  := -f 1 -wi 3 -w 1s -i 5 -r 1s -prof gc
BENCH_JMH_QUICK := -f 1 -wi 1 -w 300ms -i 2 -r 300ms -prof gc
# LifeBench (exit detection, adoption, takeover): workers
BENCH_LIFE_FULL  := 1000
BENCH_LIFE_QUICK := 200
# C floor: seconds per round, rounds (after one warm-up round)
BENCH_C_FULL    := 1 3
BENCH_C_QUICK   := 0.2 2
# the VM part (benchmarks/vm/bench-vm.sh): seconds per round, rounds, JIT warm-up seconds; the guest's memory
BENCH_VM_ARGS   ?= 0.5 1 10
BENCH_VM_MEM    ?= 3G
# make bench's guest part: run (default), or keep (the last latest-vm.json stays in the report: ~18 min less)
BENCH_VM        ?= run
# spawn floor (benchmarks/c/spawn-floor.c): rounds of each way
BENCH_SPAWN_N   ?= 500
BENCH_SPAWN_C   := $(BENCH_DIR)/c/build/spawn-floor
VM_CACHE        ?= .vm-cache

.PHONY: bench bench-quick bench-vm bench-build bench-clean

bench-build: $(BENCH_C) $(BENCH_SPAWN_C)
	$(MVN) -q -pl benchmarks -am package -DskipTests

$(BENCH_C): $(BENCH_DIR)/c/pread-floor.c
	@mkdir -p $(dir $@)
	$(BENCH_CC) -O2 -Wall -Wextra -Werror -o $@ $<

$(BENCH_SPAWN_C): $(BENCH_DIR)/c/spawn-floor.c
	@mkdir -p $(dir $@)
	$(BENCH_CC) -O2 -Wall -Wextra -Werror -o $@ $< -ldl

# $(call bench-vm-run,OUT.json): the guest run; exit 0 also when QEMU cannot run here (the JSON says why)
bench-vm-run = BENCH_VM_ARGS='$(BENCH_VM_ARGS)' VM_MEM=$(BENCH_VM_MEM) $(BENCH_DIR)/vm/bench-vm.sh $(VM_CACHE) $(1)

# $(call bench-run,JMH-ARGS,C-ARGS,OUT-BASENAME,COMMAND-NAME,LIFE-WORKERS[,vm])
# With "vm", the VM part runs after the host's; a failed guest run is reported, not fatal (the
# host's figures are written first; "make: [...] Error 1 (ignored)" and the report's "not run" say it).
# HeartbeatBench at 10 000 workers holds 40 000 fds: JMH runs under ulimit -n 65536 (root may raise
# the hard limit; otherwise the soft limit is raised to the hard one, and the bench says what it needs).
define bench-run
	@mkdir -p $(BENCH_TMP)
	@$(BENCH_JVM) -cp $(BENCH_JAR) dev.rbee.hive.monitor.bench.BenchCgroups
	@echo "== C floor and result sizes ($(3)-floor.json)"
	$(BENCH_JVM) $(BENCH_JOL) -cp $(BENCH_JAR) dev.rbee.hive.monitor.bench.Floor $(BENCH_C) $(3)-floor.json $(2)
	@echo "== spawn floor: posix_spawn, and rbee_spawn into a new leaf, in C ($(3)-spawn-floor.json)"
	@d=$$(sed -n 's/^[^ ]* [^ ]* [^ ]* [^ ]* \([^ ]*\) .* - cgroup2 .*/\1/p' /proc/self/mountinfo | head -1)/rbee-bench-spawnfloor-$$$$; \
	  mkdir $$d && { $(BENCH_SPAWN_C) native-launcher/build/librbee-spawn.so $$d $(BENCH_SPAWN_N) > $(3)-spawn-floor.json; rc=$$?; rmdir $$d; cat $(3)-spawn-floor.json; exit $$rc; }
	@echo "== exit detection and adoption, $(5) workers ($(3)-life.json)"
	$(BENCH_JVM) -cp $(BENCH_JAR) dev.rbee.hive.monitor.bench.LifeBench $(3)-life.json $(5)
	@echo "== JMH: $(1) (log: $(BENCH_TMP)/$(notdir $(3)).log)"
	set -o pipefail; ulimit -n 65536 2>/dev/null || ulimit -n $$(ulimit -Hn); $(BENCH_JVM) -jar $(BENCH_JAR) '$(BENCH_FILTER)' $(1) -rf json -rff $(3).json 2>&1 | tee $(BENCH_TMP)/$(notdir $(3)).log
	@$(BENCH_JVM) -cp $(BENCH_JAR) dev.rbee.hive.monitor.bench.BenchCgroups
	$(if $(filter run,$(6)),@echo "== heartbeat in the VM ($(3)-vm.json)",$(if $(6),@echo "== heartbeat in the VM: not run (BENCH_VM=$(6)); the report shows $(3)-vm.json as it was",@rm -f $(3)-vm.json))
	$(if $(filter run,$(6)),-$(call bench-vm-run,$(3)-vm.json))
	$(BENCH_JVM) -cp $(BENCH_JAR) dev.rbee.hive.monitor.bench.Report $(3).json $(3)-floor.json "$(4)" > $(3).md
	@echo; cat $(3).md; echo; echo "written: $(3).json $(3)-floor.json $(3).md"
endef

bench: bench-build
	$(call bench-run,$(BENCH_JMH_FULL),$(BENCH_C_FULL),$(BENCH_RES)/latest,make bench,$(BENCH_LIFE_FULL),$(BENCH_VM))

bench-quick: bench-build
	$(call bench-run,$(BENCH_JMH_QUICK),$(BENCH_C_QUICK),$(BENCH_TMP)/quick,make bench-quick,$(BENCH_LIFE_QUICK))

bench-vm: bench-build
	$(call bench-vm-run,$(BENCH_RES)/latest-vm.json)
	$(BENCH_JVM) -cp $(BENCH_JAR) dev.rbee.hive.monitor.bench.Report --vm $(BENCH_RES)/latest-vm.json

bench-clean:
	rm -rf $(BENCH_DIR)/c/build $(BENCH_TMP)
