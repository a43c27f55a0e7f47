package dev.meshwork.launcher;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.osgi.framework.Bundle;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.util.tracker.ServiceTracker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * {@code java -jar meshwork.jar}: reads the configuration, starts the framework with every
 * Meshwork bundle, prints where the node listens, and stops cleanly on SIGTERM or Ctrl-C.
 *
 * <p>Configuration is read before the framework starts (Commons Configuration stays outside
 * OSGi, where its bean utilities and class loading just work), so a bad file is a one-line error
 * before anything binds a port.
 */
public final class Main {

    private static final String NODE_PID = "dev.meshwork.node";
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(15);
    private static final long STOP_TIMEOUT_MILLIS = 15_000;

    private Main() {
    }

    public static void main(String[] args) {
        int code = run(List.of(args), System.out, System.err);
        System.exit(code);
    }

    static int run(List<String> args, PrintStream out, PrintStream err) {
        LaunchOptions options;
        try {
            options = LaunchOptions.parse(args);
        } catch (LaunchException e) {
            err.println("meshwork: " + e.getMessage());
            return e.exitCode();
        }
        if (options.help()) {
            out.println(LaunchOptions.USAGE);
            return 0;
        }
        configureLogging(options.logLevel());
        if (options.command().equals("config-reference")) {
            try {
                out.print(ConfigReference.markdown(MetatypeCatalog.read(options.runtime().isPresent()
                        ? EmbeddedBundles.list(options.runtime().get()) : EmbeddedBundles.list())));
                return 0;
            } catch (LaunchException e) {
                err.println("meshwork: " + e.getMessage());
                return e.exitCode();
            }
        }
        if (options.command().equals("export-runtime")) {
            try {
                Path dir = options.exportTo().orElseThrow();
                int n = EmbeddedBundles.export(dir);
                out.println("wrote " + n + " bundles to " + dir + "; remove what you do not need and run with --runtime " + dir);
                return 0;
            } catch (LaunchException e) {
                err.println("meshwork: " + e.getMessage());
                return e.exitCode();
            }
        }
        if (options.command().equals("demo")) {
            return runDemo(options, out, err);
        }
        try {
            if (options.command().equals("identity")) {
                return printIdentity(options, out);
            }
            return runNode(options, out);
        } catch (LaunchException e) {
            err.println("meshwork: " + e.getMessage());
            return e.exitCode();
        }
    }

    private static void configureLogging(String level) {
        // slf4j-simple reads these once, at its first logger: set them before anything logs.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", level);
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
        System.setProperty("org.slf4j.simpleLogger.showShortLogName", "true");
        System.setProperty("org.slf4j.simpleLogger.showThreadName", "false");
        System.setProperty("org.slf4j.simpleLogger.levelInBrackets", "true");
    }

    /** The configuration of a node as the command line, file, environment and system properties give it. */
    private record Setup(List<EmbeddedBundles.Entry> bundles, MetatypeCatalog catalog, ConfigSources sources,
            NodeConfiguration.Resolved config, Path dataDir) {
    }

    private static Setup setup(LaunchOptions options) throws LaunchException {
        List<EmbeddedBundles.Entry> bundles = options.runtime().isPresent()
                ? EmbeddedBundles.list(options.runtime().get()) : EmbeddedBundles.list();
        MetatypeCatalog catalog = MetatypeCatalog.read(bundles);
        ConfigSources sources = new ConfigSources(options.config(), System.getenv(), System.getProperties());
        NodeConfiguration.Resolved config = NodeConfiguration.resolve(sources.read(), catalog);
        Path dataDir = options.dataDir().or(config::dataDir).orElse(Path.of("data")).toAbsolutePath().normalize();
        prepareDirectory(dataDir, "data directory");
        return new Setup(bundles, catalog, sources, config, dataDir);
    }

    private static int runNode(LaunchOptions options, PrintStream out) throws LaunchException {
        Setup setup = setup(options);
        // Before anything else touches the directory: a second node on it is refused here, having
        // changed nothing (Felix would clean felix-cache/ at its first init).
        try (DataDirectoryLock owner = DataDirectoryLock.acquire(setup.dataDir())) {
            prepareDirectory(options.bundlesDir().toAbsolutePath(), "bundles directory");
            return runFramework(options, out, setup.bundles(), setup.catalog(), setup.sources(), setup.config(), setup.dataDir());
        }
    }

    /** {@code identity}: the node's keys without starting it; refused while a node owns the directory. */
    private static int printIdentity(LaunchOptions options, PrintStream out) throws LaunchException {
        Setup setup = setup(options);
        Optional<String> configuredId = Optional.ofNullable(setup.config().pids().get(PidKey.singleton(NODE_PID)))
                .map(node -> node.get("id")).map(id -> String.valueOf(id).trim()).filter(id -> !id.isEmpty());
        try (DataDirectoryLock owner = DataDirectoryLock.acquire(setup.dataDir())) {
            NodeKeys keys = NodeKeys.loadOrCreate(setup.dataDir().resolve("identity"), configuredId);
            out.println("node: " + keys.nodeId());
            out.println("publicKey: " + keys.publicKey());
            out.flush();
            return 0;
        }
    }

    private static int runFramework(LaunchOptions options, PrintStream out, List<EmbeddedBundles.Entry> bundles,
            MetatypeCatalog catalog, ConfigSources sources, NodeConfiguration.Resolved config, Path dataDir) throws LaunchException {
        Logger log = LoggerFactory.getLogger(Main.class);
        MeshworkFramework framework = MeshworkFramework.create(dataDir, options.bundlesDir(), options.shell(), options.logLevel());
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            framework.stop(STOP_TIMEOUT_MILLIS);
            stopped.countDown();
        }, "meshwork-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        // SIGTERM and Ctrl-C stop the framework and end with exit code 0: a deliberate stop is
        // not a failure. Without a handler the JVM would exit with 143/130.
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(name), signal -> new Thread(() -> {
                    log.info("SIG{} received: stopping", name);
                    framework.stop(STOP_TIMEOUT_MILLIS);
                }, "meshwork-signal").start());
            } catch (IllegalArgumentException e) {
                log.debug("signal {} not available here", name);
            }
        }

        ConfigWatcher watcher = null;
        try {
            List<Bundle> installed = framework.install(bundles, options.shell());
            ServiceTracker<ConfigurationAdmin, ConfigurationAdmin> tracker =
                    new ServiceTracker<>(framework.context(), ConfigurationAdmin.class, null);
            tracker.open();
            ConfigurationAdmin admin = tracker.waitForService(5_000);
            if (admin == null) {
                throw new LaunchException(LaunchException.STARTUP, "ConfigAdmin did not start");
            }
            ConfigAdminFeeder feeder = new ConfigAdminFeeder(admin);
            feeder.apply(config.pids());
            framework.startBundles(installed);
            new StartupReport(framework.context()).await(STARTUP_TIMEOUT).ifPresent(line -> {
                out.println(line);
                out.flush();
            });
            if (sources.builder().isPresent()) {
                watcher = new ConfigWatcher(sources, catalog, feeder::apply).start(1_000);
            }
            framework.awaitStop();
        } catch (LaunchException e) {
            framework.stop(STOP_TIMEOUT_MILLIS);
            throw e;
        } catch (IOException e) {
            framework.stop(STOP_TIMEOUT_MILLIS);
            throw new LaunchException(LaunchException.STARTUP, "cannot store configuration: " + ConfigSources.oneLine(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            framework.stop(STOP_TIMEOUT_MILLIS);
        } finally {
            if (watcher != null) {
                watcher.close();
            }
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // Already shutting down: the hook is stopping the framework; wait for it.
            try {
                stopped.await(STOP_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
        }
        log.info("node stopped");
        return 0;
    }

    private static int runDemo(LaunchOptions options, PrintStream out, PrintStream err) {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path jar;
        try {
            jar = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            err.println("meshwork: cannot locate meshwork.jar for the demo's nodes");
            return LaunchException.STARTUP;
        }
        if (!jar.toString().endsWith(".jar")) {
            err.println("meshwork: the demo runs from the packaged meshwork.jar");
            return LaunchException.USAGE;
        }
        Path root = options.dataDir().orElse(Path.of("demo-data")).toAbsolutePath();
        dev.meshwork.launcher.demo.Demo demo = new dev.meshwork.launcher.demo.Demo(out, java, jar, root);
        CountDownLatch stop = new CountDownLatch(1);
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(name), signal -> stop.countDown());
            } catch (IllegalArgumentException ignored) {
                // not available on this platform
            }
        }
        // A JVM exit for any other reason still takes the children down.
        Runtime.getRuntime().addShutdownHook(new Thread(demo::shutdown, "meshwork-demo-shutdown"));
        try {
            demo.run(stop);
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        } catch (Exception e) {
            err.println("meshwork: demo failed: " + ConfigSources.oneLine(e));
            return LaunchException.STARTUP;
        }
    }

    private static void prepareDirectory(Path dir, String what) throws LaunchException {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new LaunchException(LaunchException.CONFIG, "cannot create the " + what + " " + dir + ": " + ConfigSources.oneLine(e));
        }
        if (!Files.isWritable(dir)) {
            throw new LaunchException(LaunchException.CONFIG, "the " + what + " " + dir + " is not writable");
        }
    }

}
