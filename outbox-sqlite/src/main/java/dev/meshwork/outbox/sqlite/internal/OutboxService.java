package dev.meshwork.outbox.sqlite.internal;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.MeshworkException;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.RetryableException;
import dev.meshwork.api.outbox.Outbox;
import dev.meshwork.api.outbox.OutboxMessage;
import dev.meshwork.api.outbox.OutboxReceipt;
import dev.meshwork.api.outbox.OutboxRequest;
import dev.meshwork.api.outbox.OutboxState;
import dev.meshwork.api.outbox.OutboxStats;
import dev.meshwork.api.router.PeerEvent;
import dev.meshwork.api.router.Router;
import dev.meshwork.outbox.sqlite.internal.store.Database;
import dev.meshwork.outbox.sqlite.internal.store.RowTransitions;
import dev.meshwork.outbox.sqlite.internal.store.StorageErrors;
import dev.meshwork.outbox.sqlite.internal.store.Writer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SQLite outbox as a plain object: durable enqueue with group commit, the admin calls, the
 * {@link Drainer} that sends rows through the {@link Router}, and the {@link InboxReceiver} that
 * takes deliveries on the other side.
 *
 * <p>Why a plain object: the DS component only reads configuration and references; tests build
 * this directly with a manual clock and an in-memory router.
 *
 * <p>Threads: one writer thread (all writes, batched), one completion thread (completes callers'
 * futures), and the given scheduler (drain passes, purge). Reads use a separate read-only
 * connection, which WAL lets run beside the writer.
 */
public final class OutboxService implements Outbox, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(OutboxService.class);

    private final OutboxConfig config;
    private final Database db;
    private final Writer writer;
    private final ExecutorService completions;
    private final InstantSource wallClock;
    private final ScheduledExecutorService scheduler;
    private final AtomicReference<Router> router = new AtomicReference<>();
    private final Drainer drainer;
    private final InboxReceiver inbox;
    private final ScheduledFuture<?> housekeeping;
    /** Scheduled tasks that threw (each logged; periodic work kept running by {@link GuardedTask}). */
    private final AtomicLong taskFailures = new AtomicLong();
    /** Touched only on the writer thread. */
    private long nextSeq;
    private volatile boolean closed;

    /**
     * Opens the database, moves rows left in flight by a previous process back to pending, and
     * starts the drain (which sends once a router is set).
     *
     * @throws PermanentException {@code STORAGE_UNAVAILABLE} when the file cannot be used
     */
    public OutboxService(OutboxConfig config, InstantSource wallClock, LongSupplier nanoTime,
            ScheduledExecutorService scheduler, DoubleSupplier random) {
        this.config = config;
        this.wallClock = wallClock;
        this.scheduler = scheduler;
        this.db = Database.open(config.file(), config.synchronous(), config.maxDatabaseBytes());
        this.completions = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "meshwork-outbox-completions");
            t.setDaemon(true);
            return t;
        });
        this.writer = new Writer(db, completions, config.maxBatch());
        try {
            this.nextSeq = loadNextSeq();
            int recovered = await(writer.submit(RowTransitions.recoverInflight(wallClock.millis())));
            if (recovered > 0) {
                LOG.info("outbox {}: {} rows left in flight by the previous process are pending again", config.file(), recovered);
            }
        } catch (RuntimeException e) {
            writer.close();
            completions.shutdown();
            db.close();
            throw e;
        }
        ThroughputMeter meter = new ThroughputMeter(nanoTime);
        this.drainer = new Drainer(config, db, writer, router::get, wallClock, scheduler, random, meter, taskFailures);
        this.inbox = new InboxReceiver(config, writer, router::get, wallClock);
        this.inbox.start();
        this.drainer.start();
        long period = Math.min(Duration.ofMinutes(1).toMillis(), Math.max(1000, config.doneRetention().toMillis() / 10));
        this.housekeeping = scheduler.scheduleWithFixedDelay(GuardedTask.of("housekeeping", taskFailures, this::housekeeping),
                period, period, TimeUnit.MILLISECONDS);
    }

    private long loadNextSeq() {
        synchronized (db.reader()) {
            try (PreparedStatement ps = db.reader().prepareStatement(
                    "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0), COALESCE((SELECT MAX(seq) FROM outbox), 0))");
                    ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1) + 1;
            } catch (SQLException e) {
                throw StorageErrors.map(e, db.file().toString());
            }
        }
    }

    /** Binds or unbinds ({@code null}) the router; a new router wakes the drain. */
    public void setRouter(Router r) {
        router.set(r);
        if (r != null) {
            drainer.wakeAll();
        }
    }

    /** The {@code meshwork.outbox} handler of this node. */
    public InboxReceiver inbox() {
        return inbox;
    }

    /** Called by the component for every {@code PeerListener} event. */
    public void onPeerEvent(PeerEvent event) {
        if (event.type() == PeerEvent.Type.PEER_UP || event.type() == PeerEvent.Type.PEER_RESTARTED) {
            drainer.peerUp(event.peer().node());
        }
    }

    Drainer drainer() {
        return drainer;
    }

    Writer writer() {
        return writer;
    }

    // ---- enqueue ------------------------------------------------------------------------------

    @Override
    public OutboxReceipt enqueue(OutboxRequest request) {
        validate(request);
        byte[] fingerprint = request.idempotencyKey().isPresent() ? fingerprint(request) : null;
        long now = wallClock.millis();
        // Inline completion: this thread only parks until the commit, so the writer may wake it directly.
        OutboxReceipt receipt = await(writer.submitInline(tx -> insert(tx, request, fingerprint, now)));
        if (!receipt.duplicate()) {
            drainer.enqueued(request.target());
        }
        return receipt;
    }

    @Override
    public CompletableFuture<OutboxReceipt> enqueueAsync(OutboxRequest request) {
        try {
            validate(request);
        } catch (MeshworkException e) {
            return CompletableFuture.failedFuture(e);
        }
        byte[] fingerprint = request.idempotencyKey().isPresent() ? fingerprint(request) : null;
        long now = wallClock.millis();
        NodeId target = request.target();
        return writer.submit(tx -> insert(tx, request, fingerprint, now)).thenApply(receipt -> {
            if (!receipt.duplicate()) {
                drainer.enqueued(target);
            }
            return receipt;
        });
    }

    private void validate(OutboxRequest request) {
        if (closed) {
            throw new RetryableException(FailureCode.SHUT_DOWN, "outbox is closed");
        }
        if (request.payload().length > config.maxPayloadBytes()) {
            throw new PermanentException(FailureCode.PAYLOAD_TOO_LARGE,
                    "payload of " + request.payload().length + " bytes exceeds maxPayloadBytes " + config.maxPayloadBytes());
        }
        if (request.topic().equals(DeliveryCodec.TOPIC)) {
            throw new PermanentException(FailureCode.ILLEGAL_STATE, "topic " + DeliveryCodec.TOPIC + " is reserved for the outbox itself");
        }
        // Only a ready router's "unknown" is an answer: before it holds the configured peers, a
        // configured peer looks unknown too. The row is stored then, and the drain waits.
        Router r = router.get();
        if (r != null && r.isReady() && r.peer(request.target()).isEmpty() && !r.localNode().equals(request.target())) {
            throw new PermanentException(FailureCode.UNKNOWN_PEER, "target " + request.target() + " is not a known peer");
        }
    }

    private OutboxReceipt insert(Writer.Tx tx, OutboxRequest request, byte[] fingerprint, long now) throws SQLException {
        if (request.idempotencyKey().isPresent()) {
            PreparedStatement find = tx.prepare("SELECT seq, fingerprint FROM outbox WHERE idem_key = ?");
            find.setString(1, request.idempotencyKey().get());
            try (ResultSet rs = find.executeQuery()) {
                if (rs.next()) {
                    if (Arrays.equals(rs.getBytes(2), fingerprint)) {
                        return new OutboxReceipt(messageId(rs.getLong(1)), true);
                    }
                    throw new PermanentException(FailureCode.IDEMPOTENCY_CONFLICT,
                            "idempotency key '" + request.idempotencyKey().get() + "' was used for a different message");
                }
            }
        }
        long seq = nextSeq++;
        PreparedStatement ps = tx.batch("""
                INSERT INTO outbox(seq, target, topic, payload, state, attempts, created_at, next_attempt_at, updated_at,
                                   idem_key, fingerprint, priority)
                VALUES (?1, ?2, ?3, ?4, 'PENDING', 0, ?5, ?5, ?5, ?6, ?7, ?8)""");
        ps.setLong(1, seq);
        ps.setString(2, request.target().value());
        ps.setString(3, request.topic());
        ps.setBytes(4, request.payload());
        ps.setLong(5, now);
        ps.setString(6, request.idempotencyKey().orElse(null));
        ps.setBytes(7, fingerprint);
        ps.setInt(8, request.priority());
        ps.addBatch();
        return new OutboxReceipt(messageId(seq), false);
    }

    private static byte[] fingerprint(OutboxRequest r) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(r.target().value().getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            md.update(r.topic().getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            md.update(r.payload());
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }

    // ---- ids ------------------------------------------------------------------------------------

    String messageId(long seq) {
        return db.epoch() + "-" + seq;
    }

    /** The row's seq for one of this database's ids, or -1. */
    long seqOf(String messageId) {
        int dash = messageId.lastIndexOf('-');
        if (dash <= 0 || !messageId.substring(0, dash).equals(db.epoch())) {
            return -1;
        }
        try {
            return Long.parseLong(messageId.substring(dash + 1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    // ---- reads ----------------------------------------------------------------------------------

    private static final String COLUMNS =
            "seq, target, topic, length(payload), state, attempts, created_at, next_attempt_at, last_error, idem_key, priority";

    @Override
    public Optional<OutboxMessage> get(String messageId) {
        long seq = seqOf(messageId);
        if (seq < 0) {
            return Optional.empty();
        }
        List<OutboxMessage> rows = query("SELECT " + COLUMNS + " FROM outbox WHERE seq = ?", seq);
        return rows.stream().findFirst();
    }

    @Override
    public List<OutboxMessage> list(OutboxState state, int limit) {
        return query("SELECT " + COLUMNS + " FROM outbox WHERE state = ? ORDER BY seq LIMIT ?", state.name(), limit);
    }

    private List<OutboxMessage> query(String sql, Object... args) {
        Connection c = db.reader();
        synchronized (c) {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < args.length; i++) {
                    ps.setObject(i + 1, args[i]);
                }
                List<OutboxMessage> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        OutboxState state = OutboxState.valueOf(rs.getString(5));
                        out.add(new OutboxMessage(messageId(rs.getLong(1)), NodeId.of(rs.getString(2)), rs.getString(3),
                                rs.getInt(4), state, rs.getInt(6), Instant.ofEpochMilli(rs.getLong(7)),
                                state == OutboxState.PENDING ? Optional.of(Instant.ofEpochMilli(rs.getLong(8))) : Optional.empty(),
                                Optional.ofNullable(rs.getString(9)), Optional.ofNullable(rs.getString(10)), rs.getInt(11)));
                    }
                }
                return out;
            } catch (SQLException e) {
                throw StorageErrors.map(e, db.file().toString());
            }
        }
    }

    @Override
    public OutboxStats stats() {
        Connection c = db.reader();
        Map<OutboxState, Long> byState = new EnumMap<>(OutboxState.class);
        Map<NodeId, Long> byTarget = new HashMap<>();
        Optional<Duration> oldest = Optional.empty();
        synchronized (c) {
            try {
                try (PreparedStatement ps = c.prepareStatement("SELECT state, COUNT(*) FROM outbox GROUP BY state");
                        ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        byState.put(OutboxState.valueOf(rs.getString(1)), rs.getLong(2));
                    }
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT target, COUNT(*) FROM outbox WHERE state IN ('PENDING', 'INFLIGHT') GROUP BY target");
                        ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        byTarget.put(NodeId.of(rs.getString(1)), rs.getLong(2));
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("SELECT MIN(created_at) FROM outbox WHERE state = 'PENDING'");
                        ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && rs.getObject(1) != null) {
                        oldest = Optional.of(Duration.ofMillis(Math.max(0, wallClock.millis() - rs.getLong(1))));
                    }
                }
            } catch (SQLException e) {
                throw StorageErrors.map(e, db.file().toString());
            }
        }
        return new OutboxStats(byState, byTarget, oldest, drainer.meter().perSecond());
    }

    // ---- admin ----------------------------------------------------------------------------------

    @Override
    public boolean retry(String messageId) {
        long seq = seqOf(messageId);
        if (seq < 0) {
            return false;
        }
        boolean changed = await(writer.submitInline(RowTransitions.retry(seq, wallClock.millis())));
        if (changed) {
            get(messageId).ifPresent(m -> drainer.enqueued(m.target()));
        }
        return changed;
    }

    @Override
    public boolean abort(String messageId) {
        long seq = seqOf(messageId);
        return seq >= 0 && await(writer.submitInline(RowTransitions.abort(seq, wallClock.millis())));
    }

    @Override
    public int purgeDone(Duration age) {
        return await(writer.submitInline(RowTransitions.purgeDone(wallClock.millis() - age.toMillis())));
    }

    /** Messages acknowledged by their receivers since this outbox started (cheap; for harnesses and tests). */
    public long deliveredCount() {
        return drainer.meter().total();
    }

    /** Group-commit figures: {@code writer.commits} and {@code writer.ops} (their ratio is the mean batch size). */
    public Map<String, Long> writerCounters() {
        return Map.of("writer.commits", writer.commits(), "writer.ops", writer.opsCommitted());
    }

    /** The writer's time split and batch-size histogram (see {@link Writer#timings()}). */
    public Map<String, Long> writerTimings() {
        return writer.timings();
    }

    /**
     * Inbox figures (delivered, duplicates acknowledged without delivery, failed, records in doubt
     * found at start), drain figures and {@code tasks.failed}.
     */
    public Map<String, Long> inboxCounters() {
        Map<String, Long> all = new HashMap<>(inbox.counters());
        all.putAll(drainer.counters());
        all.put("tasks.failed", taskFailures.get());
        return Map.copyOf(all);
    }

    private void housekeeping() {
        int purged = purgeDone(config.doneRetention());
        int pruned = inbox.prune();
        if (purged > 0 || pruned > 0) {
            LOG.debug("outbox purged {} done rows and {} inbox records", purged, pruned);
        }
    }

    /** Waits for a writer result, rethrowing its typed failure. */
    static <T> T await(CompletableFuture<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RetryableException(FailureCode.CANCELLED, "interrupted while waiting for the outbox", e);
        } catch (ExecutionException e) {
            throw unwrap(e.getCause());
        }
    }

    static RuntimeException unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof RuntimeException re) {
            return re;
        }
        return new PermanentException(FailureCode.INTERNAL, String.valueOf(t), t);
    }

    /**
     * Stops: first the drain (it takes no more rows, and outcomes arriving from now on leave
     * their rows INFLIGHT for the next start's recovery), then the writer and the file. Nothing
     * here marks a row; stopping never kills one.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        drainer.close();
        housekeeping.cancel(false);
        writer.close();
        completions.shutdown();
        try {
            completions.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        db.close();
    }

    /** The config in force. */
    public OutboxConfig config() {
        return config;
    }

    ScheduledExecutorService scheduler() {
        return scheduler;
    }
}
