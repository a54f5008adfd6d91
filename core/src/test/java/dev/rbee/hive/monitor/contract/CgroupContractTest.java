package dev.rbee.hive.monitor.contract;

import dev.rbee.hive.monitor.model.Backend;
import dev.rbee.hive.monitor.ProcessMonitor;

/** The contract on the cgroup2 backend (this host's cgroup2, no controllers). */
class CgroupContractTest extends BackendContract {
    @Override
    ProcessMonitor newMonitor() throws Exception {
        return ProcessMonitor.create();
    }

    @Override
    Backend.Kind expectedKind() {
        return Backend.Kind.CGROUP2;
    }
}
