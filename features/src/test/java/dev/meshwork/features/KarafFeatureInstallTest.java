package dev.meshwork.features;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.systemTimeout;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.configureConsole;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFileExtend;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.karafDistributionConfiguration;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.logLevel;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.inject.Inject;
import org.apache.karaf.features.FeaturesService;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.karaf.options.LogLevelOption.LogLevel;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;

/**
 * The features repository installed into a real Apache Karaf 4.4.10 (the distribution from Maven
 * Central, started by Pax Exam in its own JVM): {@code feature:repo-add} of the built
 * {@code features.xml} and {@code feature:install meshwork} resolve, every Meshwork bundle becomes
 * ACTIVE and the node's services (Router, NodeIdentity, Outbox, HealthView) register.
 *
 * <p>The Meshwork bundles are this build's jars, offered to Karaf as an extra default Maven
 * repository (a plain directory layout, as Karaf's own {@code system/} folder); third-party
 * bundles come from the local Maven repository, Karaf's {@code scr} feature from Central.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class KarafFeatureInstallTest {

    private static final String MVN_CFG = "etc/org.ops4j.pax.url.mvn.cfg";
    private static final String LISTEN = "ws://127.0.0.1:0/karaf-itest";
    private static final List<String> SERVICES = List.of("dev.meshwork.api.router.Router",
            "dev.meshwork.api.router.NodeIdentity", "dev.meshwork.api.outbox.Outbox", "dev.meshwork.api.health.HealthView");

    @Inject
    private BundleContext context;

    @Inject
    private FeaturesService features;

    @Configuration
    public Option[] config() throws IOException {
        Path work = Files.createTempDirectory("meshwork-karaf");
        // the driver JVM outlives Karaf: remove the repository copy and the node's data with it
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try (Stream<Path> paths = Files.walk(work)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException | UncheckedIOException ignored) {
                // a temporary directory: the system cleans up what is left
            }
        }));
        Path repository = meshworkRepository(work.resolve("repository"));
        String karaf = Path.of(System.getProperty("meshwork.karaf.distribution")).toUri().toString();
        String localRepository = System.getProperty("maven.repo.local", System.getProperty("user.home") + "/.m2/repository");
        return new Option[] {
            karafDistributionConfiguration().frameworkUrl(karaf).karafVersion("4.4.10").name("Apache Karaf")
                    .unpackDirectory(new File(System.getProperty("meshwork.karaf.unpack", "target/karaf"))).useDeployFolder(false),
            configureConsole().ignoreLocalConsole().ignoreRemoteShell(),
            logLevel(LogLevel.WARN),
            systemTimeout(120_000),
            // the documented setup step: the console serves HTTP with the JDK's com.sun.net.httpserver,
            // which a stock Karaf does not export from its system bundle
            editConfigurationFileExtend("etc/config.properties", "org.osgi.framework.system.packages.extra", "com.sun.net.httpserver"),
            editConfigurationFilePut(MVN_CFG, "org.ops4j.pax.url.mvn.localRepository", localRepository),
            // Central only: Karaf's default list adds two snapshot repositories that answer slowly or not at all
            editConfigurationFilePut(MVN_CFG, "org.ops4j.pax.url.mvn.repositories", "https://repo1.maven.org/maven2@id=central"),
            editConfigurationFilePut(MVN_CFG, "org.ops4j.pax.url.mvn.defaultRepositories",
                    "${karaf.home.uri}${karaf.default.repository}@id=system.repository@snapshots,"
                            + repository.toUri() + "@id=meshwork.build@snapshots"),
            // the node's data and ports: nothing fixed that another build on the machine may hold
            editConfigurationFilePut("etc/system.properties", "meshwork.data.dir", work.resolve("data").toString()),
            // the test method runs inside Karaf's JVM: it learns the built features.xml from here
            editConfigurationFilePut("etc/system.properties", "meshwork.features.xml", Path.of(System.getProperty(
                    "meshwork.features.xml", "target/feature/features.xml")).toAbsolutePath().toString()),
            // port 0: the router binds a free port; the path is this test's own, so a listener on it
            // can only come from this file
            editConfigurationFilePut("etc/dev.meshwork.node.cfg", "listen", LISTEN),
            editConfigurationFilePut("etc/system.properties", "meshwork.itest.listen", LISTEN),
            editConfigurationFilePut("etc/dev.meshwork.console.cfg", "port", "0"),
        };
    }

    /** This build's Meshwork jars in a Maven directory layout: dev/meshwork/ARTIFACT/VERSION/FILE. */
    private static Path meshworkRepository(Path root) throws IOException {
        Path bundles = Path.of(System.getProperty("meshwork.repository.bundles", "target/repository/bundles"));
        try (Stream<Path> files = Files.list(bundles)) {
            for (Path jar : files.filter(p -> p.getFileName().toString().matches("meshwork-.*-\\d.*\\.jar")).toList()) {
                String name = jar.getFileName().toString();
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("(meshwork-[a-z-]+?)-(\\d.*)\\.jar").matcher(name);
                if (!m.matches()) {
                    continue;
                }
                Path dir = Files.createDirectories(root.resolve("dev/meshwork").resolve(m.group(1)).resolve(m.group(2)));
                Files.copy(jar, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return root;
    }


    @Test
    public void theMeshworkFeatureInstallsIntoKarafAndTheNodeComesUp() throws Exception {
        URI repository = Path.of(System.getProperty("meshwork.features.xml")).toUri();
        features.addRepository(repository);
        features.installFeature("meshwork");
        assertTrue("the meshwork feature is installed", features.isInstalled(features.getFeature("meshwork")));

        List<String> meshwork = new ArrayList<>();
        List<String> notActive = new ArrayList<>();
        for (Bundle bundle : context.getBundles()) {
            String bsn = bundle.getSymbolicName();
            boolean fragment = bundle.getHeaders().get(Constants.FRAGMENT_HOST) != null;
            if (bsn != null && bsn.startsWith("dev.meshwork.")) {
                meshwork.add(bsn);
            }
            if (!fragment && bundle.getState() != Bundle.ACTIVE && bsn != null && (bsn.startsWith("dev.meshwork.") || bsn.startsWith("io.netty."))) {
                notActive.add(bsn + " (state " + bundle.getState() + ")");
            }
        }
        meshwork.sort(null);
        assertEquals(List.of("dev.meshwork.api", "dev.meshwork.console", "dev.meshwork.health", "dev.meshwork.outbox.sqlite",
                "dev.meshwork.supervisor", "dev.meshwork.transport.multichannel", "dev.meshwork.transport.ws"), meshwork);
        assertTrue("bundles not active: " + notActive, notActive.isEmpty());

        for (String service : SERVICES) {
            long deadline = System.nanoTime() + 30_000_000_000L;
            ServiceReference<?> reference;
            while ((reference = context.getServiceReference(service)) == null && System.nanoTime() < deadline) {
                Thread.sleep(20); // poll of this condition wait
            }
            assertNotNull(service + " registered within 30 s", reference);
        }

        // the router took its configuration from Karaf's etc/dev.meshwork.node.cfg (ConfigAdmin):
        // it listens where that file says, on the port it bound for port 0 (reflection: the probe
        // does not wire to the api early)
        Object router = context.getService(context.getServiceReference("dev.meshwork.api.router.Router"));
        URI configured = URI.create(System.getProperty("meshwork.itest.listen"));
        long deadline = System.nanoTime() + 30_000_000_000L;
        List<?> listening;
        while (!boundAsConfigured(listening = (List<?>) router.getClass().getMethod("listenUris").invoke(router), configured)
                && System.nanoTime() < deadline) {
            Thread.sleep(20); // poll of this condition wait
        }
        assertTrue("the router listens as " + configured + " says, on a bound port: " + listening,
                boundAsConfigured(listening, configured));
    }

    /** A listener with the configured scheme, host and path, on the real port port 0 bound. */
    private static boolean boundAsConfigured(List<?> listening, URI configured) {
        return listening.stream().map(u -> (URI) u).anyMatch(u -> u.getScheme().equals(configured.getScheme())
                && u.getHost().equals(configured.getHost()) && u.getPath().equals(configured.getPath()) && u.getPort() > 0);
    }
}
