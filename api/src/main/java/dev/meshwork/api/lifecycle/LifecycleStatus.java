package dev.meshwork.api.lifecycle;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * A supervised gateway at one moment. Immutable.
 *
 * @param name          the gateway's name
 * @param state         its state
 * @param epoch         the current start epoch
 * @param pid           the process id, while a process exists
 * @param uptime        how long the current process has been running
 * @param restarts      restarts since the controller started
 * @param lastExitCode  the last process's exit code, if it exited normally
 * @param lastSignal    the signal that ended the last process, if one did
 * @param lastError     the last failure in plain words
 * @param recentOutput  the last lines the process wrote (start-up lines after a failed start)
 * @param nextAttemptAt when the next start is due, in BACKOFF or FAILED
 * @param since         when it entered its state
 * @param blueGreen     with blue/green restarts: the serving port and the switches so far (since 1.1)
 */
public record LifecycleStatus(String name, LifecycleState state, long epoch, OptionalLong pid, Optional<Duration> uptime,
        int restarts, OptionalInt lastExitCode, Optional<String> lastSignal, Optional<String> lastError,
        List<String> recentOutput, Optional<Instant> nextAttemptAt, Instant since,
        Optional<BlueGreenStatus> blueGreen) {

    public LifecycleStatus {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(pid, "pid");
        Objects.requireNonNull(uptime, "uptime");
        Objects.requireNonNull(lastExitCode, "lastExitCode");
        Objects.requireNonNull(lastSignal, "lastSignal");
        Objects.requireNonNull(lastError, "lastError");
        recentOutput = List.copyOf(recentOutput);
        Objects.requireNonNull(nextAttemptAt, "nextAttemptAt");
        Objects.requireNonNull(since, "since");
        Objects.requireNonNull(blueGreen, "blueGreen");
    }

    /** A status without blue/green information (the 1.0 shape). */
    public LifecycleStatus(String name, LifecycleState state, long epoch, OptionalLong pid, Optional<Duration> uptime,
            int restarts, OptionalInt lastExitCode, Optional<String> lastSignal, Optional<String> lastError,
            List<String> recentOutput, Optional<Instant> nextAttemptAt, Instant since) {
        this(name, state, epoch, pid, uptime, restarts, lastExitCode, lastSignal, lastError, recentOutput, nextAttemptAt,
                since, Optional.empty());
    }
}
