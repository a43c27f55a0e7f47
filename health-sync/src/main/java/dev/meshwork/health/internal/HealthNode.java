package dev.meshwork.health.internal;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import dev.meshwork.api.health.HealthEventType;
import dev.meshwork.api.health.HealthView;
import dev.meshwork.api.health.NodeStatus;
import dev.meshwork.api.health.Observation;
import dev.meshwork.api.lifecycle.LifecycleEvent;
import dev.meshwork.api.router.InboundMessage;
import dev.meshwork.api.router.PeerEvent;
import dev.meshwork.api.router.Router;
import dev.meshwork.api.router.SendOptions;
import dev.meshwork.health.internal.crdt.HealthDocument;
import dev.meshwork.health.internal.crdt.HealthQueries;
import dev.meshwork.health.internal.crdt.OriginSnapshot;
import dev.meshwork.health.internal.crdt.Summary;
import dev.meshwork.health.internal.sync.OwnLogState;
import dev.meshwork.health.internal.sync.SyncConfig;
import dev.meshwork.health.internal.sync.SyncEngine;
import dev.meshwork.health.internal.sync.TaskGuard;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node's health replica wired to the Router: records this node's own observations (peer
 * events, RTT summaries, gateway states, its own start and stop), replicates the document with
 * the direct neighbours through a {@link SyncEngine}, persists it through a {@link StateStore},
 * and answers the {@link HealthView} queries. Plain Java; the DS component only builds it.
 *
 * <p><b>Threading:</b> every change runs on the given single-threaded scheduler (callers on other
 * threads hand their work to it); queries read a consistent snapshot from any thread.
 */
public final class HealthNode implements HealthView {

    /** The Router topic of health sync messages. */
    public static final String TOPIC = "meshwork.health.sync";

    private static final Logger LOG = LoggerFactory.getLogger(HealthNode.class);

    private final Router router;
    private final StateStore store;
    private final SyncConfig config;
    private final InstantSource wallClock;
    private final ScheduledExecutorService executor;
    private final TaskGuard tasks;
    private final Duration persistDelay;
    private final Duration rttInterval;
    private final Consumer<List<HealthEvent>> changes;
    private final HealthDocument doc = new HealthDocument();
    private final AtomicLong sendFailures = new AtomicLong();
    private final AtomicLong persistFailures = new AtomicLong();
    private SyncEngine engine;
    private NodeId self;
    private ScheduledFuture<?> persistTimer;
    private ScheduledFuture<?> rttTimer;
    private ScheduledFuture<?> reconcileTimer;
    private int reconcileRetries;
    private PeerTracker peers;
    private Optional<String> lastPersistError = Optional.empty();
    /** What every other thread reads; replaced by the health thread after each of its tasks. */
    private volatile HealthSnapshot published = HealthSnapshot.EMPTY;
    private long publishedMark = -1;
    private List<HealthEvent> publishedProvisional = List.of();
    /** Set by {@link #stop}: events racing with the unregistration of the whiteboard services are ignored. */
    private volatile boolean stopped;
    private boolean startedWithState;
    private final java.util.function.LongSupplier sessions;

    public HealthNode(Router router, StateStore store, SyncConfig config, InstantSource wallClock,
            ScheduledExecutorService executor, Duration persistDelay, Duration rttInterval,
            Consumer<List<HealthEvent>> changes) {
        this(router, store, config, wallClock, executor, persistDelay, rttInterval, changes,
                () -> new java.security.SecureRandom().nextLong());
    }

    /**
     * @param sessions a new sync session id per start (neighbours tell a restart by it); it also
     *                 seeds the catch-up jitter, so tests pass a deterministic source
     */
    public HealthNode(Router router, StateStore store, SyncConfig config, InstantSource wallClock,
            ScheduledExecutorService executor, Duration persistDelay, Duration rttInterval,
            Consumer<List<HealthEvent>> changes, java.util.function.LongSupplier sessions) {
        this.sessions = sessions;
        this.router = router;
        this.store = store;
        this.config = config;
        this.wallClock = wallClock;
        this.executor = executor;
        this.tasks = new TaskGuard(executor, this::publish);
        this.persistDelay = persistDelay;
        this.rttInterval = rttInterval;
        this.changes = changes;
    }

    /**
     * Loads the persisted state (a corrupt file is moved aside), records this node's start and
     * opens a sync round with every direct neighbour. Call on the executor's thread or before
     * anything else uses this node.
     *
     * <p>A node whose own state file loaded numbers its events at once: every own event that ever
     * left it was persisted first, so the file knows the end of its log. A node without it (no
     * file, corrupt, or written under another node id) waits at most the rejoin timeout for its
     * neighbours to tell how far its log got ({@link OwnLogState}); its own observations show in
     * its view meanwhile.
     */
    public void start() {
        self = router.localNode();
        Optional<dev.meshwork.health.internal.sync.SyncCodec.State> loaded = store.loadState();
        loaded.ifPresent(state -> doc.apply(state.fragments()));
        boolean intact = loaded.isPresent() && loaded.get().node().map(self::equals).orElse(false);
        startedWithState = intact;
        if (loaded.isPresent() && !intact) {
            LOG.warn("health state {} was written by {}, not {}: this node's own log is treated as lost",
                    store.file(), loaded.get().node().map(NodeId::value).orElse("an unknown node"), self);
        }
        engine = new SyncEngine(self, doc, this::send, wallClock, tasks, config,
                sessions.getAsLong(), this::onNewEvents, seq -> {
                    if (!persistNow()) {
                        throw new IllegalStateException("health state not persisted: " + lastPersistError.orElse("?"));
                    }
                }, intact ? SyncEngine.Start.STATE_INTACT : SyncEngine.Start.STATE_LOST);
        engine.start();
        peers = new PeerTracker(router, engine);
        engine.record(HealthEventType.NODE_STARTED, Optional.empty(), Map.of("incarnation", UUID.randomUUID().toString()));
        // The peer listener is registered only after this start returns: look at the router now,
        // again a moment later (what came up in between was announced to nobody), and then every
        // anti-entropy interval; while the router cannot answer, at the catch-up backoff.
        peers.reconcile();
        scheduleReconcile(config.catchUpBackoff().base());
        publish();
        rttTimer = tasks.scheduleWithFixedDelay("rtt summaries", peers::recordRttSummaries, rttInterval, rttInterval);
    }

    private void scheduleReconcile(Duration delay) {
        reconcileTimer = tasks.schedule("peer reconciliation", () -> {
            if (stopped) {
                return;
            }
            if (peers.reconcile()) {
                reconcileRetries = 0;
                scheduleReconcile(config.antiEntropyInterval());
            } else {
                scheduleReconcile(config.catchUpBackoff().delay(++reconcileRetries, 0.5));
            }
        }, delay);
    }

    /** Records the orderly stop, pushes it to the neighbours and persists. */
    public void stop() {
        stopped = true;
        if (rttTimer != null) {
            rttTimer.cancel(false);
        }
        if (reconcileTimer != null) {
            reconcileTimer.cancel(false);
        }
        engine.record(HealthEventType.NODE_STOPPED, Optional.empty(), Map.of());
        engine.stop();
        if (persistTimer != null) {
            persistTimer.cancel(false);
        }
        persistNow();
        publish();
    }

    /** For the PeerListener whiteboard: hands the event to the executor. */
    public void onPeerEvent(PeerEvent event) {
        onExecutor("peer event", () -> handlePeerEvent(event));
    }

    /** For the MessageHandler whiteboard: hands the message to the executor. */
    public void onSyncMessage(InboundMessage message) {
        if (message.relayedBy().isPresent()) {
            return; // sync is hop by hop between direct neighbours; a relayed one is stale routing
        }
        onExecutor("sync message", () -> {
            peers.adopt(message.source()); // a direct link that came up unannounced
            engine.onMessage(message.source(), message.payload());
        });
    }

    /** For the LifecycleListener whiteboard: records a supervised gateway's new state. */
    public void onLifecycleEvent(LifecycleEvent event) {
        onExecutor("lifecycle event", () -> engine.record(HealthEventType.GATEWAY_STATE, Optional.empty(), Map.of("gateway", event.gateway(),
                "state", event.to().name(), "epoch", Long.toString(event.epoch()), "reason", event.reason())));
    }

    /**
     * Hands whiteboard work to the executor unless this node has stopped. A callback racing with
     * the unregistration of the whiteboard services may arrive after {@link #stop} and after the
     * owner shut the executor down; it is dropped, not thrown back at the Router as a
     * {@link RejectedExecutionException}.
     */
    private void onExecutor(String what, Runnable work) {
        if (stopped) {
            return;
        }
        try {
            tasks.execute(what, () -> {
                if (!stopped) {
                    work.run();
                }
            });
        } catch (RejectedExecutionException e) {
            LOG.debug("health node stopped: late callback dropped");
        }
    }

    void handlePeerEvent(PeerEvent event) {
        peers.onPeerEvent(event);
    }

    private void send(NodeId neighbour, byte[] payload) {
        router.send(neighbour, TOPIC, payload, SendOptions.DEFAULT.withAck(false)).whenComplete((r, failure) -> {
            if (failure != null) {
                // The catch-up repeats it at a short backoff; one debug line, a counter.
                sendFailures.incrementAndGet();
                LOG.debug("health sync to {} not sent: {}", neighbour, failure.toString());
                onExecutor("send failure", () -> engine.sendFailed(neighbour));
            }
        });
    }

    private void onNewEvents(List<HealthEvent> events) {
        schedulePersist();
        try {
            changes.accept(events);
        } catch (RuntimeException e) {
            LOG.warn("a health listener failed", e);
        }
    }

    private void schedulePersist() {
        if (persistTimer == null || persistTimer.isDone()) {
            persistTimer = tasks.schedule("persist", this::persistNow, persistDelay);
        }
    }

    private boolean persistNow() {
        try {
            store.save(self, doc.snapshot().values());
            lastPersistError = Optional.empty();
            return true;
        } catch (IOException | RuntimeException e) {
            persistFailures.incrementAndGet();
            lastPersistError = Optional.of(e.toString());
            if (persistFailures.get() == 1 || persistFailures.get() % 100 == 0) {
                LOG.warn("cannot persist health state to {} ({} failures so far): {}", store.file(), persistFailures.get(), e.toString());
            }
            return false;
        }
    }

    /**
     * Publishes the snapshot every other thread reads. Runs on the health thread, at the end of
     * the start, the stop and every task; the document's part is rebuilt only when it changed.
     */
    void publish() {
        if (engine == null) {
            return;
        }
        long mark = doc.changeMark();
        List<HealthEvent> provisional = engine.provisionalOwn();
        HealthQueries queries = published.queries();
        if (mark != publishedMark || provisional != publishedProvisional) {
            queries = queries(provisional);
            publishedMark = mark;
            publishedProvisional = provisional;
        }
        Map<String, Long> c = new LinkedHashMap<>(engine.counters());
        c.put("send.failures", sendFailures.get());
        c.put("persist.failures", persistFailures.get());
        peers.counters(c);
        published = new HealthSnapshot(queries, doc.versionVector(), c, engine.ownLogState(), engine.neighbours(),
                startedWithState, lastPersistError);
    }

    /** The latest published snapshot (any thread). */
    public HealthSnapshot snapshot() {
        return published;
    }

    /** Counters of the sync engine and this node, by name, as last published. */
    public Map<String, Long> counters() {
        return published.counters();
    }

    public OwnLogState ownLogState() {
        return published.ownLog();
    }

    public List<NodeId> syncNeighbours() {
        return published.neighbours();
    }

    public Optional<String> lastPersistError() {
        return published.lastPersistError();
    }

    HealthDocument document() {
        return doc;
    }

    /** Whether this start found its own state file (so it numbered its events without waiting). */
    public boolean startedWithState() {
        return published.startedWithState();
    }

    /**
     * The document, plus this node's own observations still held back by a rejoin: a restarted
     * node shows its own links at once, before it may number them.
     */
    private HealthQueries queries(List<HealthEvent> provisional) {
        Map<NodeId, OriginSnapshot> snapshot = doc.snapshot();
        if (!provisional.isEmpty()) {
            Map<NodeId, OriginSnapshot> overlaid = new java.util.TreeMap<>(snapshot);
            OriginSnapshot own = overlaid.get(self);
            List<HealthEvent> events = new java.util.ArrayList<>(own == null ? List.of() : own.events());
            long next = own == null ? 0 : own.version();
            for (HealthEvent e : provisional) { // renumbered: own events may have arrived meanwhile
                events.add(new HealthEvent(self, ++next, e.at(), e.type(), e.subject(), e.attributes()));
            }
            overlaid.put(self, new OriginSnapshot(self, own == null ? Summary.EMPTY : own.summary(), events));
            snapshot = java.util.Collections.unmodifiableMap(overlaid);
        }
        return new HealthQueries(snapshot);
    }

    private HealthQueries queries() {
        return published.queries();
    }

    @Override
    public List<NodeId> nodes() {
        return queries().nodes();
    }

    @Override
    public List<Observation> observations() {
        return queries().observations();
    }

    @Override
    public Optional<NodeStatus> status(NodeId node) {
        return queries().status(node);
    }

    @Override
    public List<HealthEvent> timeline(NodeId node, Instant since, int limit) {
        return queries().timeline(node, since, limit);
    }

    @Override
    public double uptime(NodeId node, Duration window) {
        return queries().uptime(node, window, wallClock.instant());
    }

    @Override
    public Map<NodeId, Long> versionVector() {
        return published.versionVector();
    }
}
