package dev.meshwork.supervisor.internal.output;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Decides the log level of one output line from ordered {@code LEVEL=regex} rules; the first rule
 * that matches wins, otherwise stdout logs at INFO and stderr at WARN. Level {@code DROP} keeps a
 * line out of the log (it is still kept for the error report). Immutable.
 */
public final class LineClassifier {

    public enum Level { TRACE, DEBUG, INFO, WARN, ERROR, DROP }

    private record Rule(Level level, Pattern pattern) {
    }

    private final List<Rule> rules;

    /**
     * @throws IllegalArgumentException naming the rule that is not {@code LEVEL=regex}
     */
    public LineClassifier(List<String> specs) {
        List<Rule> parsed = new ArrayList<>();
        for (String spec : specs) {
            int eq = spec.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("output.levels: expected LEVEL=regex, got '" + spec + "'");
            }
            try {
                parsed.add(new Rule(Level.valueOf(spec.substring(0, eq).trim().toUpperCase(Locale.ROOT)),
                        Pattern.compile(spec.substring(eq + 1))));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("output.levels: bad rule '" + spec + "': " + e.getMessage(), e);
            }
        }
        this.rules = List.copyOf(parsed);
    }

    public Level classify(String line, boolean stderr) {
        for (Rule r : rules) {
            if (r.pattern.matcher(line).find()) {
                return r.level;
            }
        }
        return stderr ? Level.WARN : Level.INFO;
    }
}
