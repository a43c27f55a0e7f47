package dev.meshwork.outbox.sqlite.internal;

import java.util.function.LongSupplier;

/**
 * Counts events per second over the last minute, on the monotonic clock, for
 * {@code OutboxStats.deliveredPerSecond}. Thread-safe.
 */
final class ThroughputMeter {

    private static final int SECONDS = 60;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final LongSupplier nanoTime;
    private final long start;
    private final long[] counts = new long[SECONDS];
    private final long[] seconds = new long[SECONDS];

    ThroughputMeter(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
        this.start = nanoTime.getAsLong();
    }

    private long total;

    synchronized long total() {
        return total;
    }

    synchronized void record(int n) {
        total += n;
        long second = (nanoTime.getAsLong() - start) / NANOS_PER_SECOND;
        int slot = (int) (second % SECONDS);
        if (seconds[slot] != second) {
            seconds[slot] = second;
            counts[slot] = 0;
        }
        counts[slot] += n;
    }

    /** Events per second over the last minute (or since start, if younger). */
    synchronized double perSecond() {
        long elapsed = nanoTime.getAsLong() - start;
        long now = elapsed / NANOS_PER_SECOND;
        long total = 0;
        for (int i = 0; i < SECONDS; i++) {
            if (now - seconds[i] < SECONDS && seconds[i] <= now) {
                total += counts[i];
            }
        }
        double window = Math.min(SECONDS, Math.max(1.0, elapsed / (double) NANOS_PER_SECOND));
        return total / window;
    }
}
