package dev.meshwork.itest;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.mavenBundle;
import static org.ops4j.pax.exam.CoreOptions.systemPackages;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.ops4j.pax.exam.Option;

/**
 * The Pax Exam options that make a Felix framework look like the packaged node: the same
 * bundles the launcher embeds (from the distribution's {@code target/classes/bundles}), plus the
 * OSGi API bundles the launcher would export from its own classpath.
 */
final class MeshworkRuntime {

    private MeshworkRuntime() {
    }

    static Option[] options(Predicate<String> includeFile) {
        List<Option> options = new ArrayList<>();
        options.add(junitBundles());
        options.add(cleanCaches());
        // the console serves HTTP with the JDK's server, exported by the launcher's system bundle too
        options.add(systemPackages("com.sun.net.httpserver"));
        options.add(frameworkProperty("felix.fileinstall.poll").value("200"));
        Path data;
        try {
            data = Files.createTempDirectory("meshwork-itest");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        options.add(frameworkProperty("meshwork.data.dir").value(data.toString()));
        options.add(systemProperty("meshwork.data.dir").value(data.toString()));
        try {
            Files.createDirectories(data.resolve("bundles"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        options.add(frameworkProperty("felix.fileinstall.dir").value(data.resolve("bundles").toString()));
        options.add(frameworkProperty("felix.fileinstall.noInitialDelay").value("true"));
        options.add(mavenBundle("org.osgi", "org.osgi.util.function", "1.2.0"));
        options.add(mavenBundle("org.osgi", "org.osgi.util.promise", "1.3.0"));
        options.add(mavenBundle("org.osgi", "org.osgi.service.component", "1.5.1"));
        options.add(mavenBundle("org.osgi", "org.osgi.service.cm", "1.6.1"));
        for (Path jar : bundleJars()) {
            if (includeFile.test(jar.getFileName().toString())) {
                options.add(isFragment(jar) ? bundle(jar.toUri().toString()).noStart() : bundle(jar.toUri().toString()));
            }
        }
        return options.toArray(Option[]::new);
    }

    static boolean isFragment(Path jar) {
        try (java.util.jar.JarFile file = new java.util.jar.JarFile(jar.toFile())) {
            return file.getManifest().getMainAttributes().getValue("Fragment-Host") != null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The bundles the launcher embeds, without the Gogo shell. */
    static List<Path> bundleJars() {
        Path dir = Path.of(System.getProperty("meshwork.bundles.dir", "target/classes/bundles"));
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.toString().endsWith(".jar"))
                    .filter(p -> !p.getFileName().toString().startsWith("org.apache.felix.gogo"))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("the distribution's bundles are missing: " + dir, e);
        }
    }
}
