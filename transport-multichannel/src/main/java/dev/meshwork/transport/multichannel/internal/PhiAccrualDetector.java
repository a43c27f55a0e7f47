package dev.meshwork.transport.multichannel.internal;

/**
 * A phi-accrual failure detector (Hayashibara et al.) for one channel: it learns the distribution
 * of heartbeat inter-arrival times and says how suspicious the current silence is.
 *
 * <p>Why adaptive: a fixed timeout either misses a black hole for a long time or false-alarms on
 * a starved CPU. Only heartbeats (Pong/Ping) feed the distribution, so a busy link whose data
 * frames arrive every microsecond does not shrink the threshold; but any frame counts as life
 * ({@link #alive}), so a busy link is never suspected. Not thread-safe: owned by one channel.
 */
final class PhiAccrualDetector {

    private static final int WINDOW = 64;

    private final long[] intervals = new long[WINDOW];
    private final double minStdNanos;
    private final long acceptablePauseNanos;
    private int count;
    private int next;
    private long lastHeartbeat = Long.MIN_VALUE;
    private long lastAlive = Long.MIN_VALUE;

    /**
     * @param expectedIntervalNanos the heartbeat interval, used as the first sample
     * @param minStdNanos           floor of the deviation
     * @param acceptablePauseNanos  silence always tolerated on top of the distribution
     */
    PhiAccrualDetector(long expectedIntervalNanos, long minStdNanos, long acceptablePauseNanos, long now) {
        this.minStdNanos = minStdNanos;
        this.acceptablePauseNanos = acceptablePauseNanos;
        record(expectedIntervalNanos);
        lastHeartbeat = now;
        lastAlive = now;
    }

    /** A heartbeat arrived: learn its inter-arrival time. */
    void heartbeat(long now) {
        if (lastHeartbeat != Long.MIN_VALUE && now > lastHeartbeat) {
            record(now - lastHeartbeat);
        }
        lastHeartbeat = now;
        alive(now);
    }

    /** Some frame arrived: the channel is alive now. */
    void alive(long now) {
        if (now > lastAlive) {
            lastAlive = now;
        }
    }

    long lastAlive() {
        return lastAlive;
    }

    private void record(long interval) {
        intervals[next] = interval;
        next = (next + 1) % WINDOW;
        count = Math.min(count + 1, WINDOW);
    }

    double mean() {
        double sum = 0;
        for (int i = 0; i < count; i++) {
            sum += intervals[i];
        }
        return sum / count;
    }

    double stdDeviation() {
        double mean = mean();
        double sq = 0;
        for (int i = 0; i < count; i++) {
            double d = intervals[i] - mean;
            sq += d * d;
        }
        return Math.max(Math.sqrt(sq / count), minStdNanos);
    }

    /** The suspicion level now: -log10 of the probability that a heartbeat is still coming. */
    double phi(long now) {
        double silence = now - lastAlive;
        double mean = mean() + acceptablePauseNanos;
        double std = stdDeviation();
        // Logistic approximation of the normal CDF tail, as in Akka's detector (no erf needed).
        double y = (silence - mean) / std;
        double e = Math.exp(-y * (1.5976 + 0.070566 * y * y));
        if (silence > mean) {
            return -Math.log10(e / (1.0 + e));
        }
        return -Math.log10(1.0 - 1.0 / (1.0 + e));
    }
}
