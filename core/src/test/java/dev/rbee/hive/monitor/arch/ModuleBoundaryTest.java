package dev.rbee.hive.monitor.arch;

import dev.rbee.hive.monitor.ProcessMonitor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.File;
import java.io.IOException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The module boundary as a consumer on the module path sees it: the built module
 * (core's compiled classes, an exploded module with its module-info.class) exports
 * the facade, the values and the wire format, and nothing else.  The tests themselves
 * run on the class path, so this compiles a small consumer module with javac.
 */
class ModuleBoundaryTest {
    private static final String MODULE = "dev.rbee.hive.monitor";
    /** Every package that is implementation, with a public type in it to import. */
    private static final List<String> INTERNAL = List.of(
            "dev.rbee.hive.monitor.internal.Libc",
            "dev.rbee.hive.monitor.backend.Life",
            "dev.rbee.hive.monitor.backend.cgroup2.CgroupBackend",
            "dev.rbee.hive.monitor.backend.proctree.ProcTreeBackend",
            "dev.rbee.hive.monitor.backend.portable.PortableBackend",
            "dev.rbee.hive.monitor.cgroup.CgroupTree",
            "dev.rbee.hive.monitor.stats.StatsCollector",
            "dev.rbee.hive.monitor.read.KeptOpenFile",
            "dev.rbee.hive.monitor.spawn.Spawner",
            "dev.rbee.hive.monitor.proc.ProcessTable",
            "dev.rbee.hive.monitor.gpu.GpuSampler",
            "dev.rbee.hive.monitor.portable.PortableSource");

    private static String modulePath;

    @BeforeAll
    static void modulePath() throws Exception {
        Path classes = Path.of(ProcessMonitor.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertTrue(Files.exists(classes.resolve("module-info.class")), classes + " has no module-info.class");
        List<String> path = new ArrayList<>(List.of(classes.toString()));
        path.addAll(PackageCyclesTest.requiredJars());
        modulePath = String.join(File.pathSeparator, path);
    }

    @Test
    void exportsExactlyTheApi() throws Exception {
        Path classes = Path.of(ProcessMonitor.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        ModuleDescriptor d = ModuleFinder.of(classes).find(MODULE).orElseThrow().descriptor();
        Set<String> exported = d.exports().stream().map(ModuleDescriptor.Exports::source).collect(Collectors.toSet());
        assertEquals(Set.of(MODULE, MODULE + ".model", MODULE + ".json"), exported);
        assertTrue(d.exports().stream().noneMatch(ModuleDescriptor.Exports::isQualified), d.exports().toString());
        for (String cls : INTERNAL) {
            String pkg = cls.substring(0, cls.lastIndexOf('.'));
            assertTrue(d.packages().contains(pkg), pkg + " is not in the module any more: update INTERNAL");
        }
    }

    @Test
    void aConsumerCompilesAgainstTheApi(@TempDir Path dir) throws IOException {
        List<Diagnostic<? extends JavaFileObject>> errors = compileConsumer(dir, """
                import dev.rbee.hive.monitor.ProcessMonitor;
                import dev.rbee.hive.monitor.Sampler;
                import dev.rbee.hive.monitor.Worker;
                import dev.rbee.hive.monitor.json.Wire;
                import dev.rbee.hive.monitor.model.Limits;
                import dev.rbee.hive.monitor.model.Snapshot;
                import dev.rbee.hive.monitor.model.WorkerSpec;

                class Use {
                    static String use(ProcessMonitor m, Snapshot s) throws Exception {
                        WorkerSpec spec = WorkerSpec.command("true").withMonitoring("g", "1")
                                .limits(Limits.builder().pidsMax(8).build()).build();
                        Worker w = m.spawn(spec);
                        Sampler sampler = m.sampler().start();
                        sampler.close();
                        return w.toString() + Wire.json(Wire.hiveTelemetry("h", s));
                    }
                }
                """);
        assertEquals(List.of(), errors.stream().<String>map(d -> d.getMessage(null)).toList());
    }

    @Test
    void aConsumerCannotImportAnInternalPackage(@TempDir Path dir) throws IOException {
        StringBuilder src = new StringBuilder();
        for (String cls : INTERNAL) src.append("import ").append(cls).append(";\n");
        src.append("class Use {}\n");
        List<String> messages = compileConsumer(dir, src.toString()).stream().<String>map(d -> d.getMessage(null)).toList();
        for (String cls : INTERNAL) {
            String pkg = cls.substring(0, cls.lastIndexOf('.'));
            assertTrue(messages.stream().anyMatch(m -> m.contains("package " + pkg + " is not visible")
                            || m.contains(pkg) && m.contains("does not export")),
                    pkg + " was importable; javac said: " + messages);
        }
        assertFalse(messages.isEmpty());
    }

    /** Compiles module {@code consumer} (requires the library) with {@code body} as its one class. */
    private static List<Diagnostic<? extends JavaFileObject>> compileConsumer(Path dir, String body) throws IOException {
        Path src = dir.resolve("src"), out = dir.resolve("out");
        Files.createDirectories(src.resolve("consumer"));
        Files.createDirectories(out);
        Files.writeString(src.resolve("module-info.java"), "module consumer { requires " + MODULE + "; }\n");
        Files.writeString(src.resolve("consumer/Use.java"), "package consumer;\n\n" + body);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diags = new DiagnosticCollector<>();
        try (StandardJavaFileManager fm = javac.getStandardFileManager(diags, null, null)) {
            var units = fm.getJavaFileObjects(src.resolve("module-info.java"), src.resolve("consumer/Use.java"));
            List<String> options = List.of("--module-path", modulePath, "-d", out.toString(), "-proc:none");
            javac.getTask(null, fm, diags, options, null, units).call();
        }
        return diags.getDiagnostics().stream().filter(d -> d.getKind() == Diagnostic.Kind.ERROR).toList();
    }
}
