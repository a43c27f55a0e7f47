package dev.meshwork.supervisor.internal;

import dev.meshwork.api.lifecycle.BlueGreenStatus;
import dev.meshwork.api.lifecycle.LifecycleState;
import dev.meshwork.api.lifecycle.LifecycleStatus;
import dev.meshwork.supervisor.internal.process.ExitStatus;
import dev.meshwork.supervisor.internal.process.GatewayProcess;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a gateway's status tells beyond its state (restarts, the last exit, the last error, the
 * last lines of output, the next attempt), and its publication: one immutable
 * {@link SupervisorSnapshot} through one volatile field, the only thing other threads read.
 *
 * <p>Written on the supervisor's thread only; {@link #current()} may be read on any thread.
 */
final class StatusBoard {

    private static final Logger LOG = LoggerFactory.getLogger(GatewaySupervisor.class);
    /** How long the report of an exit waits for the last lines still in the pipe. */
    private static final Duration DRAIN_WAIT = Duration.ofMillis(100);

    private final GuardedScheduler tasks;
    private int restarts;
    private OptionalInt lastExitCode = OptionalInt.empty();
    private Optional<String> lastSignal = Optional.empty();
    private Optional<String> lastError = Optional.empty();
    private List<String> recentOutput = List.of();
    private GatewayProcess reportFrom;
    private Optional<Instant> nextAttemptAt = Optional.empty();
    private volatile SupervisorSnapshot published;

    StatusBoard(GuardedScheduler tasks) {
        this.tasks = tasks;
    }

    /** The last snapshot published (any thread). */
    SupervisorSnapshot current() {
        return published;
    }

    void restarted() {
        restarts++;
    }

    void exited(ExitStatus status) {
        lastExitCode = status.code();
        lastSignal = status.signal();
    }

    void error(String why) {
        lastError = Optional.of(why);
    }

    void clearError() {
        lastError = Optional.empty();
    }

    Optional<String> lastError() {
        return lastError;
    }

    void nextAttemptAt(Optional<Instant> at) {
        nextAttemptAt = at;
    }

    Optional<Instant> nextAttemptAt() {
        return nextAttemptAt;
    }

    /**
     * Keeps the process's last lines for the status. The exit can overtake the last lines still
     * in the pipe, so the lines are taken again once the streams have ended (or after
     * {@link #DRAIN_WAIT}, as a grandchild may hold the pipes open); the decision does not wait.
     *
     * @param logAs     a warning to log with the lines once they are in, or null
     * @param republish publishes the whole status again once the lines are in
     */
    void report(GatewayProcess p, String logAs, SupervisorConfig config, Runnable republish) {
        reportFrom = p;
        recentOutput = lastLines(p, config);
        boolean[] done = {false};
        List<ScheduledFuture<?>> timer = new ArrayList<>(1);
        Runnable refresh = () -> {
            if (done[0]) {
                return;
            }
            done[0] = true;
            timer.forEach(t -> t.cancel(false));
            if (reportFrom == p) {
                recentOutput = lastLines(p, config);
                republish.run();
            }
            if (logAs != null) {
                LOG.warn("gateway {}: {}{}", config.name(), logAs,
                        recentOutput.isEmpty() ? "" : "; last output:\n  " + String.join("\n  ", recentOutput));
            }
        };
        timer.add(tasks.schedule("output refresh", refresh, DRAIN_WAIT));
        p.drained().thenRun(() -> tasks.execute("callback", refresh));
    }

    /**
     * Publishes a new snapshot.
     *
     * @param p         the process that serves (while switching, the old one), or null
     * @param spawnedAt when {@code p} was spawned (monotonic nanoseconds)
     * @param now       the monotonic clock now
     */
    void publish(SupervisorConfig config, LifecycleState state, long epoch, Instant since, GatewayProcess p,
            long spawnedAt, Optional<BlueGreenStatus> blueGreen, long now) {
        boolean up = p != null && (state == LifecycleState.RUNNING || state == LifecycleState.DEGRADED
                || state == LifecycleState.STARTING || state == LifecycleState.SWITCHING);
        LifecycleStatus status = new LifecycleStatus(config.name(), state, epoch,
                p == null ? OptionalLong.empty() : OptionalLong.of(p.pid()),
                up ? Optional.of(Duration.ofNanos(now - spawnedAt)) : Optional.empty(), restarts, lastExitCode, lastSignal,
                lastError, recentOutput, nextAttemptAt, since, blueGreen);
        published = new SupervisorSnapshot(status, spawnedAt, config, tasks.failures(), tasks.listenerFailures());
    }

    private static List<String> lastLines(GatewayProcess p, SupervisorConfig config) {
        List<String> all = p.output();
        int n = config.output().startupLines();
        return List.copyOf(all.subList(Math.max(0, all.size() - n), all.size()));
    }
}
