package dev.meshwork.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.commons.configuration2.Configuration;
import org.apache.commons.configuration2.FileBasedConfiguration;
import org.apache.commons.configuration2.PropertiesConfiguration;
import org.apache.commons.configuration2.YAMLConfiguration;
import org.apache.commons.configuration2.builder.ReloadingFileBasedConfigurationBuilder;
import org.apache.commons.configuration2.builder.fluent.Parameters;
import org.apache.commons.configuration2.builder.fluent.PropertiesBuilderParameters;
import org.apache.commons.configuration2.convert.DefaultListDelimiterHandler;
import org.apache.commons.configuration2.ex.ConfigurationException;

/**
 * Reads the node's configuration with Apache Commons Configuration: the user's file (YAML or
 * properties, with {@code ${}} interpolation such as {@code ${env:HOME}} or {@code ${node.id}}),
 * then environment variables ({@code MESHWORK_NODE_ID}) and system properties
 * ({@code -Dmeshwork.node.id}), each overriding the one before.
 *
 * <p>The file is read through a reloading builder, so {@link ConfigWatcher} can apply an edited
 * file while the node runs.
 */
final class ConfigSources {

    static final String ENV_PREFIX = "MESHWORK_";
    static final String SYSPROP_PREFIX = "meshwork.";

    private final Optional<Path> file;
    private final Optional<ReloadingFileBasedConfigurationBuilder<FileBasedConfiguration>> builder;
    private final Map<String, String> environment;
    private final Map<Object, Object> systemProperties;

    ConfigSources(Optional<Path> file, Map<String, String> environment, Map<Object, Object> systemProperties) throws LaunchException {
        this.file = file;
        this.environment = environment;
        this.systemProperties = systemProperties;
        this.builder = file.isPresent() ? Optional.of(builderFor(file.get())) : Optional.empty();
    }

    Optional<ReloadingFileBasedConfigurationBuilder<FileBasedConfiguration>> builder() {
        return builder;
    }

    Optional<Path> file() {
        return file;
    }

    /** All settings with overrides applied; keys compare ignoring case. */
    Map<String, NodeConfiguration.Setting> read() throws LaunchException {
        Map<String, NodeConfiguration.Setting> flat = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        if (builder.isPresent()) {
            Path path = file.orElseThrow();
            Configuration config;
            try {
                config = builder.get().getConfiguration();
            } catch (ConfigurationException e) {
                throw new LaunchException(LaunchException.CONFIG, path + ": " + oneLine(e));
            }
            try {
                for (Iterator<String> keys = config.getKeys(); keys.hasNext(); ) {
                    String key = keys.next();
                    List<String> values = new ArrayList<>();
                    for (Object value : config.getList(key)) {
                        values.add(String.valueOf(value));
                    }
                    if (!values.isEmpty()) {
                        // A YAML key that itself contains a dot ("data.dir:") comes back escaped
                        // as "data..dir"; both spellings mean the same key here.
                        flat.put(key.replace("..", "."), new NodeConfiguration.Setting(values, path.toString()));
                    }
                }
            } catch (RuntimeException e) {
                throw new LaunchException(LaunchException.CONFIG, path + ": " + oneLine(e));
            }
        }
        environment.forEach((name, value) -> {
            if (name.startsWith(ENV_PREFIX) && name.length() > ENV_PREFIX.length()) {
                String key = name.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.');
                flat.put(key, new NodeConfiguration.Setting(split(value), "environment variable " + name));
            }
        });
        systemProperties.forEach((name, value) -> {
            String n = String.valueOf(name);
            if (n.startsWith(SYSPROP_PREFIX) && !n.startsWith(SYSPROP_PREFIX + "bundles.") && !n.startsWith(SYSPROP_PREFIX + "launcher.")) {
                flat.put(n.substring(SYSPROP_PREFIX.length()),
                        new NodeConfiguration.Setting(split(String.valueOf(value)), "system property " + n));
            }
        });
        return flat;
    }

    private static List<String> split(String value) {
        List<String> values = new ArrayList<>();
        for (String part : value.split(",")) {
            if (!part.isBlank()) {
                values.add(part.trim());
            }
        }
        return values.isEmpty() ? List.of("") : values;
    }

    private static ReloadingFileBasedConfigurationBuilder<FileBasedConfiguration> builderFor(Path path) throws LaunchException {
        if (!Files.exists(path)) {
            throw new LaunchException(LaunchException.CONFIG, "configuration file " + path + " does not exist");
        }
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
            throw new LaunchException(LaunchException.CONFIG, "configuration file " + path + " is not a readable file");
        }
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        Parameters parameters = new Parameters();
        // Refresh delay 0: ConfigWatcher's poll period is the only delay (the detector's own default
        // of 5 s would make most polls look at a stale modification time).
        if (name.endsWith(".yaml") || name.endsWith(".yml")) {
            ReloadingFileBasedConfigurationBuilder<FileBasedConfiguration> b =
                    new ReloadingFileBasedConfigurationBuilder<>(YAMLConfiguration.class);
            b.configure(parameters.hierarchical().setFile(path.toFile()).setReloadingRefreshDelay(0L));
            return b;
        }
        if (name.endsWith(".properties") || name.endsWith(".cfg")) {
            ReloadingFileBasedConfigurationBuilder<FileBasedConfiguration> b =
                    new ReloadingFileBasedConfigurationBuilder<>(PropertiesConfiguration.class);
            PropertiesBuilderParameters p = parameters.properties().setFile(path.toFile()).setReloadingRefreshDelay(0L)
                    .setListDelimiterHandler(new DefaultListDelimiterHandler(','));
            b.configure(p);
            return b;
        }
        throw new LaunchException(LaunchException.CONFIG, "configuration file " + path
                + " must end in .yaml, .yml or .properties");
    }

    static String oneLine(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        return message.replaceAll("\\s+", " ").trim();
    }
}
