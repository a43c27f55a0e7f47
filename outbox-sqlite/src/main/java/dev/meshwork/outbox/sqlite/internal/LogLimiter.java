package dev.meshwork.outbox.sqlite.internal;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Lets a log line through at most once per interval per key, so bad input or a dead peer
 * cannot flood the log; the suppressed count is reported with the next line.
 */
final class LogLimiter {

    private final LongSupplier nanoTime;
    private final long intervalNanos;
    private final ConcurrentHashMap<String, long[]> last = new ConcurrentHashMap<>();

    LogLimiter(LongSupplier nanoTime, long intervalNanos) {
        this.nanoTime = nanoTime;
        this.intervalNanos = intervalNanos;
    }

    /** -1 if the line should be dropped, otherwise how many were suppressed before it. */
    long permit(String key) {
        long now = nanoTime.getAsLong();
        long[] state = last.computeIfAbsent(key, k -> new long[] {now - intervalNanos - 1, 0});
        synchronized (state) {
            if (now - state[0] > intervalNanos) {
                long suppressed = state[1];
                state[0] = now;
                state[1] = 0;
                return suppressed;
            }
            state[1]++;
            return -1;
        }
    }
}
