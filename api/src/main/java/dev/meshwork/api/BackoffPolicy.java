package dev.meshwork.api;

import java.time.Duration;
import java.util.Objects;

/**
 * Exponential backoff with jitter: attempt {@code n} (0-based) waits a random time drawn from
 * {@code [d·(1−jitter), d]} where {@code d = min(cap, base·multiplierⁿ)}.
 *
 * <p>{@code jitter = 1} is "full jitter" (uniform in {@code [0, d]}), which spreads the retries of
 * many clients that failed together; {@code jitter = 0} is plain exponential backoff. The
 * randomness is passed in, so callers inject their random source and tests are deterministic.
 * Immutable and thread-safe.
 *
 * <table>
 *   <caption>Defaults used across Meshwork</caption>
 *   <tr><th>who</th><th>base</th><th>cap</th></tr>
 *   <tr><td>channel reconnect, outbox retry</td><td>500 ms</td><td>30 s</td></tr>
 *   <tr><td>gateway restart</td><td>1 s</td><td>30 s</td></tr>
 * </table>
 *
 * @param base       the delay before the first retry, before jitter; positive
 * @param cap        the largest delay, before jitter; at least {@code base}
 * @param multiplier growth per attempt; at least 1
 * @param jitter     fraction of the delay that is randomised, in {@code [0, 1]}
 */
public record BackoffPolicy(Duration base, Duration cap, double multiplier, double jitter) {

    /** Full jitter, base 500 ms, cap 30 s, doubling: reconnects and outbox retries. */
    public static final BackoffPolicy DEFAULT = new BackoffPolicy(Duration.ofMillis(500), Duration.ofSeconds(30), 2.0, 1.0);

    /**
     * @throws IllegalArgumentException if a parameter is out of range
     */
    public BackoffPolicy {
        Objects.requireNonNull(base, "base");
        Objects.requireNonNull(cap, "cap");
        if (base.isNegative() || base.isZero()) {
            throw new IllegalArgumentException("backoff base must be positive: " + base);
        }
        if (cap.compareTo(base) < 0) {
            throw new IllegalArgumentException("backoff cap " + cap + " is below its base " + base);
        }
        if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
            throw new IllegalArgumentException("backoff multiplier must be >= 1: " + multiplier);
        }
        if (!(jitter >= 0.0 && jitter <= 1.0)) {
            throw new IllegalArgumentException("backoff jitter must be within [0, 1]: " + jitter);
        }
    }

    /** Full jitter, doubling, with the given base and cap. */
    public static BackoffPolicy fullJitter(Duration base, Duration cap) {
        return new BackoffPolicy(base, cap, 2.0, 1.0);
    }

    /** The upper bound of the delay for retry number {@code attempt} (0-based): {@code min(cap, base·multiplier^attempt)}. */
    public Duration ceiling(int attempt) {
        if (attempt < 0) {
            throw new IllegalArgumentException("attempt must be >= 0: " + attempt);
        }
        double nanos = base.toNanos() * Math.pow(multiplier, attempt);
        long capNanos = cap.toNanos();
        return Duration.ofNanos(nanos >= capNanos ? capNanos : (long) nanos);
    }

    /**
     * The delay before retry number {@code attempt} (0-based).
     *
     * @param attempt how many retries came before this one
     * @param random  a uniformly distributed value in {@code [0, 1)}
     */
    public Duration delay(int attempt, double random) {
        if (!(random >= 0.0 && random < 1.0)) {
            throw new IllegalArgumentException("random must be within [0, 1): " + random);
        }
        long ceiling = ceiling(attempt).toNanos();
        long floor = (long) (ceiling * (1.0 - jitter));
        return Duration.ofNanos(floor + (long) ((ceiling - floor) * random));
    }
}
