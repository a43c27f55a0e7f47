package dev.meshwork.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts Apache Felix through the OSGi launch API and installs the embedded bundles.
 *
 * <p>The system bundle exports, from the launcher's own classpath, the packages the launcher
 * and the bundles must share: SLF4J (one logging configuration for both), ConfigAdmin and the
 * SCR runtime API (so the launcher feeds configuration and reads component failures with the
 * same classes the bundles see).
 */
final class MeshworkFramework {

    private static final Logger LOG = LoggerFactory.getLogger(MeshworkFramework.class);

    static final String SYSTEM_PACKAGES_EXTRA = String.join(",",
            "org.slf4j;version=1.7.36",
            "org.slf4j.spi;version=1.7.36",
            "org.slf4j.helpers;version=1.7.36",
            "org.osgi.service.cm;version=1.6.1",
            "org.osgi.service.component;version=1.5.1",
            "org.osgi.service.component.runtime;version=1.5",
            "org.osgi.service.component.runtime.dto;version=1.5",
            "org.osgi.service.component.propertytypes;version=1.5",
            "org.osgi.util.promise;version=1.3.0",
            "org.osgi.util.function;version=1.2.0",
            "com.sun.net.httpserver");

    /** Bundles that only a terminal session needs. */
    private static final String GOGO = "org.apache.felix.gogo.";
    private static final String CONFIG_ADMIN = "org.apache.felix.configadmin";
    private static final String ROUTER_BUNDLE = "dev.meshwork.transport.multichannel";

    private final Framework framework;

    private MeshworkFramework(Framework framework) {
        this.framework = framework;
    }

    static MeshworkFramework create(Path dataDir, Path bundlesDir, boolean shell, String logLevel) throws LaunchException {
        Map<String, String> properties = new HashMap<>();
        properties.put(Constants.FRAMEWORK_STORAGE, dataDir.resolve("felix-cache").toString());
        properties.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        properties.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, SYSTEM_PACKAGES_EXTRA);
        properties.put("meshwork.data.dir", dataDir.toString());
        properties.put("felix.fileinstall.dir", bundlesDir.toAbsolutePath().toString());
        properties.put("felix.fileinstall.noInitialDelay", "true");
        properties.put("felix.fileinstall.poll", "500");
        properties.put("felix.fileinstall.log.level", "2");
        properties.put("felix.log.level", "1");
        properties.put("gosh.args", shell ? "" : "--nointeractive");
        // SCR prints its own diagnostics (stack traces) to stderr; the launcher reports component
        // failures itself in one line, so SCR speaks only when asked for debug output.
        properties.put("ds.loglevel", logLevel.equals("debug") || logLevel.equals("trace") ? "debug" : "0");
        FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class, MeshworkFramework.class.getClassLoader())
                .findFirst().orElseThrow(() -> new LaunchException(LaunchException.STARTUP, "no OSGi framework on the classpath"));
        Framework framework = factory.newFramework(properties);
        try {
            framework.init();
        } catch (BundleException e) {
            throw new LaunchException(LaunchException.STARTUP, "the OSGi framework did not start: " + ConfigSources.oneLine(e));
        }
        return new MeshworkFramework(framework);
    }

    BundleContext context() {
        return framework.getBundleContext();
    }

    /** Installs the embedded bundles and starts ConfigAdmin; the rest start with {@link #startBundles}. */
    List<Bundle> install(List<EmbeddedBundles.Entry> entries, boolean shell) throws LaunchException {
        List<Bundle> installed = new ArrayList<>();
        BundleContext context = context();
        for (EmbeddedBundles.Entry entry : entries) {
            if (!shell && entry.symbolicName().startsWith(GOGO)) {
                continue;
            }
            try (InputStream in = entry.open()) {
                installed.add(context.installBundle("meshwork:embedded/" + entry.fileName(), in));
            } catch (IOException | BundleException e) {
                throw new LaunchException(LaunchException.STARTUP, "cannot install bundle " + entry.fileName() + ": "
                        + ConfigSources.oneLine(e));
            }
        }
        try {
            framework.start();
            for (Bundle bundle : installed) {
                if (CONFIG_ADMIN.equals(bundle.getSymbolicName())) {
                    bundle.start();
                }
            }
        } catch (BundleException e) {
            throw new LaunchException(LaunchException.STARTUP, "cannot start ConfigAdmin: " + ConfigSources.oneLine(e));
        }
        return installed;
    }

    /**
     * Starts every installed bundle that is not a fragment, the router last: its transports are
     * then registered when it activates, so it binds its listen addresses during activation and a
     * port in use fails the start with a clear message instead of a log line later.
     */
    void startBundles(List<Bundle> bundles) throws LaunchException {
        List<Bundle> ordered = new ArrayList<>(bundles);
        ordered.sort(java.util.Comparator.comparing(b -> ROUTER_BUNDLE.equals(b.getSymbolicName())));
        for (Bundle bundle : ordered) {
            if (bundle.getHeaders().get(Constants.FRAGMENT_HOST) != null || bundle.getState() == Bundle.ACTIVE) {
                continue;
            }
            try {
                bundle.start();
            } catch (BundleException e) {
                throw new LaunchException(LaunchException.STARTUP, "bundle " + bundle.getSymbolicName() + " did not start: "
                        + ConfigSources.oneLine(e));
            }
        }
        LOG.debug("{} bundles started", bundles.size());
    }

    /** Stops the framework and waits for it, at most {@code millis}. */
    boolean stop(long millis) {
        try {
            framework.stop();
            FrameworkEvent event = framework.waitForStop(millis);
            return event.getType() != FrameworkEvent.WAIT_TIMEDOUT;
        } catch (BundleException e) {
            LOG.warn("framework stop failed: {}", ConfigSources.oneLine(e));
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Blocks until the framework has stopped (from a signal, the shell's exit or a failure). */
    void awaitStop() throws InterruptedException {
        framework.waitForStop(0);
    }

    boolean isActive() {
        return framework.getState() == Bundle.ACTIVE || framework.getState() == Bundle.STARTING;
    }
}
