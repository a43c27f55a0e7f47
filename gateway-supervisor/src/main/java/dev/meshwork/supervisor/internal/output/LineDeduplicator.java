package dev.meshwork.supervisor.internal.output;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Decides whether a line is logged or counted as a repeat: lines are keyed with timestamps, hex
 * and numbers normalised away, remembered in a bounded LRU, logged the first time, and then once
 * as a summary every {@code summaryEvery} repeats. A key forgotten by the LRU, or older than the
 * window, starts over, so a line that recurs every hour is still seen.
 *
 * <p>Not thread-safe: one per output stream, called from its pump thread.
 */
public final class LineDeduplicator {

    private static final Pattern TIMESTAMP = Pattern.compile(
            "\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}:\\d{2}(?:[.,]\\d+)?(?:Z|[+-]\\d{2}:?\\d{2})?|\\b\\d{2}:\\d{2}:\\d{2}(?:[.,]\\d+)?\\b");
    private static final Pattern HEX = Pattern.compile("\\b0x[0-9a-fA-F]+\\b|\\b[0-9a-fA-F]{8,}\\b");
    private static final Pattern NUMBER = Pattern.compile("\\d+");

    /** What to do with a line. */
    public sealed interface Verdict {
    }

    /** Log it as it is. */
    public record First() implements Verdict {
    }

    /** Do not log it; it was seen {@code count} times. */
    public record Repeat(long count) implements Verdict {
    }

    /** Log a summary: the line was repeated {@code count} times. */
    public record Summary(long count) implements Verdict {
    }

    private static final First FIRST = new First();

    private static final class Entry {
        long count;
        long firstNanos;
    }

    private final int summaryEvery;
    private final long windowNanos;
    private final LinkedHashMap<String, Entry> seen;

    public LineDeduplicator(int maxEntries, int summaryEvery, long windowNanos) {
        this.summaryEvery = summaryEvery;
        this.windowNanos = windowNanos;
        this.seen = new LinkedHashMap<>(64, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
                return size() > maxEntries;
            }
        };
    }

    public static String normalise(String line) {
        String s = TIMESTAMP.matcher(line).replaceAll("<ts>");
        s = HEX.matcher(s).replaceAll("<hex>");
        return NUMBER.matcher(s).replaceAll("#");
    }

    public Verdict offer(String line, long nowNanos) {
        String key = normalise(line);
        Entry e = seen.get(key);
        if (e == null || nowNanos - e.firstNanos > windowNanos) {
            e = new Entry();
            e.firstNanos = nowNanos;
            seen.put(key, e);
        }
        e.count++;
        if (e.count == 1) {
            return FIRST;
        }
        return (e.count - 1) % summaryEvery == 0 ? new Summary(e.count - 1) : new Repeat(e.count - 1);
    }

    public int size() {
        return seen.size();
    }
}
