package dev.meshwork.supervisor.internal;

import dev.meshwork.api.lifecycle.ProbeResult;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Beats a running gateway's heartbeat probe at a fixed rate, one probe at a time, and counts
 * the misses in a row. It only notices; what a hit or a miss means (DEGRADED, a restart, a
 * blue/green switch) is {@link GatewaySupervisor}'s call, as Netty's {@code IdleStateHandler}
 * notices idleness and leaves the action to the next handler.
 *
 * <p>The timer runs under the {@link GuardedScheduler}: a beat that throws is counted and the
 * next one still comes (issue 12). Not thread-safe: used on the supervisor's thread.
 */
final class Heartbeat {

    private final GuardedScheduler tasks;
    private ScheduledFuture<?> timer;
    private boolean inFlight;
    private int misses;

    Heartbeat(GuardedScheduler tasks) {
        this.tasks = tasks;
    }

    /**
     * Beats every {@code interval}. A beat runs {@code probe} when {@code current} and
     * {@code live} hold and no earlier beat waits for its answer; the answer goes to
     * {@code onResult} (posted by {@code post} to the supervisor's thread) unless the beat became
     * stale ({@code current} no longer holds) or the gateway is no longer {@code live}.
     *
     * @param current whether the start this heartbeat belongs to is still the current one (its epoch)
     * @param live    whether the gateway is RUNNING or DEGRADED
     */
    void start(Duration interval, BooleanSupplier current, BooleanSupplier live,
            Supplier<CompletableFuture<ProbeResult>> probe, Consumer<Runnable> post, Consumer<ProbeResult> onResult) {
        timer = tasks.atFixedRate("heartbeat", () -> {
            if (!current.getAsBoolean() || !live.getAsBoolean() || inFlight) {
                return;
            }
            // In flight only once the probe has been asked: a probe that throws must not leave
            // the flag set, or every later beat would skip (issue 12).
            CompletableFuture<ProbeResult> beat = probe.get();
            inFlight = true;
            beat.thenAccept(r -> post.accept(() -> {
                if (!current.getAsBoolean()) {
                    return;
                }
                inFlight = false;
                if (live.getAsBoolean()) {
                    onResult.accept(r);
                }
            }));
        }, interval);
    }

    /** No more beats (the process is retired, or the gateway leaves RUNNING/DEGRADED). */
    void stop() {
        if (timer != null) {
            timer.cancel(false);
        }
        inFlight = false;
    }

    /** A hit: the misses in a row start again from zero. */
    void resetMisses() {
        misses = 0;
    }

    /** A miss: how many in a row now. */
    int missed() {
        return ++misses;
    }
}
