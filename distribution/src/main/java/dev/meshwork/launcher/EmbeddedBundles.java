package dev.meshwork.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarInputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * The bundles shipped inside the launcher under {@code bundles/}: copied there by the build, read
 * from the jar when run with {@code java -jar}, or from the classes directory in tests.
 */
final class EmbeddedBundles {

    /** One embedded bundle jar. */
    record Entry(String fileName, String symbolicName, boolean fragment, Source source) {
        InputStream open() throws IOException {
            return source.open(fileName);
        }
    }

    @FunctionalInterface
    interface Source {
        InputStream open(String fileName) throws IOException;
    }

    private EmbeddedBundles() {
    }

    /** Lists the bundles of a custom runtime directory, sorted by file name. */
    static List<Entry> list(Path runtime) throws LaunchException {
        if (!Files.isDirectory(runtime)) {
            throw new LaunchException(LaunchException.CONFIG, "runtime directory " + runtime + " does not exist");
        }
        try {
            List<Entry> entries = fromDirectory(runtime);
            if (entries.isEmpty()) {
                throw new LaunchException(LaunchException.CONFIG, "runtime directory " + runtime + " has no bundles (*.jar)");
            }
            return entries;
        } catch (IOException | UncheckedIOException e) {
            throw new LaunchException(LaunchException.CONFIG, "cannot read runtime directory " + runtime + ": " + e.getMessage());
        }
    }

    /** Writes the embedded bundles into {@code dir}: the starting point of a custom distribution. */
    static int export(Path dir) throws LaunchException {
        List<Entry> entries = list();
        try {
            Files.createDirectories(dir);
            for (Entry entry : entries) {
                try (InputStream in = entry.open()) {
                    Files.copy(in, dir.resolve(entry.fileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException e) {
            throw new LaunchException(LaunchException.CONFIG, "cannot write the runtime to " + dir + ": " + e.getMessage());
        }
        return entries.size();
    }

    /** Lists the embedded bundles, sorted by file name. */
    static List<Entry> list() throws LaunchException {
        Path location;
        try {
            location = Path.of(EmbeddedBundles.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new LaunchException(LaunchException.STARTUP, "cannot locate the launcher jar: " + e.getMessage());
        }
        String override = System.getProperty("meshwork.bundles.dir");
        try {
            if (override != null) {
                return fromDirectory(Path.of(override));
            }
            if (Files.isDirectory(location)) {
                return fromDirectory(location.resolve("bundles"));
            }
            return fromJar(location);
        } catch (IOException | UncheckedIOException e) {
            throw new LaunchException(LaunchException.STARTUP, "cannot read the embedded bundles: " + e.getMessage());
        }
    }

    static List<Entry> fromDirectory(Path dir) throws IOException {
        List<Entry> entries = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".jar"))::iterator) {
                Manifest manifest;
                try (JarFile jar = new JarFile(file.toFile())) {
                    manifest = jar.getManifest();
                }
                entries.add(entry(file.getFileName().toString(), manifest, name -> Files.newInputStream(dir.resolve(name))));
            }
        }
        entries.sort(Comparator.comparing(Entry::fileName));
        return entries;
    }

    private static List<Entry> fromJar(Path launcherJar) throws IOException {
        List<Entry> entries = new ArrayList<>();
        try (JarFile jar = new JarFile(launcherJar.toFile())) {
            for (JarEntry e : (Iterable<JarEntry>) jar.stream()::iterator) {
                String name = e.getName();
                if (name.startsWith("bundles/") && name.endsWith(".jar") && name.indexOf('/', 8) < 0) {
                    Manifest manifest;
                    try (JarInputStream in = new JarInputStream(jar.getInputStream(e))) {
                        manifest = in.getManifest();
                    }
                    String fileName = name.substring("bundles/".length());
                    entries.add(entry(fileName, manifest, n -> {
                        InputStream in = EmbeddedBundles.class.getClassLoader().getResourceAsStream("bundles/" + n);
                        if (in == null) {
                            throw new IOException("missing embedded bundle " + n);
                        }
                        return in;
                    }));
                }
            }
        }
        entries.sort(Comparator.comparing(Entry::fileName));
        return entries;
    }

    private static Entry entry(String fileName, Manifest manifest, Source source) {
        String bsn = manifest == null ? null : manifest.getMainAttributes().getValue("Bundle-SymbolicName");
        String host = manifest == null ? null : manifest.getMainAttributes().getValue("Fragment-Host");
        String name = bsn == null ? fileName : bsn.split(";")[0].trim();
        return new Entry(fileName, name, host != null, source);
    }
}
