package dev.meshwork.supervisor.internal.output;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Removes secrets from a line before it is logged: the values of environment variables and
 * command-line flags whose names match the configured pattern, wherever they appear, and any
 * {@code name=value} / {@code name: value} whose name matches.
 *
 * <p>Why both: a gateway echoes its own configuration ("using token abc…") in forms no single
 * rule catches, and the one thing we know for certain is which values are secret. Immutable.
 */
public final class Redactor {

    public static final String MASK = "***";
    private static final Pattern PAIR = Pattern.compile("([A-Za-z0-9_.-]+)(\\s*[=:]\\s*)(\"[^\"]*\"|[^\\s,;&\"]+)");

    private final Pattern keys;
    private final List<String> secrets;

    public Redactor(Pattern keys, Map<String, String> env, List<String> args) {
        this.keys = keys;
        List<String> found = new ArrayList<>();
        env.forEach((k, v) -> {
            if (keys.matcher(k).find() && v != null && v.length() >= 3) {
                found.add(v);
            }
        });
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("-")) {
                continue;
            }
            int eq = a.indexOf('=');
            String flag = eq > 0 ? a.substring(0, eq) : a;
            if (!keys.matcher(flag.replaceFirst("^-+", "")).find()) {
                continue;
            }
            String value = eq > 0 ? a.substring(eq + 1) : (i + 1 < args.size() ? args.get(i + 1) : "");
            if (value.length() >= 3) {
                found.add(value);
            }
        }
        found.sort(Comparator.comparingInt(String::length).reversed()); // longest first: no partial leftovers
        this.secrets = List.copyOf(found);
    }

    public String redact(String line) {
        String out = line;
        for (String s : secrets) {
            if (out.contains(s)) {
                out = out.replace(s, MASK);
            }
        }
        Matcher m = PAIR.matcher(out);
        StringBuilder sb = null;
        int last = 0;
        while (m.find()) {
            if (keys.matcher(m.group(1)).find() && !m.group(3).equals(MASK)) {
                if (sb == null) {
                    sb = new StringBuilder(out.length());
                }
                sb.append(out, last, m.start(3)).append(MASK);
                last = m.end(3);
            }
        }
        if (sb == null) {
            return out;
        }
        return sb.append(out, last, out.length()).toString();
    }

    /** The command line for a log line, secrets masked. */
    public String redactCommand(List<String> command) {
        List<String> out = new ArrayList<>(command.size());
        for (String a : command) {
            out.add(redact(a));
        }
        return String.join(" ", out);
    }
}
