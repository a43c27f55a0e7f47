package dev.meshwork.launcher;

import java.io.IOException;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps ConfigAdmin in line with the user's file: creates or updates each configuration (only
 * when it changed) and deletes those the launcher created earlier that the file no longer has.
 *
 * <p>Configurations carry {@value #SOURCE}={@value #LAUNCHER}, so configurations made by others
 * (FileInstall's {@code .cfg} files, the shell) are never touched.
 */
final class ConfigAdminFeeder {

    static final String SOURCE = "meshwork.source";
    static final String LAUNCHER = "launcher";

    private static final Logger LOG = LoggerFactory.getLogger(ConfigAdminFeeder.class);

    private final ConfigurationAdmin admin;

    ConfigAdminFeeder(ConfigurationAdmin admin) {
        this.admin = admin;
    }

    /** Applies the configurations; returns how many were created, changed or deleted. */
    int apply(Map<PidKey, Map<String, Object>> desired) throws IOException {
        int changes = 0;
        Set<String> wanted = new HashSet<>();
        for (Map.Entry<PidKey, Map<String, Object>> entry : desired.entrySet()) {
            PidKey key = entry.getKey();
            Configuration configuration = key.isFactory()
                    ? admin.getFactoryConfiguration(key.pid(), key.name().orElseThrow(), "?")
                    : admin.getConfiguration(key.pid(), "?");
            wanted.add(configuration.getPid());
            Dictionary<String, Object> properties = new Hashtable<>(entry.getValue());
            properties.put(SOURCE, LAUNCHER);
            if (configuration.updateIfDifferent(properties)) {
                changes++;
                LOG.debug("configuration {} applied", key);
            }
        }
        Configuration[] existing;
        try {
            existing = admin.listConfigurations("(" + SOURCE + "=" + LAUNCHER + ")");
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        if (existing != null) {
            for (Configuration configuration : existing) {
                if (!wanted.contains(configuration.getPid())) {
                    LOG.info("configuration {} removed from the file: deleting it", configuration.getPid());
                    configuration.delete();
                    changes++;
                }
            }
        }
        return changes;
    }
}
