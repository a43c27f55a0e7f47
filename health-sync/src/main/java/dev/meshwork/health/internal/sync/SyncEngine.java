package dev.meshwork.health.internal.sync;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import dev.meshwork.api.health.HealthEventType;
import dev.meshwork.health.internal.crdt.Fragment;
import dev.meshwork.health.internal.crdt.HealthDocument;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
    private final OwnLogStore ownLogStore;
    private final java.util.SplittableRandom random;
    private long durableOwn;
    /** Own events were held back because they could not be made durable. */
    private boolean withheld;
    /** Own observations held back by the rejoin, numbered provisionally for the view (read from any thread). */
    private volatile List<HealthEvent> provisional = List.of();
    private final java.util.Set<NodeId> rejoinHeard = new java.util.HashSet<>();
    private final Map<NodeId, Neighbour> neighbours = new LinkedHashMap<>();
    private final List<Pending> pendingOwn = new ArrayList<>();
    private final Map<String, AtomicLong> counters = new LinkedHashMap<>();
    private OwnLogState ownLog = OwnLogState.REJOINING;
    private ScheduledFuture<?> pushTimer;
    private ScheduledFuture<?> rejoinTimer;
    private final List<ScheduledFuture<?>> periodic = new ArrayList<>();
    private long lastMalformedLog = Long.MIN_VALUE;

    private static final class Neighbour {
        long session;
        Map<NodeId, Long> assumed = new HashMap<>();
        /** When {@code assumed} was last raised optimistically per origin (wall millis). */
        Map<NodeId, Long> sentAt = new HashMap<>();
        boolean roundOpen;
        /** When we last sent this neighbour a digest it has not answered with a delta (wall millis), or -1. */
        long digestOutstandingSince = -1;
        /**
         * Whether, since the link came up, a version vector of it arrived that we then covered:
         * we hold all it holds, so the catch-up is over.
         */
        boolean heard;
        /** Catch-up digests repeated so far (the backoff step). */
        int catchUpRetries;
        ScheduledFuture<?> catchUpTimer;
    }

    private record Pending(Instant at, HealthEventType type, Optional<NodeId> subject, Map<String, String> attributes) {
    }

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
        this.ownLogStore = ownLogStore;
        this.random = new java.util.SplittableRandom(this.session);
        this.durableOwn = doc.version(self);
        if (start == Start.STATE_INTACT) {
            ownLog = OwnLogState.RECORDING;
        }
        for (String name : List.of("sent.digest", "sent.delta", "sent.push", "sent.bytes", "sent.events",
                "received.messages", "received.malformed", "received.gaps", "rounds.completed", "events.recorded",
                "events.learned", "events.compacted", "events.conflicting", "catchup.retries", "persist.withheld")) {
            counters.put(name, new AtomicLong());
        }
    }

    /** Starts the timers (rejoin timeout, anti-entropy, compaction). */
    public void start() {
        if (ownLog == OwnLogState.REJOINING) {
            scheduleRejoinTimeout();
        }
        Duration ae = config.antiEntropyInterval();
        periodic.add(tasks.scheduleWithFixedDelay("anti-entropy", this::antiEntropy, ae, ae));
        Duration ci = config.compactionInterval();
        periodic.add(tasks.scheduleWithFixedDelay("compaction", this::compact, ci, ci));
    }

    /** Cancels the timers; a pending push is sent now. */
    public void stop() {
        periodic.forEach(f -> f.cancel(false));
        periodic.clear();
        neighbours.values().forEach(SyncEngine::cancelCatchUp);
        if (rejoinTimer != null) {
            rejoinTimer.cancel(false);
        }
        finishRejoin();
        flushPush();
    }

    public NodeId self() {
        return self;
    }

    public HealthDocument document() {
        return doc;
    }

    public OwnLogState ownLogState() {
        return ownLog;
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
        pendingOwn.add(new Pending(wallClock.instant().truncatedTo(ChronoUnit.MILLIS), type, subject, attributes));
        if (ownLog == OwnLogState.RECORDING) {
            numberPending();
        } else {
            updateProvisional();
        }
    }

    /**
     * Own observations held back while {@link OwnLogState#REJOINING}, numbered provisionally after
     * the own log as known now (the final numbers may be higher). Not part of the replicated
     * document; the view overlays them so a restarted node shows its own links at once.
     * Thread-safe.
     */
    public List<HealthEvent> provisionalOwn() {
        return provisional;
    }

    private void updateProvisional() {
        long next = doc.version(self);
        List<HealthEvent> list = new ArrayList<>(pendingOwn.size());
        for (Pending p : pendingOwn) {
            list.add(new HealthEvent(self, ++next, p.at(), p.type(), p.subject(), p.attributes()));
        }
        provisional = List.copyOf(list);
    }

    /** A direct link to {@code node} came up (or the peer restarted): start a round with a catch-up. */
    public void linkUp(NodeId node) {
        if (node.equals(self)) {
            return;
        }
        Neighbour n = new Neighbour();
        Neighbour old = neighbours.put(node, n);
        if (old != null) {
            cancelCatchUp(old);
        }
        catchUp(node, n);
    }

    /**
     * The neighbour came up again (a PEER_UP while linked, e.g. its link or its health handler
     * was re-established): ask it for its version vector at once, as after a link up, keeping what
     * is assumed it holds.
     */
    public void catchUp(NodeId node) {
        Neighbour n = neighbours.get(node);
        if (n == null) {
            linkUp(node);
            return;
        }
        cancelCatchUp(n);
        n.heard = false;
        n.catchUpRetries = 0;
        catchUp(node, n);
    }

    public void linkDown(NodeId node) {
        Neighbour n = neighbours.remove(node);
        if (n != null) {
            cancelCatchUp(n);
        }
    }

    /**
     * A message to {@code node} could not be sent (the router refused it: no route, or no health
     * handler there yet). Its arrival is no longer expected, so a catch-up in progress repeats at
     * its next backoff step; and a neighbour we had heard is asked again, as its handler may be
     * gone and come back without a link event.
     */
    public void sendFailed(NodeId node) {
        Neighbour n = neighbours.get(node);
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
    private void catchUp(NodeId node, Neighbour n) {
        n.roundOpen = true;
        send(node, request());
        scheduleCatchUp(node, n);
    }

    private void scheduleCatchUp(NodeId node, Neighbour n) {
        cancelCatchUp(n);
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

    private static void cancelCatchUp(Neighbour n) {
        if (n.catchUpTimer != null) {
            n.catchUpTimer.cancel(false);
            n.catchUpTimer = null;
        }
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
        Neighbour n = neighbours.get(from);
        if (n != null && m.session() != 0 && m.session() != n.session) {
            n.session = m.session();
            n.assumed = new HashMap<>();
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
        // A neighbour's version vector says how far our own log got before this start; once we
        // hold at least what every linked neighbour holds of it, numbering new events does not
        // reuse a sequence number (see OwnLogState).
        if (ownLog == OwnLogState.REJOINING && n != null && m.version().isPresent()
                && m.version().get().getOrDefault(self, 0L) <= doc.version(self)) {
            rejoinHeard.add(from);
            if (rejoinHeard.containsAll(neighbours.keySet())) {
                finishRejoin();
            }
        }
        if (ownLog == OwnLogState.REJOINING && !applied.fresh().isEmpty()) {
            updateProvisional(); // own events came back: the provisional numbers move up
        }
        if (!applied.fresh().isEmpty()) {
            counters.get("events.learned").addAndGet(applied.fresh().size());
            listener.onNewEvents(applied.fresh());
            // Passed on after a quarter of the window: each hop adds its window to the
            // propagation time, and events arriving together are still coalesced.
            schedulePush(config.pushWindow().dividedBy(4));
        }
        if (n == null) {
            return; // not (or no longer) a direct neighbour: joined, but no conversation
        }
        for (Fragment f : m.fragments()) {
            n.assumed.merge(f.origin(), f.upTo(), Math::max);
        }
        if (m.kind() == SyncMessage.Kind.DELTA) {
            n.digestOutstandingSince = -1;
        }
        boolean iLack = applied.gap() || m.truncated();
        switch (m.kind()) {
            case PUSH -> {
                if (iLack) {
                    n.roundOpen = true;
                    send(from, request());
                }
                return;
            }
            case DIGEST -> n.assumed = m.request() ? new HashMap<>(m.version().orElseThrow())
                    : fromDigest(n, m.version().orElseThrow());
            case DELTA -> m.version().orElseThrow().forEach((o, s) -> n.assumed.merge(o, s, Math::max));
        }
        Map<NodeId, Long> mine = doc.versionVector();
        for (Map.Entry<NodeId, Long> e : m.version().orElseThrow().entrySet()) {
            if (e.getValue() > mine.getOrDefault(e.getKey(), 0L)) {
                iLack = true;
            }
        }
        if (!iLack && !n.heard) {
            // Caught up: we hold all the neighbour holds (for a rejoining node, its own log's
            // end among it). Until then the catch-up repeats, so a lost answer is asked again.
            n.heard = true;
            cancelCatchUp(n);
        }
        if (sendDelta(from, n, SyncMessage.Kind.DELTA)) {
            n.roundOpen = true;
        } else if (iLack && !(m.kind() == SyncMessage.Kind.DIGEST && answerPending(n))) {
            // (When our own digest is still unanswered, its answer brings what we lack: asking
            // again would only have it sent twice — the crossing digests of a link coming up.)
            n.roundOpen = true;
            send(from, request());
        } else if (iLack) {
            n.roundOpen = true;
            if (m.answer()) {
                // The other side has not heard us: our digest crossed its own, or was lost. A
                // plain digest answers either way: if it crossed, what the other side sent for it
                // is recent and not sent again (see fromDigest); if it was lost, this one is
                // answered with what we lack.
                send(from, digest());
            }
        } else {
            if (m.answer()) {
                send(from, digest()); // a catch-up is always answered, even when nothing differs
            }
            if (n.roundOpen) {
                count("rounds.completed");
            }
            n.roundOpen = false;
        }
    }

    /**
     * A digest says what the neighbour held when it sent it; what we sent it since may still be
     * in flight. So the digest replaces our assumption, except where we sent more within the last
     * half anti-entropy interval: without that, every digest crossing a push would have the push
     * sent twice. A push that was really lost is repaired by the next digest after that.
     */
    private Map<NodeId, Long> fromDigest(Neighbour n, Map<NodeId, Long> digest) {
        Map<NodeId, Long> next = new HashMap<>(digest);
        long now = wallClock.millis();
        long grace = config.antiEntropyInterval().toMillis() / 2;
        n.assumed.forEach((origin, seq) -> {
            Long sent = n.sentAt.get(origin);
            if (sent != null && now - sent < grace && seq > next.getOrDefault(origin, 0L)) {
                next.put(origin, seq);
            }
        });
        return next;
    }

    /** Sends a digest to every neighbour (the periodic anti-entropy round). */
    public void antiEntropy() {
        for (Map.Entry<NodeId, Neighbour> e : neighbours.entrySet()) {
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
        if (pushTimer != null) {
            pushTimer.cancel(false);
            pushTimer = null;
        }
        for (Map.Entry<NodeId, Neighbour> e : neighbours.entrySet()) {
            sendDelta(e.getKey(), e.getValue(), SyncMessage.Kind.PUSH);
        }
    }

    private void schedulePush() {
        schedulePush(config.pushWindow());
    }

    private void schedulePush(Duration window) {
        if (pushTimer == null) {
            pushTimer = tasks.schedule("push", () -> {
                pushTimer = null;
                flushPush();
            }, window);
        }
    }

    /**
     * Sends everything {@code n} lacks per its assumed vector, in messages of at most
     * {@code maxEventsPerMessage} events; only a DELTA's last message carries the version vector
     * (the earlier ones go as pushes, so the receiver does not ask for what is still on its way).
     *
     * @return whether anything was sent
     */
    private boolean sendDelta(NodeId to, Neighbour n, SyncMessage.Kind kind) {
        boolean sent = false;
        makeOwnLogDurable();
        while (true) {
            HealthDocument.Delta d = doc.deltaFor(n.assumed, config.maxEventsPerMessage(), self, durableOwn);
            if (d.isEmpty()) {
                return sent;
            }
            for (Fragment f : d.fragments()) {
                n.assumed.merge(f.origin(), f.upTo(), Math::max);
                n.sentAt.put(f.origin(), wallClock.millis());
            }
            boolean last = !d.truncated();
            if (kind == SyncMessage.Kind.DELTA && last) {
                send(to, new SyncMessage(SyncMessage.Kind.DELTA, session, Optional.of(advertised()), d.fragments(), false));
            } else {
                send(to, new SyncMessage(SyncMessage.Kind.PUSH, 0, Optional.empty(), d.fragments(), false));
            }
            counters.get("sent.events").addAndGet(d.eventCount());
            sent = true;
            if (last) {
                return true;
            }
        }
    }

    /**
     * Makes every own event durable before any of them can leave (see {@link OwnLogStore}). When
     * that fails, the events beyond the durable mark are withheld: a crash now would otherwise
     * leave peers holding own events the restarted node does not know it numbered.
     */
    private void makeOwnLogDurable() {
        long own = doc.version(self);
        if (own <= durableOwn) {
            return;
        }
        try {
            ownLogStore.persistThrough(own);
            durableOwn = own;
            if (withheld) {
                withheld = false;
                schedulePush(); // what was held back goes out now (the next digest retried the write)
            }
        } catch (RuntimeException e) {
            withheld = true;
            count("persist.withheld");
            LOG.debug("own health events {}..{} withheld until they are durable: {}", durableOwn + 1, own, e.toString());
        }
    }

    /** The version vector as told to others: the own entry only as far as it is durable. */
    private Map<NodeId, Long> advertised() {
        Map<NodeId, Long> vv = new java.util.TreeMap<>(doc.versionVector());
        if (vv.getOrDefault(self, 0L) > durableOwn) {
            if (durableOwn == 0) {
                vv.remove(self);
            } else {
                vv.put(self, durableOwn);
            }
        }
        return vv;
    }

    /** A digest that says "I lack something you have": answered with a delta, never a digest. */
    private SyncMessage request() {
        makeOwnLogDurable();
        return new SyncMessage(SyncMessage.Kind.DIGEST, session, Optional.of(advertised()), List.of(), false, true);
    }

    private SyncMessage digest() {
        makeOwnLogDurable();
        return new SyncMessage(SyncMessage.Kind.DIGEST, session, Optional.of(advertised()), List.of(), false);
    }

    private boolean answerPending(Neighbour n) {
        return n.digestOutstandingSince >= 0
                && wallClock.millis() - n.digestOutstandingSince < config.antiEntropyInterval().toMillis() / 2;
    }

    private void send(NodeId to, SyncMessage m) {
        if (m.kind() == SyncMessage.Kind.DIGEST) {
            Neighbour n = neighbours.get(to);
            if (n != null) {
                n.digestOutstandingSince = wallClock.millis();
                if (!n.heard) {
                    m = new SyncMessage(m.kind(), m.session(), m.version(), m.fragments(), m.truncated(), m.request(), true);
                }
            }
        }
        byte[] bytes = SyncCodec.encode(m);
        count("sent." + m.kind().name().toLowerCase(java.util.Locale.ROOT));
        counters.get("sent.bytes").addAndGet(bytes.length);
        try {
            port.send(to, bytes);
        } catch (RuntimeException e) {
            LOG.debug("health sync to {} failed: {}", to, e.toString());
        }
    }

    /**
     * The rejoin of a node that lost its state ends at the latest after {@link SyncConfig#rejoinTimeout}.
     * Linked neighbours are asked promptly (the catch-up repeats at a short backoff), so a
     * neighbour that is really there has answered long before; one that has not may be slow or
     * gone, and a bounded wait is worth more than the rare reuse it could still prevent (see
     * {@link OwnLogState} for what such a reuse costs and how it is detected).
     */
    private void scheduleRejoinTimeout() {
        rejoinTimer = tasks.schedule("rejoin timeout", () -> {
            if (ownLog != OwnLogState.REJOINING) {
                return;
            }
            List<NodeId> silent = neighbours.keySet().stream().filter(k -> !rejoinHeard.contains(k)).toList();
            if (!silent.isEmpty()) {
                LOG.warn("health: lost state, and neighbours {} did not tell how far this node's log got within {}; "
                        + "numbering own events anyway", silent, config.rejoinTimeout());
            }
            finishRejoin();
        }, config.rejoinTimeout());
    }

    private void finishRejoin() {
        if (ownLog == OwnLogState.REJOINING) {
            ownLog = OwnLogState.RECORDING;
            if (rejoinTimer != null) {
                rejoinTimer.cancel(false);
            }
            numberPending();
        }
    }

    private void numberPending() {
        if (pendingOwn.isEmpty()) {
            return;
        }
        List<HealthEvent> fresh = new ArrayList<>();
        for (Pending p : pendingOwn) {
            HealthEvent e = new HealthEvent(self, doc.version(self) + 1, p.at(), p.type(), p.subject(), p.attributes());
            doc.append(e);
            fresh.add(e);
        }
        pendingOwn.clear();
        provisional = List.of();
        counters.get("events.recorded").addAndGet(fresh.size());
        listener.onNewEvents(fresh);
        schedulePush();
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
