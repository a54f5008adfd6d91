package dev.rbee.hive.monitor.contract;

import dev.rbee.hive.monitor.model.Backend;
import dev.rbee.hive.monitor.ProcessMonitor;

/**
 * The contract on the process-tree backend: forced here, and (with
 * -Drbee.contract.auto=true) chosen by the monitor itself, as for a user
 * without cgroup access: {@link NonRootProcTreeTest} runs this class as nobody.
 */
public class ProcTreeContractTest extends BackendContract {
    @Override
    ProcessMonitor newMonitor() throws Exception {
        return Boolean.getBoolean("rbee.contract.auto") ? ProcessMonitor.create()
                : ProcessMonitor.builder().backend(Backend.Kind.PROCTREE).build();
    }

    @Override
    Backend.Kind expectedKind() {
        return Backend.Kind.PROCTREE;
    }
}
