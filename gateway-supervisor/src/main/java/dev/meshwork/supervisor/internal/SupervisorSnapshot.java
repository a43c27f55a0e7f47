package dev.meshwork.supervisor.internal;

import dev.meshwork.api.lifecycle.LifecycleStatus;
import java.time.Duration;
import java.util.Optional;

/**
 * Everything another thread may read about one supervised gateway, taken at one moment on the
 * supervisor's thread. Immutable; published through one volatile field.
 *
 * <p>Why one record: the shell ({@code gateway:status}), the console and DS read from their own
 * threads while the supervisor's thread changes its state. Read as separate fields, a status and
 * the spawn time its uptime is counted from could belong to two different processes (issue 12).
 *
 * @param status           the status as published (its uptime as of the publication)
 * @param spawnedAtNanos   when the process the status names was spawned: the uptime counts from here
 * @param config           the configuration in force
 * @param taskFailures     supervisor tasks that threw (caught by {@link GuardedScheduler})
 * @param listenerFailures lifecycle listeners that threw
 */
record SupervisorSnapshot(LifecycleStatus status, long spawnedAtNanos, SupervisorConfig config,
        GuardedScheduler.Failures taskFailures, GuardedScheduler.Failures listenerFailures) {

    /** The status with its uptime as of {@code nowNanos} (the monotonic clock). */
    LifecycleStatus statusAt(long nowNanos) {
        LifecycleStatus s = status;
        if (s.uptime().isEmpty()) {
            return s;
        }
        Duration up = Duration.ofNanos(nowNanos - spawnedAtNanos);
        return new LifecycleStatus(s.name(), s.state(), s.epoch(), s.pid(), Optional.of(up), s.restarts(), s.lastExitCode(),
                s.lastSignal(), s.lastError(), s.recentOutput(), s.nextAttemptAt(), s.since(), s.blueGreen());
    }
}
