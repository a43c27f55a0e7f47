package dev.meshwork.supervisor.internal;

import dev.meshwork.supervisor.internal.process.GatewayProcess;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends gateway processes with their whole group and tells when every one it was given is gone:
 * SIGTERM, a close watch on the group, SIGKILL after the grace period.
 *
 * <p>Why a future over all of them ({@link #allGone()}): the next spawn waits on it, so two
 * generations never hold the port at once. Why watch the group rather than wait for the exit:
 * the leader may be gone while its children take a moment to die of the SIGTERM.
 *
 * <p>Not thread-safe: used on the supervisor's thread, its polls scheduled there.
 */
final class Reaper {

    private static final Logger LOG = LoggerFactory.getLogger(GatewaySupervisor.class);
    private static final Duration GONE_POLL = Duration.ofMillis(20);
    private static final Duration GONE_GIVE_UP = Duration.ofSeconds(5);
    private static final long FIRST_GONE_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(2);
    private static final long MAX_GONE_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final String gateway;
    private final GuardedScheduler tasks;
    private final LongSupplier nanoTime;
    private CompletableFuture<Void> previousGone = CompletableFuture.completedFuture(null);

    Reaper(String gateway, GuardedScheduler tasks, LongSupplier nanoTime) {
        this.gateway = gateway;
        this.tasks = tasks;
        this.nanoTime = nanoTime;
    }

    /** Completes once every process retired so far, and its group, is gone. */
    CompletableFuture<Void> allGone() {
        return previousGone;
    }

    /** SIGTERM to {@code p}'s group now, SIGKILL after {@code grace} if any of it still lives. */
    void retire(GatewayProcess p, Duration grace) {
        if (p.exit().isDone() && !p.anyAlive()) {
            return;
        }
        CompletableFuture<Void> gone = new CompletableFuture<>();
        p.terminate();
        long killAt = nanoTime.getAsLong() + grace.toNanos();
        watchGone(p, gone, killAt, grace, FIRST_GONE_POLL_NANOS);
        p.exit().thenAccept(st -> tasks.execute("process exit", () -> {
            if (!gone.isDone() && !p.anyAlive()) {
                gone.complete(null);
            }
        }));
        previousGone = CompletableFuture.allOf(previousGone, gone);
    }

    /** Until the grace ends: checks the group is gone, polling from 2 ms up to 100 ms; then SIGKILL. */
    private void watchGone(GatewayProcess p, CompletableFuture<Void> gone, long killAt, Duration grace, long pollNanos) {
        if (gone.isDone()) {
            return;
        }
        if (!p.anyAlive()) {
            gone.complete(null);
            return;
        }
        long now = nanoTime.getAsLong();
        if (now - killAt >= 0) {
            LOG.warn("gateway {}: pid {} group still alive {} ms after SIGTERM; sending SIGKILL", gateway, p.pid(),
                    grace.toMillis());
            p.kill();
            pollGone(p, gone, now + GONE_GIVE_UP.toNanos());
            return;
        }
        long next = Math.min(pollNanos, killAt - now);
        tasks.schedule("reaper", () -> watchGone(p, gone, killAt, grace, Math.min(pollNanos * 2, MAX_GONE_POLL_NANOS)),
                Duration.ofNanos(next));
    }

    private void pollGone(GatewayProcess p, CompletableFuture<Void> gone, long giveUpAt) {
        if (gone.isDone()) {
            return;
        }
        if (!p.anyAlive()) {
            gone.complete(null);
        } else if (nanoTime.getAsLong() - giveUpAt > 0) {
            LOG.error("gateway {}: processes of group {} survive SIGKILL (uninterruptible?); going on", gateway, p.pid());
            gone.complete(null);
        } else {
            p.kill();
            tasks.schedule("reaper", () -> pollGone(p, gone, giveUpAt), GONE_POLL);
        }
    }
}
