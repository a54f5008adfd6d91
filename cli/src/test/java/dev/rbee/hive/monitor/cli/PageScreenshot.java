package dev.rbee.hive.monitor.cli;

import dev.rbee.hive.monitor.ProcessMonitor;
import dev.rbee.hive.monitor.Worker;
import dev.rbee.hive.monitor.model.WorkerSpec;
import dev.rbee.hive.monitor.testing.TestEnv;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Not a check: makes the README's screenshot of the live page (three workers,
 * a minute of data, one stopped through its button).  Runs only when asked:
 * {@code mvn -pl cli -am verify -Dtest=PageScreenshot -Dsurefire.failIfNoSpecifiedTests=false -Drbee.screenshot=$PWD/docs/serve-page.png}.
 */
@EnabledIfSystemProperty(named = "rbee.screenshot", matches = ".+", disabledReason = "makes the README screenshot only when -Drbee.screenshot=FILE is given")
class PageScreenshot {
    @Test
    void screenshot(@TempDir Path dir) throws Exception {
        // Unique names, like every test: a real "llm" group on this machine is not ours to touch.
        String group = TestEnv.uniqueGroup("llm"), hive = TestEnv.uniqueGroup("hive");
        ProcessMonitor monitor = TestEnv.monitor();
        List<Worker> ws = List.of(
                monitor.spawn(WorkerSpec.command("/bin/sh", "-c", "while :; do :; done", "llama-server", "--model", "llama-3.2-1b")
                        .withMonitoring(group, "8080").build()),
                monitor.spawn(WorkerSpec.command("/bin/sh", "-c", "while :; do sleep 0.002; done", "llama-server", "--model", "qwen2.5-7b")
                        .withMonitoring(group, "8081").build()),
                monitor.spawn(WorkerSpec.command("/bin/sleep", "600").withMonitoring(hive, "main").build()));
        try (Server s = Server.start(monitor, new Server.Options().bind(InetAddress.getLoopbackAddress()).port(0)
                .allowControl(true).hiveId("gpu-node-1").gpu(false));
             Chromium browser = new Chromium(Chromium.binary().orElseThrow(), dir)) {
            browser.navigate("http://127.0.0.1:" + s.port() + "/");
            Thread.sleep(40_000);
            String button = "document.querySelector('button[data-stop=\"" + group + "/8081\"]')";
            browser.eval(button + ".click()");
            browser.eval(button + ".click()");
            Thread.sleep(15_000);
            Files.write(Path.of(System.getProperty("rbee.screenshot")), browser.screenshot());
        } finally {
            for (Worker w : ws) if (w.isAlive()) w.stop(Duration.ofSeconds(1));
            TestEnv.destroyTree(TestEnv.cgroupMount().resolve("rbee.slice").resolve(group));
            TestEnv.destroyTree(TestEnv.cgroupMount().resolve("rbee.slice").resolve(hive));
        }
    }
}
