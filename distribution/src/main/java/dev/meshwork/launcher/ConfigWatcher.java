package dev.meshwork.launcher;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.commons.configuration2.builder.ConfigurationBuilderEvent;
import org.apache.commons.configuration2.reloading.PeriodicReloadingTrigger;
import org.apache.commons.configuration2.reloading.ReloadingController;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies an edited configuration file while the node runs: Commons Configuration's reloading
 * builder notices the change, the file is read and validated again, and ConfigAdmin receives the
 * difference. A file that no longer validates (malformed YAML, an unknown key, a bad value) is
 * reported in one line, counted, and the running configuration kept; the next edit is read again.
 *
 * <p>Why {@link #poll()} resets the reloading state itself: the builder leaves its reloading
 * controller "reloading" until a configuration is successfully created. A file that does not
 * parse creates none, so without the reset no later edit would ever be noticed.
 */
final class ConfigWatcher implements AutoCloseable {

    /** Where a validated configuration goes (ConfigAdmin in the node); returns how many changed. */
    @FunctionalInterface
    interface Applier {
        int apply(Map<PidKey, Map<String, Object>> pids) throws IOException;
    }

    private static final Logger LOG = LoggerFactory.getLogger(ConfigWatcher.class);

    private final ConfigSources sources;
    private final MetatypeCatalog catalog;
    private final Applier applier;
    private final ReloadingController controller;
    private final AtomicLong applied = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private PeriodicReloadingTrigger trigger;

    ConfigWatcher(ConfigSources sources, MetatypeCatalog catalog, Applier applier) {
        this.sources = sources;
        this.catalog = catalog;
        this.applier = applier;
        var builder = sources.builder().orElseThrow();
        this.controller = builder.getReloadingController();
        builder.addEventListener(ConfigurationBuilderEvent.RESET, event -> reload());
    }

    /** Polls the file every {@code periodMillis} on a daemon thread until {@link #close()}. */
    ConfigWatcher start(long periodMillis) {
        trigger = new PeriodicReloadingTrigger(controller, null, periodMillis, TimeUnit.MILLISECONDS);
        trigger.start();
        return this;
    }

    /** Checks the file once; a change is read, validated and applied or refused before this returns. */
    void poll() {
        controller.checkForReloading(null);
    }

    /** Edits applied so far. */
    long applied() {
        return applied.get();
    }

    /** Edits refused so far (the running configuration was kept). */
    long refused() {
        return refused.get();
    }

    private void reload() {
        try {
            NodeConfiguration.Resolved resolved = NodeConfiguration.resolve(sources.read(), catalog);
            int changes = applier.apply(resolved.pids());
            applied.incrementAndGet();
            LOG.info("configuration file {} changed: {} configuration(s) updated", sources.file().orElseThrow(), changes);
        } catch (LaunchException e) {
            refuse(e.getMessage());
        } catch (Exception e) {
            refuse(ConfigSources.oneLine(e));
        }
    }

    private void refuse(String why) {
        refused.incrementAndGet();
        // Marks the file's current version as seen, so the next edit is noticed (see class comment).
        controller.resetReloadingState();
        LOG.error("configuration not applied, the node keeps its running configuration: {}", why);
    }

    @Override
    public void close() {
        if (trigger != null) {
            trigger.shutdown();
        }
    }
}
