package dev.meshwork.launcher;

import java.util.Map;
import java.util.TreeMap;

/**
 * Prints the configuration reference of the bundles at hand, from their metatype: every section,
 * key, type, default and description, as Markdown ({@code java -jar meshwork.jar config-reference}).
 * The README's reference is this output, so it cannot drift from the code.
 */
final class ConfigReference {

    private ConfigReference() {
    }

    static String markdown(MetatypeCatalog catalog) {
        Map<String, String> sectionOf = new TreeMap<>();
        NodeConfiguration.SECTIONS.forEach((section, pid) -> sectionOf.put(pid, section + ".KEY"));
        NodeConfiguration.FACTORY_SECTIONS.forEach((section, pid) -> sectionOf.put(pid, section + ".NAME.KEY"));
        StringBuilder out = new StringBuilder();
        for (MetatypeCatalog.PidSchema schema : new TreeMap<>(catalog.all()).values()) {
            if (!schema.pid().startsWith("dev.meshwork.")) {
                continue; // third-party bundles document their own configuration
            }
            String section = sectionOf.getOrDefault(schema.pid(), "pid.\"" + schema.pid() + "\".KEY");
            out.append("### `").append(section).append("` — ").append(schema.factory() ? "factory PID `" : "PID `")
                    .append(schema.pid()).append(schema.factory() ? "~NAME`" : "`").append("\n\n");
            out.append("| key | type | default | description |\n|---|---|---|---|\n");
            for (MetatypeCatalog.Attribute a : schema.attributes().values()) {
                String type = a.type() + (a.multiple() ? "[]" : "");
                out.append("| `").append(a.id()).append("` | ").append(type).append(" | ")
                        .append(a.defaultValue().map(d -> d.isEmpty() ? "(empty)" : "`" + d.replace("|", "\\|") + "`").orElse("(required)"))
                        .append(" | ").append(a.description().orElse("").replace("|", "\\|"))
                        .append(a.options().isEmpty() ? "" : " One of: " + String.join(", ", a.options()) + ".")
                        .append(" |\n");
            }
            out.append('\n');
        }
        return out.toString();
    }
}
