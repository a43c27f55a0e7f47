package dev.meshwork.health.internal.sync;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import dev.meshwork.api.health.HealthEventType;
import dev.meshwork.health.internal.crdt.HealthDocument;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replicates a {@link HealthDocument} with the direct neighbours: anti-entropy by version-vector
 * digest plus prompt, coalesced pushes of new events. A pure state machine over an abstract
 * {@link Port}; it owns no thread.
 *
 * <p><b>Protocol.</b> Per neighbour the engine keeps {@code assumed}: what it believes the
 * neighbour holds (a version vector).
 * <ul>
 *   <li>Link up (and a neighbour's PEER_UP while linked, or a failed send to it): a
 *       <em>catch-up</em>, a request {@code DIGEST(my vv)} marked "answer me", repeated with a
 *       short jittered backoff ({@link SyncConfig#catchUpBackoff}, 200 ms doubling to 5 s by
 *       default) until a DIGEST or DELTA of the neighbour arrives whose vector we then cover
 *       (we hold all it holds). The first one is easily lost: the neighbour's health handler
 *       may not be registered yet when its link comes up, and the router then drops the message;
 *       so may the answer. A marked digest is always answered (with a plain digest when
 *       nothing else is due), so a catch-up ends as soon as messages get through; a node sends
 *       marked digests only while it is not caught up itself, so answers do not echo.</li>
 *   <li>Every anti-entropy interval: send {@code DIGEST(my vv)}.</li>
 *   <li>On {@code DIGEST(v)}: {@code assumed := v} (for a periodic digest, except what we sent
 *       in the last half interval, which may still be in flight; a <em>request</em> digest is
 *       taken literally). On {@code DELTA(fragments, v)}: join the
 *       fragments, {@code assumed := assumed ⊔ v}. Then, if the neighbour lacks something
 *       ({@code my vv ⋠ assumed}), answer {@code DELTA(exactly that, my vv)}; else if I lack
 *       something ({@code v ⋠ my vv}, or a fragment left a gap), answer a request
 *       {@code DIGEST(my vv)}, which the other side answers with exactly what is missing;
 *       else the digests match and the round ends: nothing is sent.</li>
 *   <li>A local event, or events newly learned from one neighbour, schedule a push after
 *       {@code pushWindow} (a quarter of it for events learned from a neighbour): every neighbour gets {@code PUSH(what it lacks per assumed)} and
 *       {@code assumed} moves up optimistically. That is how a change reaches nodes without a
 *       direct link: each hop pushes on what was new to it, never back to where it came from.</li>
 *   <li>On {@code PUSH}: join; {@code assumed} moves up to the fragments' ends; a gap (a lost or
 *       overtaken earlier message) is answered with a {@code DIGEST}.</li>
 * </ul>
 *
 * <p><b>Why a round terminates without a cap.</b> Let {@code D(A,B) = Σ_origin |vv_A − vv_B|},
 * the number of events one side holds and the other lacks. An answer is only sent when the
 * receiver computed {@code D > 0} from the version vector it just received, and it carries every
 * event the other side lacks by that vector, so after it is joined the other side lacks nothing
 * the sender had: the part of {@code D} on the sender's side is 0, and the other side's answer
 * (if any) removes the rest. Without new local events a round is thus at most DIGEST → DELTA →
 * DELTA, and the last message finds equal vectors and sends nothing. (A catch-up digest is
 * answered even then, with a plain digest; a digest is marked "answer me" only by a side that
 * still lacks something of the other, so such answers stop once neither lacks anything.) A
 * message cut at the size limit strictly shrinks {@code D} by the events it carries, and the
 * follow-up digest asks for the remainder. A lost message ends the round early; the next
 * interval (or, while catching up, the next repeat) starts a new one. New events extend a round
 * only by the events themselves, so it ends once they stop. Catch-up repeats end when the
 * neighbour's vector is covered or its link goes down; toward a linked node whose health sync
 * never answers (not installed there) they go on at the backoff cap, one small digest per cap
 * interval. {@code SyncEngineTest} and the simulation test check this.
 *
 * <p><b>Parts.</b> {@link OwnLog} numbers this node's own observations and makes them durable
 * before they leave; a {@link NeighbourSession} per neighbour holds what it is assumed to hold
 * and how its catch-up stands; {@link AntiEntropy#decide} is the answer to a message, a pure
 * function; {@link PushCoalescer} coalesces pushes; {@link DeltaBatcher} cuts deltas into
 * messages. This class holds the neighbour table, the counters and the timers, gathers each
 * decision's inputs and carries it out through the {@link Port}. Every timer runs under the
 * {@link TaskGuard}.
 *
 * <p><b>Threading:</b> not thread-safe; the owner calls every method on one thread (the
 * component's executor; the simulation's test thread).
 */
public final class SyncEngine {

    /** Sends bytes to a direct neighbour, best effort (loss is repaired by anti-entropy). */
    @FunctionalInterface
    public interface Port {
        void send(NodeId neighbour, byte[] payload);
    }

    /**
     * Makes the local node's own log durable up to a sequence number. Called before any message
     * carrying own events beyond what was durable leaves the node, so every own event a peer may
     * hold survives a crash of this node: after a restart with its state it never numbers an
     * event twice, and need not wait for its neighbours (see {@link OwnLogState}).
     *
     * <p>Throws (any RuntimeException) when the state could not be made durable: the own events
     * beyond the durable mark are then neither sent nor admitted to in version vectors until a
     * later attempt succeeds (they stay in the local view).
     */
    @FunctionalInterface
    public interface OwnLogStore {
        void persistThrough(long ownSeq);
    }

    /** What a starting engine knows of its own log. */
    public enum Start {
        /**
         * The document was loaded from this node's own state file: it holds every own event any
         * peer may hold (they are made durable before they are sent), so new events are numbered
         * at once.
         */
        STATE_INTACT,
        /**
         * The state was missing or corrupt: peers may hold later own events, so numbering waits
         * (at most {@link SyncConfig#rejoinTimeout}) until every linked neighbour told how far
         * the own log got.
         */
        STATE_LOST
    }

    /** Learns of events newly joined into the document, local or replicated, in order. */
    @FunctionalInterface
    public interface ChangeListener {
        void onNewEvents(List<HealthEvent> events);
    }

    private static final Logger LOG = LoggerFactory.getLogger(SyncEngine.class);

    private final NodeId self;
    private final HealthDocument doc;
    private final Port port;
    private final InstantSource wallClock;
    private final TaskGuard tasks;
    private final SyncConfig config;
    private final long session;
    private final ChangeListener listener;
    private final SplittableRandom random;
    private final OwnLog own;
    private final PushCoalescer push;
    private final DeltaBatcher batcher;
    private final Map<NodeId, NeighbourSession> neighbours = new LinkedHashMap<>();
    private final Map<String, AtomicLong> counters = new LinkedHashMap<>();
    private final List<ScheduledFuture<?>> periodic = new ArrayList<>();
    private long lastMalformedLog = Long.MIN_VALUE;

    /** An engine that assumes it lost its state ({@link Start#STATE_LOST}): the cautious start. */
    public SyncEngine(NodeId self, HealthDocument doc, Port port, InstantSource wallClock,
            ScheduledExecutorService scheduler, SyncConfig config, long session, ChangeListener listener,
            OwnLogStore ownLogStore) {
        this(self, doc, port, wallClock, scheduler, config, session, listener, ownLogStore, Start.STATE_LOST);
    }

    /**
     * @param start whether {@code doc} holds this node's own log as persisted through
     *              {@code ownLogStore} by its previous run
     */
    public SyncEngine(NodeId self, HealthDocument doc, Port port, InstantSource wallClock,
            ScheduledExecutorService scheduler, SyncConfig config, long session, ChangeListener listener,
            OwnLogStore ownLogStore, Start start) {
        this(self, doc, port, wallClock, new TaskGuard(scheduler), config, session, listener, ownLogStore, start);
    }

    /** @param tasks the owner's guarded scheduler (shared, so the owner sees every task end) */
    public SyncEngine(NodeId self, HealthDocument doc, Port port, InstantSource wallClock,
            TaskGuard tasks, SyncConfig config, long session, ChangeListener listener,
            OwnLogStore ownLogStore, Start start) {
        this.self = self;
        this.doc = doc;
        this.port = port;
        this.wallClock = wallClock;
        this.tasks = tasks;
        this.config = config;
        this.session = session == 0 ? 1 : session;
        this.listener = listener;
        this.random = new SplittableRandom(this.session);
        this.own = new OwnLog(self, doc, wallClock, ownLogStore, tasks, config.rejoinTimeout(), start, new OwnLog.Hooks() {
            @Override
            public void numbered(List<HealthEvent> fresh) {
                counters.get("events.recorded").addAndGet(fresh.size());
                listener.onNewEvents(fresh);
                push.schedule(config.pushWindow());
            }

            @Override
            public void durableAgain() {
                push.schedule(config.pushWindow());
            }

            @Override
            public void count(String name, long delta) {
                counters.get(name).addAndGet(delta);
            }

            @Override
            public Collection<NodeId> linked() {
                return neighbours.keySet();
            }
        });
        this.push = new PushCoalescer(tasks, this::flushPush);
        this.batcher = new DeltaBatcher(doc, self, config.maxEventsPerMessage(), this.session);
        for (String name : List.of("sent.digest", "sent.delta", "sent.push", "sent.bytes", "sent.events",
                "received.messages", "received.malformed", "received.gaps", "rounds.completed", "events.recorded",
                "events.learned", "events.compacted", "events.conflicting", "catchup.retries", "persist.withheld")) {
            counters.put(name, new AtomicLong());
        }
    }

    /** Starts the timers (rejoin timeout, anti-entropy, compaction). */
    public void start() {
        own.start();
        Duration ae = config.antiEntropyInterval();
        periodic.add(tasks.scheduleWithFixedDelay("anti-entropy", this::antiEntropy, ae, ae));
        Duration ci = config.compactionInterval();
        periodic.add(tasks.scheduleWithFixedDelay("compaction", this::compact, ci, ci));
    }

    /** Cancels the timers; a pending push is sent now. */
    public void stop() {
        periodic.forEach(f -> f.cancel(false));
        periodic.clear();
        neighbours.values().forEach(NeighbourSession::cancelCatchUp);
        own.stop();
        flushPush();
    }

    public NodeId self() {
        return self;
    }

    public HealthDocument document() {
        return doc;
    }

    public OwnLogState ownLogState() {
        return own.state();
    }

    public List<NodeId> neighbours() {
        return List.copyOf(neighbours.keySet());
    }

    /** Neighbours with an exchange in progress (the last digest or delta found a difference). */
    public List<NodeId> openRounds() {
        return neighbours.entrySet().stream().filter(e -> e.getValue().roundOpen).map(Map.Entry::getKey).toList();
    }

    public Map<String, Long> counters() {
        Map<String, Long> copy = new LinkedHashMap<>();
        counters.forEach((k, v) -> copy.put(k, v.get()));
        copy.put("tasks.failed", tasks.failures());
        return copy;
    }

    /** Records an observation of this node; numbered at once, or once the rejoin finished. */
    public void record(HealthEventType type, Optional<NodeId> subject, Map<String, String> attributes) {
        own.record(type, subject, attributes);
    }

    /**
     * Own observations held back while {@link OwnLogState#REJOINING}, numbered provisionally after
     * the own log as known now (the final numbers may be higher). Not part of the replicated
     * document; the view overlays them so a restarted node shows its own links at once.
     * Thread-safe.
     */
    public List<HealthEvent> provisionalOwn() {
        return own.provisional();
    }

    /** A direct link to {@code node} came up (or the peer restarted): start a round with a catch-up. */
    public void linkUp(NodeId node) {
        if (node.equals(self)) {
            return;
        }
        NeighbourSession n = new NeighbourSession();
        NeighbourSession old = neighbours.put(node, n);
        if (old != null) {
            old.cancelCatchUp();
        }
        catchUp(node, n);
    }

    /**
     * The neighbour came up again (a PEER_UP while linked, e.g. its link or its health handler
     * was re-established): ask it for its version vector at once, as after a link up, keeping what
     * is assumed it holds.
     */
    public void catchUp(NodeId node) {
        NeighbourSession n = neighbours.get(node);
        if (n == null) {
            linkUp(node);
            return;
        }
        n.cancelCatchUp();
        n.heard = false;
        n.catchUpRetries = 0;
        catchUp(node, n);
    }

    public void linkDown(NodeId node) {
        NeighbourSession n = neighbours.remove(node);
        if (n != null) {
            n.cancelCatchUp();
        }
    }

    /**
     * A message to {@code node} could not be sent (the router refused it: no route, or no health
     * handler there yet). Its arrival is no longer expected, so a catch-up in progress repeats at
     * its next backoff step; and a neighbour we had heard is asked again, as its handler may be
     * gone and come back without a link event.
     */
    public void sendFailed(NodeId node) {
        NeighbourSession n = neighbours.get(node);
        if (n == null) {
            return;
        }
        if (n.heard) {
            n.heard = false;
            n.catchUpRetries = 0;
            scheduleCatchUp(node, n);
        }
        // else: the catch-up timer is armed and repeats at the short backoff
    }

    /**
     * Sends the catch-up: a request (taken literally, so what we lack is sent even if the
     * neighbour sent it recently and it was lost), marked "answer me" by {@link #send}.
     */
    private void catchUp(NodeId node, NeighbourSession n) {
        n.roundOpen = true;
        send(node, request());
        scheduleCatchUp(node, n);
    }

    private void scheduleCatchUp(NodeId node, NeighbourSession n) {
        n.cancelCatchUp();
        Duration d = config.catchUpBackoff().delay(n.catchUpRetries, random.nextDouble());
        n.catchUpTimer = tasks.schedule("catch-up", () -> {
            n.catchUpTimer = null;
            if (neighbours.get(node) == n && !n.heard) {
                n.catchUpRetries++;
                count("catchup.retries");
                catchUp(node, n);
            }
        }, d);
    }

    /** Handles a sync message from {@code from}. */
    public void onMessage(NodeId from, byte[] payload) {
        count("received.messages");
        SyncMessage m;
        try {
            m = SyncCodec.decode(payload);
        } catch (SyncCodec.MalformedSyncException e) {
            count("received.malformed");
            logMalformed(from, e);
            return;
        }
        NeighbourSession n = neighbours.get(from);
        if (n != null && m.session() != 0 && m.session() != n.session) {
            n.restarted(m.session());
        }
        HealthDocument.ApplyResult applied = doc.apply(m.fragments());
        if (applied.gap()) {
            count("received.gaps");
        }
        if (applied.conflicts() > 0) {
            counters.get("events.conflicting").addAndGet(applied.conflicts());
            LOG.warn("health sync from {}: {} events differ from the held ones under the same number "
                    + "(an origin reused sequence numbers after losing its state)", from, applied.conflicts());
        }
        if (n != null) {
            own.heardFrom(from, m.version(), neighbours.keySet());
        }
        if (!applied.fresh().isEmpty()) {
            own.joined(); // own events came back: the provisional numbers move up
            counters.get("events.learned").addAndGet(applied.fresh().size());
            listener.onNewEvents(applied.fresh());
            // Passed on after a quarter of the window: each hop adds its window to the
            // propagation time, and events arriving together are still coalesced.
            push.schedule(config.pushWindow().dividedBy(4));
        }
        if (n == null) {
            return; // not (or no longer) a direct neighbour: joined, but no conversation
        }
        n.received(m.fragments());
        if (m.kind() == SyncMessage.Kind.DELTA) {
            n.digestOutstandingSince = -1;
        }
        boolean iLack = applied.gap() || m.truncated();
        boolean peerLacks = false;
        if (m.kind() != SyncMessage.Kind.PUSH) {
            Map<NodeId, Long> version = m.version().orElseThrow();
            if (m.kind() == SyncMessage.Kind.DIGEST) {
                if (m.request()) {
                    n.assumed = new HashMap<>(version); // a request is taken literally
                } else {
                    n.digest(version, wallClock.millis(), config.antiEntropyInterval().toMillis() / 2);
                }
            } else {
                version.forEach((o, s) -> n.assumed.merge(o, s, Math::max));
            }
            Map<NodeId, Long> mine = doc.versionVector();
            for (Map.Entry<NodeId, Long> e : version.entrySet()) {
                if (e.getValue() > mine.getOrDefault(e.getKey(), 0L)) {
                    iLack = true;
                }
            }
            own.makeDurable();
            peerLacks = batcher.lacks(n, own.durable());
        }
        AntiEntropy.Decision d = AntiEntropy.decide(new AntiEntropy.Input(m.kind(), iLack, peerLacks,
                n.answerPending(wallClock.millis(), config.antiEntropyInterval().toMillis() / 2), m.answer(), n.heard,
                n.roundOpen));
        if (d.heard() && !n.heard) {
            n.heard = true;
            n.cancelCatchUp();
        }
        switch (d.reply()) {
            case DELTA -> sendDelta(from, n, SyncMessage.Kind.DELTA);
            case REQUEST -> send(from, request());
            case DIGEST -> send(from, digest());
            case NONE -> {
                // nothing differs, or an answer is on its way
            }
        }
        if (d.roundCompleted()) {
            count("rounds.completed");
        }
        n.roundOpen = d.roundOpen();
    }

    /** Sends a digest to every neighbour (the periodic anti-entropy round). */
    public void antiEntropy() {
        for (Map.Entry<NodeId, NeighbourSession> e : neighbours.entrySet()) {
            send(e.getKey(), digest());
        }
    }

    /** Compacts events older than the retention window. */
    public void compact() {
        int n = doc.compact(wallClock.instant().minus(config.retention()), config.maxEventsPerOrigin());
        counters.get("events.compacted").addAndGet(n);
    }

    /** Sends what every neighbour lacks now (normally run by the push timer). */
    public void flushPush() {
        push.cancel();
        for (Map.Entry<NodeId, NeighbourSession> e : neighbours.entrySet()) {
            own.makeDurable(); // per neighbour: a failed write is tried again before the next one
            sendDelta(e.getKey(), e.getValue(), SyncMessage.Kind.PUSH);
        }
    }

    /** Sends what {@code n} lacks; own events only once durable ({@link OwnLog#makeDurable} ran before). */
    private void sendDelta(NodeId to, NeighbourSession n, SyncMessage.Kind kind) {
        batcher.send(n, kind, own.durable(), wallClock::millis, own::advertised, (m, events) -> {
            send(to, m);
            counters.get("sent.events").addAndGet(events);
        });
    }

    /** A digest that says "I lack something you have": answered with a delta, never a digest. */
    private SyncMessage request() {
        own.makeDurable();
        return new SyncMessage(SyncMessage.Kind.DIGEST, session, Optional.of(own.advertised()), List.of(), false, true);
    }

    private SyncMessage digest() {
        own.makeDurable();
        return new SyncMessage(SyncMessage.Kind.DIGEST, session, Optional.of(own.advertised()), List.of(), false);
    }

    private void send(NodeId to, SyncMessage m) {
        if (m.kind() == SyncMessage.Kind.DIGEST) {
            NeighbourSession n = neighbours.get(to);
            if (n != null) {
                n.digestOutstandingSince = wallClock.millis();
                if (!n.heard) {
                    m = new SyncMessage(m.kind(), m.session(), m.version(), m.fragments(), m.truncated(), m.request(), true);
                }
            }
        }
        byte[] bytes = SyncCodec.encode(m);
        count("sent." + m.kind().name().toLowerCase(Locale.ROOT));
        counters.get("sent.bytes").addAndGet(bytes.length);
        try {
            port.send(to, bytes);
        } catch (RuntimeException e) {
            LOG.debug("health sync to {} failed: {}", to, e.toString());
        }
    }

    private void count(String name) {
        counters.computeIfAbsent(name, k -> new AtomicLong()).incrementAndGet();
    }

    private void logMalformed(NodeId from, Exception e) {
        long now = System.nanoTime();
        if (lastMalformedLog == Long.MIN_VALUE || now - lastMalformedLog > TimeUnit.SECONDS.toNanos(10)) {
            lastMalformedLog = now;
            LOG.warn("dropped a malformed health sync message from {} ({} so far): {}", from,
                    counters.get("received.malformed").get(), e.getMessage());
        }
    }
}
