package dev.meshwork.supervisor.internal.output;

import dev.meshwork.supervisor.internal.SupervisorConfig.OutputSettings;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;

/**
 * Pumps one process's stdout and stderr into SLF4J, a line at a time: secrets redacted, a level
 * per line, repeats de-duplicated, a per-second cap; and keeps the newest lines for probes and
 * for the error report of a failed start.
 *
 * <p>Why a cap as well as de-duplication: a gateway flooding distinct lines would otherwise flood
 * the node's log; the cap counts what it drops and says so once a second. Lines longer than
 * {@link #MAX_LINE} characters are cut, so a stream without newlines cannot exhaust memory.
 * Thread-safe: each stream has its own pump thread; the buffer of lines is shared and guarded.
 */
public final class OutputLog {

    public static final int MAX_LINE = 8192;
    private static final int KEEP_AT_LEAST = 500;

    private final Logger log;
    private final Redactor redactor;
    private final LineClassifier classifier;
    private final OutputSettings settings;
    private final LongSupplier nanoTime;
    private final ArrayDeque<String> recent = new ArrayDeque<>();
    private final int keep;
    private long linesSeen;
    private final List<Watcher> watchers = new ArrayList<>();

    private record Watcher(Pattern pattern, CompletableFuture<String> found) {
    }

    private static final int MAX_WATCHERS = 16;

    public OutputLog(Logger log, Redactor redactor, LineClassifier classifier, OutputSettings settings, LongSupplier nanoTime) {
        this.log = log;
        this.redactor = redactor;
        this.classifier = classifier;
        this.settings = settings;
        this.nanoTime = nanoTime;
        this.keep = Math.max(settings.startupLines(), KEEP_AT_LEAST);
    }

    /** Starts a daemon thread that reads {@code in} until it ends; the future completes then. */
    public CompletableFuture<Void> pump(InputStream in, boolean stderr, String threadName) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                run(in, stderr);
            } finally {
                done.complete(null);
            }
        }, threadName);
        t.setDaemon(true);
        t.start();
        return done;
    }

    private void run(InputStream in, boolean stderr) {
        LineDeduplicator dedup = new LineDeduplicator(settings.dedupEntries(), settings.summaryEvery(),
                TimeUnit.SECONDS.toNanos(60));
        RateWindow rate = new RateWindow();
        byte[] buf = new byte[8192];
        StringBuilder line = new StringBuilder();
        boolean cut = false;
        try (in) {
            int n;
            while ((n = in.read(buf)) > 0) {
                int start = 0;
                for (int i = 0; i < n; i++) {
                    if (buf[i] == '\n') {
                        append(line, buf, start, i, cut);
                        accept(stripCr(line), stderr, dedup, rate);
                        line.setLength(0);
                        cut = false;
                        start = i + 1;
                    }
                }
                if (start < n) {
                    append(line, buf, start, n, cut);
                    if (line.length() >= MAX_LINE) {
                        cut = true;
                    }
                }
            }
            if (line.length() > 0) {
                accept(stripCr(line), stderr, dedup, rate);
            }
        } catch (IOException e) {
            // the process closed its end: normal at exit
        }
        rate.flush(stderr);
    }

    private static void append(StringBuilder line, byte[] buf, int from, int to, boolean cut) {
        if (cut || line.length() >= MAX_LINE) {
            return;
        }
        int len = Math.min(to - from, MAX_LINE - line.length());
        line.append(new String(buf, from, len, StandardCharsets.UTF_8));
    }

    private static String stripCr(StringBuilder sb) {
        int len = sb.length();
        return len > 0 && sb.charAt(len - 1) == '\r' ? sb.substring(0, len - 1) : sb.toString();
    }

    /** Handles one complete line; public for tests. */
    void accept(String raw, boolean stderr, LineDeduplicator dedup, RateWindow rate) {
        String line = redactor.redact(raw);
        synchronized (recent) {
            recent.addLast(line);
            if (recent.size() > keep) {
                recent.removeFirst();
            }
            linesSeen++;
            if (!watchers.isEmpty()) {
                watchers.removeIf(w -> w.found.isDone() || (w.pattern.matcher(line).find() && w.found.complete(line)));
            }
        }
        LineClassifier.Level level = classifier.classify(line, stderr);
        if (level == LineClassifier.Level.DROP) {
            return;
        }
        long now = nanoTime.getAsLong();
        LineDeduplicator.Verdict v = dedup.offer(line, now);
        if (v instanceof LineDeduplicator.Repeat) {
            return;
        }
        if (!rate.admit(now, stderr)) {
            return;
        }
        String text = v instanceof LineDeduplicator.Summary s
                ? "[" + (stderr ? "stderr" : "stdout") + "] (repeated " + s.count() + " times) " + line
                : "[" + (stderr ? "stderr" : "stdout") + "] " + line;
        emit(level, text);
    }

    private void emit(LineClassifier.Level level, String text) {
        switch (level) {
            case TRACE -> log.trace("{}", text);
            case DEBUG -> log.debug("{}", text);
            case INFO -> log.info("{}", text);
            case WARN -> log.warn("{}", text);
            case ERROR -> log.error("{}", text);
            default -> { }
        }
    }

    /**
     * Completes with the first line (already kept, or still to come) that matches: every line is
     * checked as it arrives, so a flood cannot push a readiness line out of sight.
     */
    public CompletableFuture<String> awaitLine(Pattern pattern) {
        CompletableFuture<String> found = new CompletableFuture<>();
        synchronized (recent) {
            for (String line : recent) {
                if (pattern.matcher(line).find()) {
                    found.complete(line);
                    return found;
                }
            }
            watchers.removeIf(w -> w.found.isDone());
            if (watchers.size() >= MAX_WATCHERS) {
                watchers.remove(0).found.cancel(false);
            }
            watchers.add(new Watcher(pattern, found));
        }
        return found;
    }

    /** The newest lines, oldest first. */
    public List<String> recent() {
        synchronized (recent) {
            return new ArrayList<>(recent);
        }
    }

    /** The newest {@code n} lines, oldest first. */
    public List<String> last(int n) {
        synchronized (recent) {
            List<String> all = new ArrayList<>(recent);
            return List.copyOf(all.subList(Math.max(0, all.size() - n), all.size()));
        }
    }

    public long linesSeen() {
        synchronized (recent) {
            return linesSeen;
        }
    }

    /** A one-second window that admits at most {@code linesPerSecond} lines and reports the rest. */
    final class RateWindow {
        private long windowStart = Long.MIN_VALUE;
        private int admitted;
        private long dropped;

        boolean admit(long now, boolean stderr) {
            if (windowStart == Long.MIN_VALUE || now - windowStart >= 1_000_000_000L) {
                flush(stderr);
                windowStart = now;
                admitted = 0;
            }
            if (admitted < settings.linesPerSecond()) {
                admitted++;
                return true;
            }
            dropped++;
            return false;
        }

        void flush(boolean stderr) {
            if (dropped > 0) {
                log.warn("[{}] {} lines not logged (more than {} lines per second)", stderr ? "stderr" : "stdout",
                        dropped, settings.linesPerSecond());
                dropped = 0;
            }
        }
    }
}
