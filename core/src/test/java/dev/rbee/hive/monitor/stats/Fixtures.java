package dev.rbee.hive.monitor.stats;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/** The fixture trees of src/test/resources/fixtures (see its README), copied out as regular files. */
final class Fixtures {
    private Fixtures() {}

    static Path root() {
        try {
            return Path.of(Fixtures.class.getResource("/fixtures").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Copies the trees into {@code target}, later ones over earlier ones (base, then overlays). */
    static Path copy(Path target, String... trees) throws IOException {
        Files.createDirectories(target);
        for (String tree : trees) {
            try (Stream<Path> files = Files.list(root().resolve(tree))) {
                files.forEach(f -> {
                    try {
                        Files.copy(f, target.resolve(f.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
        }
        return target;
    }
}
