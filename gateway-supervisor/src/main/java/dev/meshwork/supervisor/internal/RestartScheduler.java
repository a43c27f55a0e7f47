package dev.meshwork.supervisor.internal;

import dev.meshwork.api.BackoffPolicy;
import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * Chooses the delay before the next automatic restart: exponential backoff with full jitter
 * ({@link BackoffPolicy}), and forgets the attempts once a process has stayed up for the stable
 * time, so a gateway that crashes once a day always restarts after about a second.
 *
 * <p>Not thread-safe: used on the supervisor thread.
 */
public final class RestartScheduler {

    private final BackoffPolicy policy;
    private final long stableNanos;
    private final DoubleSupplier random;
    private int attempt;

    public RestartScheduler(BackoffPolicy policy, Duration stableAfter, DoubleSupplier random) {
        this.policy = policy;
        this.stableNanos = stableAfter.toNanos();
        this.random = random;
    }

    /**
     * The delay before the next restart.
     *
     * @param upNanos how long the process that just ended had been up (ready), or -1 if it never was
     */
    public Duration next(long upNanos) {
        if (upNanos >= 0 && upNanos >= stableNanos) {
            attempt = 0;
        }
        double r = random.getAsDouble();
        Duration d = policy.delay(attempt, r >= 1.0 ? Math.nextDown(1.0) : Math.max(0.0, r));
        if (attempt < 62) {
            attempt++;
        }
        return d;
    }

    public void reset() {
        attempt = 0;
    }

    /** Attempts since the last reset. */
    public int attempts() {
        return attempt;
    }
}
