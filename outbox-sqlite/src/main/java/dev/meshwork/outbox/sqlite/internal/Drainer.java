package dev.meshwork.outbox.sqlite.internal;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.MeshworkException;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.RetryableException;
import dev.meshwork.api.router.DeliveryResult;
import dev.meshwork.api.router.Router;
import dev.meshwork.api.router.SendOptions;
import dev.meshwork.outbox.sqlite.internal.store.Database;
import dev.meshwork.outbox.sqlite.internal.store.RowTransitions;
import dev.meshwork.outbox.sqlite.internal.store.RowTransitions.Claimed;
import dev.meshwork.outbox.sqlite.internal.store.StorageErrors;
import dev.meshwork.outbox.sqlite.internal.store.Writer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends pending rows through the {@link Router} and records each outcome: pipelined, with a
 * bounded window of rows in flight per target.
 *
 * <p>Why it is shaped this way (against the reference drain, which polled 32 rows every 500 ms
 * and awaited one send at a time, so one unreachable broker stalled everyone):
 * <ul>
 *   <li>A pass is queued at once by an enqueue, a completion, a peer coming up or a backoff
 *       falling due; the periodic poll is only a safety net.</li>
 *   <li>A pass never waits for a send. Per target it claims up to {@code window − in flight}
 *       due rows (one statement), hands them to the router, and moves on; a completion frees a
 *       slot and queues the next pass. A slow or unreachable target fills only its own window.</li>
 *   <li>Per target it remembers when its next row falls due ({@code notBefore}), so a target
 *       whose rows all wait out a backoff costs nothing until then.</li>
 *   <li>A row is done only on the receiver's acknowledgement; a failure puts it back with
 *       full-jitter backoff, and only the attempt cap or a refusal permanent for the message
 *       itself makes it dead ({@link FailureVerdict}).</li>
 *   <li>No pass runs before the router is {@linkplain Router#isReady() ready} (it holds the
 *       node's configured peers): a router that comes up before its peer configuration would
 *       otherwise refuse every row as {@code UNKNOWN_PEER}. Until then a pass re-checks every
 *       {@value #READY_RECHECK_MILLIS} ms.</li>
 *   <li>Once {@link #close} began, an outcome that arrives changes nothing: the row stays
 *       INFLIGHT in the file and the next start puts it back to pending, its interrupted attempt
 *       not counted. Stopping never turns a row dead.</li>
 *   <li>A router that never completes a send cannot strand a row: a periodic sweep fails the
 *       attempt after twice the ack timeout.</li>
 * </ul>
 */
final class Drainer {

    private static final Logger LOG = LoggerFactory.getLogger(Drainer.class);
    static final long READY_RECHECK_MILLIS = 50;

    private record Attempt(NodeId target, TargetState ts, Claimed row, AtomicBoolean once, long deadline) {
    }

    private static final class TargetState {
        final AtomicInteger inflight = new AtomicInteger();
        /** Guarded by this: epoch millis before which no row is due; bumped generation on every enqueue. */
        long notBefore;
        long generation;
    }

    private final OutboxConfig config;
    private final Database db;
    private final Writer writer;
    private final Supplier<Router> router;
    private final InstantSource clock;
    private final ScheduledExecutorService scheduler;
    private final DoubleSupplier random;
    private final ThroughputMeter meter;
    private final LogLimiter logLimiter;
    private final AtomicLong taskFailures;
    private final AtomicLong outcomesAfterStop = new AtomicLong();
    private final AtomicLong passesNotReady = new AtomicLong();
    private final Map<NodeId, TargetState> targets = new ConcurrentHashMap<>();
    private final AtomicBoolean passQueued = new AtomicBoolean();
    private final Map<Long, Attempt> attempts = new ConcurrentHashMap<>();
    private ScheduledFuture<?> sweeper;
    private final Object timerLock = new Object();
    private ScheduledFuture<?> timer;
    private long timerAt = Long.MAX_VALUE;
    private ScheduledFuture<?> poll;
    private volatile boolean closed;

    Drainer(OutboxConfig config, Database db, Writer writer, Supplier<Router> router, InstantSource clock,
            ScheduledExecutorService scheduler, DoubleSupplier random, ThroughputMeter meter, AtomicLong taskFailures) {
        this.config = config;
        this.db = db;
        this.writer = writer;
        this.router = router;
        this.clock = clock;
        this.scheduler = scheduler;
        this.random = random;
        this.meter = meter;
        this.taskFailures = taskFailures;
        this.logLimiter = new LogLimiter(System::nanoTime, TimeUnit.SECONDS.toNanos(10));
    }

    ThroughputMeter meter() {
        return meter;
    }

    void start() {
        Connection c = db.reader();
        synchronized (c) {
            try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT target FROM outbox WHERE state = 'PENDING'");
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    targets.computeIfAbsent(NodeId.of(rs.getString(1)), t -> new TargetState());
                }
            } catch (SQLException e) {
                throw StorageErrors.map(e, db.file().toString());
            }
        }
        long period = config.pollInterval().toMillis();
        poll = scheduler.scheduleWithFixedDelay(guarded("drain poll", this::wake), period, period, TimeUnit.MILLISECONDS);
        long sweep = Math.max(100, config.ackTimeout().toMillis() / 4);
        sweeper = scheduler.scheduleWithFixedDelay(guarded("in-flight sweep", this::sweep), sweep, sweep, TimeUnit.MILLISECONDS);
        wake();
    }

    /** A row for {@code target} was committed (enqueue or admin retry): it is due now. */
    void enqueued(NodeId target) {
        TargetState ts = targets.computeIfAbsent(target, t -> new TargetState());
        synchronized (ts) {
            ts.generation++;
            ts.notBefore = 0;
        }
        wake();
    }

    /** The router changed: every target is worth a look. */
    void wakeAll() {
        for (TargetState ts : targets.values()) {
            synchronized (ts) {
                ts.generation++;
                ts.notBefore = 0;
            }
        }
        wake();
    }

    /** {@code peer} came up: its rows waiting out a backoff are due now. */
    void peerUp(NodeId peer) {
        writer.submit(RowTransitions.dueNow(peer.value(), clock.millis())).whenComplete((n, e) -> {
            if (e != null) {
                LOG.warn("outbox could not make rows for {} due: {}", peer, e.getMessage());
            }
            enqueued(peer);
        });
    }

    /** Queues a pass unless one is already queued. */
    void wake() {
        if (closed || !passQueued.compareAndSet(false, true)) {
            return;
        }
        try {
            scheduler.execute(guarded("drain pass", this::pass));
        } catch (RejectedExecutionException e) {
            passQueued.set(false);
        }
    }

    /** In flight for {@code target} now (tests). */
    int inflight(NodeId target) {
        TargetState ts = targets.get(target);
        return ts == null ? 0 : ts.inflight.get();
    }

    private synchronized void pass() {
        passQueued.set(false);
        Router r = router.get();
        if (r == null || closed) {
            return;
        }
        long now = clock.millis();
        if (!r.isReady()) {
            passesNotReady.incrementAndGet();
            scheduleTimer(now + READY_RECHECK_MILLIS, now);
            return;
        }
        long earliest = Long.MAX_VALUE;
        for (Map.Entry<NodeId, TargetState> e : targets.entrySet()) {
            NodeId target = e.getKey();
            TargetState ts = e.getValue();
            long generation;
            long notBefore;
            synchronized (ts) {
                generation = ts.generation;
                notBefore = ts.notBefore;
            }
            if (notBefore > now) {
                earliest = Math.min(earliest, notBefore);
                continue;
            }
            int room = config.windowPerTarget() - ts.inflight.get();
            if (room <= 0) {
                continue; // a completion frees a slot and wakes us
            }
            List<Claimed> rows;
            try {
                rows = OutboxService.await(writer.submitInline(RowTransitions.claim(target.value(), now, room)));
            } catch (RuntimeException ex) {
                warn("claim", "outbox cannot claim rows for " + target + ": " + ex.getMessage());
                earliest = Math.min(earliest, now + config.pollInterval().toMillis());
                continue;
            }
            ts.inflight.addAndGet(rows.size());
            for (Claimed row : rows) {
                send(r, target, ts, row);
            }
            if (rows.size() < room) {
                long next = nextDue(target);
                synchronized (ts) {
                    if (ts.generation == generation) {
                        ts.notBefore = next;
                    }
                }
                earliest = Math.min(earliest, next);
            }
        }
        scheduleTimer(earliest, now);
    }

    private long nextDue(NodeId target) {
        Connection c = db.reader();
        synchronized (c) {
            try (PreparedStatement ps = c.prepareStatement("SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'PENDING' AND target = ?")) {
                ps.setString(1, target.value());
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() && rs.getObject(1) != null ? rs.getLong(1) : Long.MAX_VALUE;
                }
            } catch (SQLException e) {
                warn("nextDue", "outbox cannot read due rows: " + e.getMessage());
                return clock.millis() + config.pollInterval().toMillis();
            }
        }
    }

    private void scheduleTimer(long at, long now) {
        if (at == Long.MAX_VALUE || closed) {
            return;
        }
        synchronized (timerLock) {
            if (timer != null && !timer.isDone() && timerAt <= at) {
                return;
            }
            if (timer != null) {
                timer.cancel(false);
            }
            timerAt = at;
            try {
                timer = scheduler.schedule(guarded("drain timer", this::wake), Math.max(0, at - now), TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                timer = null;
            }
        }
    }

    private void send(Router r, NodeId target, TargetState ts, Claimed row) {
        String id = db.epoch() + "-" + row.seq();
        AtomicBoolean once = new AtomicBoolean();
        CompletableFuture<DeliveryResult> sent;
        try {
            byte[] body = DeliveryCodec.encode(id, r.localNode().value(), target.value(), row.topic(), row.payload());
            SendOptions options = SendOptions.DEFAULT.withMessageId(id).withAck(true).withTimeout(config.ackTimeout());
            sent = r.send(target, DeliveryCodec.TOPIC, body, options);
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        Attempt attempt = new Attempt(target, ts, row, once, clock.millis() + 2 * config.ackTimeout().toMillis());
        attempts.put(row.seq(), attempt);
        sent.whenComplete((result, error) -> {
            attempts.remove(row.seq(), attempt);
            finish(target, ts, row, once, error);
        });
    }

    /** Fails attempts the router never completed, so no row is stranded in flight. */
    private void sweep() {
        long now = clock.millis();
        for (Attempt a : attempts.values()) {
            if (a.deadline() <= now && attempts.remove(a.row().seq(), a)) {
                finish(a.target(), a.ts(), a.row(), a.once(), new RetryableException(FailureCode.TIMEOUT,
                        "router did not complete the send within twice the ack timeout"));
            }
        }
    }

    private void finish(NodeId target, TargetState ts, Claimed row, AtomicBoolean once, Throwable error) {
        if (!once.compareAndSet(false, true)) {
            return;
        }
        if (closed) {
            // Stop began: whatever this outcome says (typically SHUT_DOWN, or a peer removed by a
            // stopping router), the row stays INFLIGHT and the next start makes it pending again.
            outcomesAfterStop.incrementAndGet();
            return;
        }
        long now = clock.millis();
        Writer.Op<Boolean> transition;
        long retryAt = Long.MAX_VALUE;
        if (error == null) {
            transition = RowTransitions.ackedBatched(row.seq(), now);
        } else {
            Throwable cause = OutboxService.unwrap(error);
            String text = cause instanceof MeshworkException me ? me.code() + ": " + me.getMessage() : String.valueOf(cause);
            String id = db.epoch() + "-" + row.seq();
            switch (FailureVerdict.of(cause)) {
                case DEAD -> {
                    transition = RowTransitions.failedPermanent(row.seq(), now, text);
                    warn("dead:" + target, "outbox message " + id + " to " + target + " is dead: " + text);
                }
                case RELEASE -> {
                    retryAt = now + config.backoff().delay(0, random.getAsDouble()).toMillis();
                    transition = RowTransitions.released(row.seq(), now, retryAt, text);
                }
                default -> {
                    retryAt = now + config.backoff().delay(Math.max(0, row.attempts() - 1), random.getAsDouble()).toMillis();
                    transition = RowTransitions.failedRetryable(row.seq(), now, retryAt, config.maxAttempts(), text);
                    if (row.attempts() >= config.maxAttempts()) {
                        warn("dead:" + target, "outbox message " + id + " to " + target
                                + " is dead after " + row.attempts() + " attempts: " + text);
                    }
                }
            }
        }
        record(target, ts, transition, error == null, retryAt);
    }

    private void record(NodeId target, TargetState ts, Writer.Op<Boolean> transition, boolean acked, long retryAt) {
        // Inline: the continuation only counts, adjusts the window and queues a pass.
        writer.submitInline(transition).whenComplete((changed, e) -> {
            if (e != null) {
                // The row stays INFLIGHT in the file; keep trying so it is not stranded until a restart.
                warn("transition", "outbox cannot record a delivery outcome, will retry: " + e.getMessage());
                if (!closed) {
                    try {
                        scheduler.schedule(guarded("record outcome", () -> record(target, ts, transition, acked, retryAt)),
                                config.pollInterval().toMillis(), TimeUnit.MILLISECONDS);
                        return;
                    } catch (RejectedExecutionException ignored) {
                        // shutting down: the next start recovers the row
                    }
                }
            } else if (acked && Boolean.TRUE.equals(changed)) {
                meter.record(1);
            }
            if (retryAt != Long.MAX_VALUE) {
                synchronized (ts) {
                    // A new generation: a pass that read the file before this commit must not
                    // overwrite notBefore with its stale "nothing pending".
                    ts.generation++;
                    ts.notBefore = Math.min(ts.notBefore, retryAt);
                }
            }
            ts.inflight.decrementAndGet();
            wake();
        });
    }

    private void warn(String key, String line) {
        long suppressed = logLimiter.permit(key);
        if (suppressed >= 0) {
            LOG.warn(suppressed > 0 ? line + " (" + suppressed + " similar lines suppressed)" : line);
        }
    }

    private Runnable guarded(String name, Runnable task) {
        return GuardedTask.of(name, taskFailures, task);
    }

    /** Drain figures: outcomes ignored because stop had begun, passes that found the router not ready. */
    Map<String, Long> counters() {
        return Map.of("drain.outcomesAfterStop", outcomesAfterStop.get(), "drain.passesNotReady", passesNotReady.get());
    }

    /** Stops taking rows; outcomes that arrive from now on leave their rows for the next start. */
    void close() {
        closed = true;
        if (poll != null) {
            poll.cancel(false);
        }
        if (sweeper != null) {
            sweeper.cancel(false);
        }
        synchronized (timerLock) {
            if (timer != null) {
                timer.cancel(false);
            }
        }
    }
}
