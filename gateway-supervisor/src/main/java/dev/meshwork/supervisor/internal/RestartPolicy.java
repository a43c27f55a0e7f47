package dev.meshwork.supervisor.internal;

import java.time.Duration;
import java.util.Optional;
import java.util.function.DoubleSupplier;

/**
 * Decides how an automatic restart goes: after the backoff delay ({@link RestartScheduler}, full
 * jitter), or not at all while the {@link Governor} is open (the state machine then goes FAILED
 * with a slow retry). Explicit requests are not counted and reset what they override.
 *
 * <p>Not thread-safe: used on the supervisor's thread.
 */
final class RestartPolicy {

    private final DoubleSupplier random;
    private Governor governor;
    private RestartScheduler backoff;

    RestartPolicy(SupervisorConfig config, DoubleSupplier random) {
        this.random = random;
        reconfigure(config);
    }

    /** A new configuration: a new budget and backoff, the history forgotten. */
    void reconfigure(SupervisorConfig config) {
        governor = new Governor(config.governorMax(), config.governorWindow());
        backoff = new RestartScheduler(config.backoff(), config.stableAfter(), random);
    }

    /**
     * An automatic restart after a failure at {@code now}: the delay before it, or empty when
     * the governor is open.
     *
     * @param upNanos how long the ended process had been ready, or -1 if it never was
     */
    Optional<Duration> afterFailure(long now, long upNanos) {
        return governor.tryAcquire(now) ? Optional.of(backoff.next(upNanos)) : Optional.empty();
    }

    /** An automatic replacement without a backoff wait (a blue/green switch): counted by the governor. */
    boolean tryReplace(long now) {
        return governor.tryAcquire(now);
    }

    /** Why the governor refused, in plain words. */
    String governorOpen() {
        return "more than " + governor.max() + " restarts within " + governor.window().toSeconds() + " s";
    }

    /** An operator asked: whatever the governor said before is forgotten. */
    void forgiveGovernor() {
        governor.reset();
    }

    /** A deliberate restart or slow retry: the next failure starts from the base delay. */
    void resetBackoff() {
        backoff.reset();
    }
}
