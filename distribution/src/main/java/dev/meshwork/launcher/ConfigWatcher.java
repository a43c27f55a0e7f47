package dev.meshwork.launcher;

import java.util.concurrent.TimeUnit;
import org.apache.commons.configuration2.builder.ConfigurationBuilderEvent;
import org.apache.commons.configuration2.reloading.PeriodicReloadingTrigger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies an edited configuration file while the node runs: Commons Configuration's reloading
 * builder notices the change, the file is read and validated again, and ConfigAdmin receives the
 * difference. A file that no longer validates is reported and the running configuration kept.
 */
final class ConfigWatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigWatcher.class);

    private final PeriodicReloadingTrigger trigger;

    ConfigWatcher(ConfigSources sources, MetatypeCatalog catalog, ConfigAdminFeeder feeder, long periodMillis) {
        var builder = sources.builder().orElseThrow();
        builder.addEventListener(ConfigurationBuilderEvent.RESET, event -> {
            try {
                NodeConfiguration.Resolved resolved = NodeConfiguration.resolve(sources.read(), catalog);
                int changes = feeder.apply(resolved.pids());
                LOG.info("configuration file {} changed: {} configuration(s) updated", sources.file().orElseThrow(), changes);
            } catch (LaunchException e) {
                LOG.error("configuration not applied, the node keeps its running configuration: {}", e.getMessage());
            } catch (Exception e) {
                LOG.error("configuration not applied: {}", ConfigSources.oneLine(e));
            }
        });
        this.trigger = new PeriodicReloadingTrigger(builder.getReloadingController(), null, periodMillis, TimeUnit.MILLISECONDS);
        trigger.start();
    }

    @Override
    public void close() {
        trigger.shutdown();
    }
}
