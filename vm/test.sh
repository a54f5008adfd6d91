#!/usr/bin/env bash
# The VM suite: runs the JUnit tests tagged "vm" (core/src/test/java/dev/rbee/
# hive/monitor/vm) inside the QEMU guest, as root on a pure cgroup v2 system,
# with the host's built classes and JDK, in one JVM.
# With VM_SUITE=systemd, the guest boots systemd as PID 1 (vm/init-systemd.sh)
# and the JVM, started by a oneshot service, runs the tests tagged "systemd"
# (package dev.rbee.hive.monitor.vm.systemd); /usr/local/bin/rbee-mon runs the
# built CLI (cli/target/rbee-mon.jar) there.
# Usage: vm/test.sh CACHE_DIR          (what `make vm-test` runs;
#        VM_SUITE=systemd vm/test.sh CACHE_DIR: what `make vm-test-systemd` runs)
# Needs: the project built (mvn install/package -DskipTests: core/target/classes,
#        test-classes, vm-classpath.txt, vm/junit-platform-console-standalone-*.jar,
#        native-launcher/build); the guest image is built/cached by vm/build.sh.
# Env:
#   VM_SUITE=vm or systemd          which suite (default vm)
#   VM_TAG=TAG                      run the tests tagged TAG instead of the suite's
#                                   (systemd-figures: the opt-in figures of the
#                                   systemd suite, see vm/README.md)
#   VM_TEST=Class or Class#method   run one test class or method (simple names
#                                   are looked up in the suite's package); several
#                                   comma-separated
#   VM_TEST_TIMEOUT=SECONDS         whole VM run (default 600; systemd suite 1200)
#   RBEE_SKIP_VM=1                  where QEMU cannot run at all: say so and
#                                   exit 0 instead of failing
#   VM_JAVA_OPTS                    extra options for the guest's test JVM
#   JAVA_HOME                       the JDK the guest runs (default: bin/find-jdk)
# Output: the guest's console, then "vm: N passed, N failed, N skipped"
#         ("vm-systemd: ..." for the systemd suite).
# Reports: core/target/vm-reports/ (vm-systemd-reports/ for the systemd suite:
#          JUnit XML and the console log).
# Exit status: 0 only if the VM ran, at least one test ran and none failed.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 CACHE_DIR" >&2
    exit 2
fi
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$1"
CACHE=$(cd "$1" && pwd)
case ${VM_SUITE:-vm} in
    vm) SUITE=vm TAG=vm PKG=dev.rbee.hive.monitor.vm INIT=busybox ;;
    systemd) SUITE=vm-systemd TAG=systemd PKG=dev.rbee.hive.monitor.vm.systemd INIT=systemd ;;
    *) echo "vm-test: VM_SUITE=$VM_SUITE: expected vm or systemd" >&2; exit 2 ;;
esac
TAG=${VM_TAG:-$TAG}
# The figures (spawn cost, adoption) take minutes under emulation: only when asked for with VM_TAG=systemd-figures.
exclude_args=()
[[ $TAG != systemd ]] || exclude_args=(--exclude-tag systemd-figures)
[[ $TAG =~ ^[A-Za-z0-9_-]+$ ]] || { echo "vm-test: VM_TAG=$TAG: expected a tag name" >&2; exit 2; }
REPORTS=$REPO/core/target/$SUITE-reports
# The systemd suite starts ~15 JVMs in the guest, each up to a minute on a loaded host.
if [[ $SUITE == vm-systemd ]]; then TIMEOUT_S=${VM_TEST_TIMEOUT:-1200}; else TIMEOUT_S=${VM_TEST_TIMEOUT:-600}; fi

log() { echo "vm-test: $*" >&2; }
die() { echo "vm-test: ERROR: $*" >&2; exit 1; }

# --- 1. can QEMU run here at all? ---------------------------------------------
cannot_run() {
    if [[ ${RBEE_SKIP_VM:-} == 1 ]]; then
        echo "################################################################" >&2
        echo "## vm-test: SKIPPED (RBEE_SKIP_VM=1): $*" >&2
        echo "## The VM suite did NOT run: limits, OOM, pids, io and delegation" >&2
        echo "## are untested on this machine." >&2
        echo "################################################################" >&2
        echo "$SUITE: SKIPPED"
        exit 0
    fi
    echo "################################################################" >&2
    echo "## vm-test: FAILED: QEMU cannot run: $*" >&2
    echo "## Fix it (see vm/build.sh), or set RBEE_SKIP_VM=1 explicitly to" >&2
    echo "## skip the VM suite on a machine that cannot run QEMU." >&2
    echo "################################################################" >&2
    exit 1
}
if ! "$REPO/vm/build.sh" "$CACHE"; then
    cannot_run "the guest image could not be built (vm/build.sh $CACHE failed, see above)"
fi
if ! qemu_version=$(qemu-system-x86_64 --version 2>&1 | head -n1); then
    cannot_run "qemu-system-x86_64 does not start: $qemu_version"
fi

# --- 2. what the guest runs -----------------------------------------------------
JAVA_HOME=${JAVA_HOME:-$("$REPO/bin/find-jdk" 2>/dev/null || true)}
[[ -n $JAVA_HOME && -x $JAVA_HOME/bin/java ]] || die "no JDK: set JAVA_HOME (a JDK >= 22)"
JAVA_HOME=$(cd "$JAVA_HOME" && pwd -P)

need() { [[ -e $1 ]] || die "missing $1: build the project first (make build, or mvn package -DskipTests)"; }
need "$REPO/core/target/classes/dev/rbee/hive/monitor/ProcessMonitor.class"
need "$REPO/core/target/test-classes/dev/rbee/hive/monitor/vm"
need "$REPO/core/target/vm-classpath.txt"
need "$REPO/native-launcher/build/rbee-launch"
need "$REPO/native-launcher/build/test/vm-helper"
need "$REPO/native-launcher/build/test/race-fork"
cli_jar=$REPO/cli/target/rbee-mon.jar
[[ $SUITE != vm-systemd ]] || need "$cli_jar"
# the newest, should an older copy still lie there
console_jar=$(ls -1 "$REPO"/core/target/vm/junit-platform-console-standalone-*.jar 2>/dev/null | sort -V | tail -n1 || true)
[[ -n $console_jar ]] || die "missing core/target/vm/junit-platform-console-standalone-*.jar: build the project first (mvn package -DskipTests)"

# The guest sees the host's files at the same paths (/tmp too).
cp_test="$REPO/core/target/classes:$REPO/core/target/test-classes:$REPO/native-launcher/build/classpath"
deps=$(cat "$REPO/core/target/vm-classpath.txt")
[[ -z $deps ]] || cp_test="$cp_test:$deps"
if [[ $SUITE == vm-systemd ]]; then
    # The libraries outside the checkout (~/.m2, often private) are staged beside the build,
    # readable by all, so that the guest need not copy them for uid 65534 (seconds under TCG).
    ulib_dir=$REPO/core/target/vm/systemd-lib
    rm -rf "$ulib_dir" && mkdir -p "$ulib_dir"
    ulib_host=
    for f in $console_jar ${deps//:/ }; do
        if [[ $f != "$REPO"/* ]]; then cp "$f" "$ulib_dir/" && f=$ulib_dir/$(basename "$f"); fi
        ulib_host=$ulib_host:$f
    done
    ulib_host=${ulib_host#:}
    chmod -R a+rX "$ulib_dir"
fi

# The systemd suite reports each test as it ends and bounds each one, so that a
# hang shows which test it was instead of only a timeout of the whole VM run.
DETAILS=tree timeout_args=()
[[ $SUITE != vm-systemd ]] || { DETAILS=testfeed; timeout_args=(--config=junit.jupiter.execution.timeout.default=480s); }
select_args=(--select-package "$PKG")
if [[ -n ${VM_TEST:-} ]]; then
    select_args=()
    for what in ${VM_TEST//,/ }; do
        [[ $what =~ ^[A-Za-z0-9_.$]+(#[A-Za-z0-9_]+)?$ ]] || die "VM_TEST=$VM_TEST: expected Class or Class#method, comma-separated"
        [[ ${what%%#*} == *.* ]] || what=$PKG.$what
        if [[ $what == *#* ]]; then select_args+=(--select-method "$what"); else select_args+=(--select-class "$what"); fi
    done
fi

guest_script=$(mktemp "${TMPDIR:-/tmp}/rbee-vm-test.XXXXXX")
mkdir -p "$CACHE/runs"
RUN_DIR=$(mktemp -d "$CACHE/runs/$SUITE-test-$(date +%Y%m%d-%H%M%S).XXXXXX")
trap 'rm -f "$guest_script"' EXIT

q() { printf '%q' "$1"; }
{
    echo '#!/bin/bash'
    echo '# Generated by vm/test.sh; runs inside the guest as root.'
    echo 'set -u'
    echo "cd $(q "$REPO")"
    # The JVM's temp files go to the overlay (in guest memory), out of the host's way.
    echo 'mkdir -p /var/tmp/rbee-vm /vmrun/reports'
    # The delegation test runs a JVM as uid 65534 (nobody): it needs the classes,
    # the launcher and vm-helper readable by that user.  Where the host's copies
    # are not (a private home directory), it gets world-readable guest copies.
    echo "ucp=$(q "$REPO/core/target/classes:$REPO/core/target/test-classes")"
    echo "ulauncher=$(q "$REPO/native-launcher/build/rbee-launch")"
    echo "uhelper=$(q "$REPO/native-launcher/build/test/vm-helper")"
    echo "if ! setpriv --reuid=65534 --regid=65534 --clear-groups test -r $(q "$REPO/core/target/test-classes/dev/rbee/hive/monitor/vm/DelegatedSpawnMain.class") \\"
    echo "        -a -r $(q "$REPO/core/target/classes/dev/rbee/hive/monitor/ProcessMonitor.class") -a -x \"\$ulauncher\" \\"
    echo "        -a -x \"\$uhelper\" 2>/dev/null; then"
    echo "    mkdir -p /opt/rbee-vm"
    echo "    cp -R $(q "$REPO/core/target/classes") /opt/rbee-vm/classes"
    echo "    cp -R $(q "$REPO/core/target/test-classes") /opt/rbee-vm/test-classes"
    echo "    cp $(q "$REPO/native-launcher/build/rbee-launch") $(q "$REPO/native-launcher/build/test/vm-helper") /opt/rbee-vm/"
    echo "    chmod -R a+rX /opt/rbee-vm"
    echo "    ucp=/opt/rbee-vm/classes:/opt/rbee-vm/test-classes ulauncher=/opt/rbee-vm/rbee-launch uhelper=/opt/rbee-vm/vm-helper"
    echo "    echo 'vm-test: the build is not readable by uid 65534: copied to /opt/rbee-vm for the delegation test'"
    echo "fi"
    if [[ $SUITE == vm-systemd ]]; then
        # The systemd suite's unprivileged supervisors (uid 65534 in a Delegate=yes
        # unit) run the CLI jar and, for the race, the test classes with JUnit's
        # assertions and the library's dependencies: guest copies where the host's
        # are not readable by that user (dependencies under /root/.m2 never are).
        echo "ujar=$(q "$cli_jar") utestbin=$(q "$REPO/native-launcher/build/test") ulib=$(q "$ulib_host")"
        # One unprivileged shell names the files that user cannot read; only those are copied.
        echo "unreadable=\$(setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'for f in \"\$@\"; do test -r \"\$f\" || echo \"\$f\"; done' sh \\"
        echo "        \"\$ujar\" \"\$utestbin/race-fork\" \"\$utestbin/vm-helper\" \$(echo \"\$ulib\" | tr : ' ') 2>/dev/null)"
        echo "if [ -n \"\$unreadable\" ]; then"
        echo "    mkdir -p /opt/rbee-vm/sd"
        echo "    for f in \$unreadable; do cp \"\$f\" /opt/rbee-vm/sd/; done"
        echo "    chmod -R a+rX /opt/rbee-vm"
        echo "    case \"\$unreadable\" in *\"\$ujar\"*) ujar=/opt/rbee-vm/sd/\$(basename \"\$ujar\") ;; esac"
        echo "    case \"\$unreadable\" in *\"\$utestbin/\"*) mkdir -p /opt/rbee-vm/testbin; cp \"\$utestbin/race-fork\" \"\$utestbin/vm-helper\" /opt/rbee-vm/testbin/; chmod -R a+rX /opt/rbee-vm; utestbin=/opt/rbee-vm/testbin ;; esac"
        echo "    l=; for f in \$(echo \"\$ulib\" | tr : ' '); do case \" \$unreadable \" in *\" \$f \"*|*\"\$f\"*) f=/opt/rbee-vm/sd/\$(basename \"\$f\") ;; esac; l=\$l:\$f; done; ulib=\${l#:}"
        echo "    echo \"vm-test: not readable by uid 65534, copied to /opt/rbee-vm: \$(echo \$unreadable | wc -w) files\""
        echo "fi"
        # rbee-mon as bin/rbee-mon runs it, with the host's JDK.
        echo "cat >/usr/local/bin/rbee-mon <<EOF"
        echo "#!/bin/sh"
        echo "exec $(q "$JAVA_HOME/bin/java") --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -jar \$ujar \"\\\$@\""
        echo "EOF"
        echo "chmod 755 /usr/local/bin/rbee-mon"
    fi
    echo 'echo "vm-test: guest $(uname -r), $(nproc) cpus, $(grep MemTotal /proc/meminfo | tr -s " "), JVM starts at $(cut -d" " -f1 /proc/uptime) s"'
    # shellcheck disable=SC2086  # VM_JAVA_OPTS is a list of options
    printf '%q ' "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED ${VM_JAVA_OPTS:-} \
        -Djava.io.tmpdir=/var/tmp/rbee-vm -XX:ErrorFile=/vmrun/reports/hs_err_pid%p.log \
        "-Drbee.testbin=$REPO/native-launcher/build/test" \
        "-Drbee.launcher=$REPO/native-launcher/build/rbee-launch" \
        "-Drbee.test.classpath=$cp_test"
    # shellcheck disable=SC2016  # expanded by the guest's shell
    printf '%s ' '"-Drbee.vm.unprivileged.classpath=$ucp"' '"-Drbee.vm.unprivileged.launcher=$ulauncher"' \
        '"-Drbee.vm.unprivileged.helper=$uhelper"'
    if [[ $SUITE == vm-systemd ]]; then
        # shellcheck disable=SC2016
        printf '%s ' '"-Drbee.vm.unprivileged.testbin=$utestbin"' '"-Drbee.vm.unprivileged.lib=$ulib"'
        printf '%q ' "-Drbee.vm.java=$JAVA_HOME/bin/java"
    fi
    printf '%q ' -jar "$console_jar" execute \
        --disable-banner "--details=$DETAILS" --fail-if-no-tests "${timeout_args[@]}" \
        --exclude-engine=junit-vintage --exclude-engine=junit-platform-suite \
        --class-path "$cp_test" --include-tag "$TAG" "${exclude_args[@]}" "${select_args[@]}" \
        --reports-dir /vmrun/reports
    echo
} >"$guest_script"

# --- 3. boot and run ----------------------------------------------------------
log "running ${VM_TEST:-all tests tagged $TAG} in the VM ($INIT init, timeout ${TIMEOUT_S}s)"
start=$(date +%s)
set +e
VM_INIT=$INIT VM_RUN_DIR=$RUN_DIR "$REPO/vm/run.sh" "$CACHE" "$guest_script" "$TIMEOUT_S"
rc=$?
set -e
elapsed=$(( $(date +%s) - start ))

# --- 4. reports, summary ------------------------------------------------------
rm -rf "$REPORTS"
mkdir -p "$REPORTS"
[[ ! -d $RUN_DIR/reports ]] || cp -R "$RUN_DIR/reports/." "$REPORTS/"
[[ ! -f $RUN_DIR/console.log ]] || cp "$RUN_DIR/console.log" "$REPORTS/console.log"
chmod -R u+rwX,go+rX "$REPORTS"

case $rc in
    124) log "the VM run timed out after ${TIMEOUT_S}s (VM_TEST_TIMEOUT)" ;;
    125) log "the VM did not run the suite (boot failure or crash); see $REPORTS/console.log" ;;
esac

xml=$(ls -1 "$REPORTS"/TEST-*.xml 2>/dev/null || true)
attr() {   # attr NAME: summed over the <testsuite> elements of every XML report
    local total=0 f v
    for f in $xml; do
        v=$(grep -o "<testsuite [^>]*" "$f" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' | awk '{s+=$1} END {print s+0}')
        total=$((total + v))
    done
    echo "$total"
}
if [[ -z $xml ]]; then
    echo "$SUITE: 0 passed, 0 failed, 0 skipped (no JUnit report: the suite did not run; exit $rc, ${elapsed}s)"
    exit 1
fi
tests=$(attr tests); failures=$(attr failures); errors=$(attr errors); skipped=$(attr skipped)
failed=$((failures + errors))
passed=$((tests - failed - skipped))
echo "$SUITE suite: ${elapsed}s; reports in ${REPORTS#"$REPO"/}"
echo "$SUITE: $passed passed, $failed failed, $skipped skipped"
if [[ $tests -eq 0 ]]; then
    log "no test ran"
    exit 1
fi
if [[ $failed -ne 0 || $rc -ne 0 ]]; then
    [[ $rc -ne 0 ]] && log "guest exit status $rc"
    log "run dir kept: $RUN_DIR"
    exit 1
fi
rm -rf "$RUN_DIR"
exit 0
