package dev.meshwork.launcher;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Turns the user's flat configuration keys into ConfigAdmin configurations, validated against
 * the bundles' metatype.
 *
 * <table>
 *   <caption>Sections of the configuration file</caption>
 *   <tr><th>section</th><th>PID</th></tr>
 *   <tr><td>{@code node.*}</td><td>{@code dev.meshwork.node}</td></tr>
 *   <tr><td>{@code peers.NAME.*}</td><td>{@code dev.meshwork.peer~NAME}</td></tr>
 *   <tr><td>{@code transport.ws.*}</td><td>{@code dev.meshwork.transport.ws}</td></tr>
 *   <tr><td>{@code outbox.*}</td><td>{@code dev.meshwork.outbox.sqlite}</td></tr>
 *   <tr><td>{@code health.*}</td><td>{@code dev.meshwork.health}</td></tr>
 *   <tr><td>{@code gateways.NAME.*}</td><td>{@code dev.meshwork.supervisor~NAME}</td></tr>
 *   <tr><td>{@code console.*}</td><td>{@code dev.meshwork.console}</td></tr>
 *   <tr><td>{@code pid."any.pid".*}</td><td>any other (extension) PID, checked against its metatype if it has one</td></tr>
 *   <tr><td>{@code data.dir}</td><td>the data directory (launcher)</td></tr>
 * </table>
 */
final class NodeConfiguration {

    static final String DATA_DIR = "data.dir";

    static final Map<String, String> SECTIONS = Map.of(
            "node", "dev.meshwork.node",
            "transport.ws", "dev.meshwork.transport.ws",
            "outbox", "dev.meshwork.outbox.sqlite",
            "health", "dev.meshwork.health",
            "console", "dev.meshwork.console");

    static final Map<String, String> FACTORY_SECTIONS = Map.of(
            "peers", "dev.meshwork.peer",
            "gateways", "dev.meshwork.supervisor");

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,63}");

    /** The launcher's view of one configuration: data directory and PID configurations. */
    record Resolved(Optional<Path> dataDir, Map<PidKey, Map<String, Object>> pids) {
    }

    private NodeConfiguration() {
    }

    /** The values of one key and where they came from (a file, an environment variable…). */
    record Setting(List<String> values, String origin) {
    }

    /**
     * Resolves flat keys ({@code peers.beta.urls → [ws://…]}) into configurations. Section and
     * attribute names match ignoring case, so environment variables can name them.
     */
    static Resolved resolve(Map<String, Setting> flat, MetatypeCatalog catalog) throws LaunchException {
        Map<PidKey, Map<String, Object>> pids = new LinkedHashMap<>();
        Map<PidKey, ValueChecks.Origins> origins = new LinkedHashMap<>();
        Optional<Path> dataDir = Optional.empty();
        for (Map.Entry<String, Setting> entry : flat.entrySet()) {
            String key = entry.getKey();
            List<String> values = entry.getValue().values();
            String origin = entry.getValue().origin();
            if (key.equalsIgnoreCase(DATA_DIR)) {
                dataDir = Optional.of(Path.of(single(key, values, origin)));
                continue;
            }
            Target target = target(key, origin);
            MetatypeCatalog.PidSchema schema = catalog.schema(target.pid.pid()).orElse(null);
            if (schema == null && !target.generic) {
                throw new LaunchException(LaunchException.CONFIG, origin + ": configuration key '" + key
                        + "' is for " + target.pid.pid() + ", but no bundle in this distribution accepts that configuration");
            }
            Map<String, Object> properties = pids.computeIfAbsent(target.pid, k -> new LinkedHashMap<>());
            ValueChecks.Origins where = origins.computeIfAbsent(target.pid, k -> new ValueChecks.Origins(
                    key.substring(0, key.length() - target.attribute.length()), origin));
            if (schema == null) {
                properties.put(target.attribute, values.size() == 1 ? values.get(0) : values.toArray(String[]::new));
                where.put(target.attribute, origin);
                continue;
            }
            MetatypeCatalog.Attribute attribute = schema.attribute(target.attribute).orElseThrow(() ->
                    new LaunchException(LaunchException.CONFIG, origin + ": unknown configuration key '" + key
                            + "' (" + target.pid.pid() + " accepts " + String.join(", ", schema.attributes().keySet()) + ")"));
            try {
                properties.put(attribute.id(), MetatypeCatalog.convert(key, attribute, values));
            } catch (LaunchException e) {
                throw new LaunchException(e.exitCode(), origin + ": " + e.getMessage());
            }
            where.put(attribute.id(), origin);
        }
        ValueChecks.check(pids, origins, catalog);
        return new Resolved(dataDir, pids);
    }

    private record Target(PidKey pid, String attribute, boolean generic) {
    }

    private static Target target(String key, String origin) throws LaunchException {
        String lower = key.toLowerCase(Locale.ROOT);
        if (lower.startsWith("pid.")) {
            // pid."com.acme.thing".attr — Commons Configuration keeps a quoted segment whole
            String rest = key.substring(4);
            int split = rest.lastIndexOf('.');
            if (split <= 0) {
                throw new LaunchException(LaunchException.CONFIG, origin + ": configuration key '" + key + "' needs pid.PID.KEY");
            }
            String pid = rest.substring(0, split).replace("\"", "");
            return new Target(PidKey.singleton(pid), rest.substring(split + 1), true);
        }
        for (Map.Entry<String, String> factory : FACTORY_SECTIONS.entrySet()) {
            String prefix = factory.getKey() + ".";
            if (lower.startsWith(prefix)) {
                String rest = key.substring(prefix.length());
                int dot = rest.indexOf('.');
                if (dot <= 0 || dot == rest.length() - 1) {
                    throw new LaunchException(LaunchException.CONFIG, origin + ": configuration key '" + key
                            + "' needs " + factory.getKey() + ".NAME.KEY");
                }
                String name = rest.substring(0, dot);
                if (!NAME.matcher(name).matches()) {
                    throw new LaunchException(LaunchException.CONFIG, origin + ": '" + name + "' in '" + key
                            + "' is not a valid name (letters, digits, '-' and '_')");
                }
                return new Target(PidKey.factory(factory.getValue(), name), rest.substring(dot + 1), false);
            }
        }
        List<String> sections = new ArrayList<>(SECTIONS.keySet());
        sections.sort(Comparator.comparingInt(String::length).reversed());
        for (String section : sections) {
            String prefix = section + ".";
            if (lower.startsWith(prefix) && key.length() > prefix.length()) {
                return new Target(PidKey.singleton(SECTIONS.get(section)), key.substring(prefix.length()), false);
            }
        }
        throw new LaunchException(LaunchException.CONFIG, origin + ": unknown configuration key '" + key
                + "' (sections: node, peers.NAME, transport.ws, outbox, health, gateways.NAME, console, pid.PID, data.dir)");
    }

    private static String single(String key, List<String> values, String origin) throws LaunchException {
        if (values.size() != 1) {
            throw new LaunchException(LaunchException.CONFIG, origin + ": configuration key '" + key + "' takes one value");
        }
        return values.get(0);
    }
}
