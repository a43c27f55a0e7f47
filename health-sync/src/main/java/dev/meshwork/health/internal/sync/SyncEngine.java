package dev.meshwork.health.internal.sync;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import dev.meshwork.api.health.HealthEventType;
import dev.meshwork.health.internal.crdt.Fragment;
import dev.meshwork.health.internal.crdt.HealthDocument;
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
 *   <li>Link up, and every anti-entropy interval: send {@code DIGEST(my vv)}.</li>
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
 * DELTA, and the last message finds equal vectors and sends nothing. A message cut at the size
 * limit strictly shrinks {@code D} by the events it carries, and the follow-up digest asks for
 * the remainder. A lost message ends the round early; the next interval starts a new one. New
 * events extend a round only by the events themselves, so it ends once they stop.
 * {@code SyncEngineTest} and the simulation test check this.
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
     * hold survives a crash of this node: after a restart it never numbers an event twice.
     */
    @FunctionalInterface
    public interface OwnLogStore {
        void persistThrough(long ownSeq);
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
    private final ScheduledExecutorService scheduler;
    private final SyncConfig config;
    private final long session;
    private final ChangeListener listener;
    private final OwnLogStore ownLogStore;
    private long durableOwn;
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
    }

    private record Pending(Instant at, HealthEventType type, Optional<NodeId> subject, Map<String, String> attributes) {
    }

    public SyncEngine(NodeId self, HealthDocument doc, Port port, InstantSource wallClock,
            ScheduledExecutorService scheduler, SyncConfig config, long session, ChangeListener listener,
            OwnLogStore ownLogStore) {
        this.self = self;
        this.doc = doc;
        this.port = port;
        this.wallClock = wallClock;
        this.scheduler = scheduler;
        this.config = config;
        this.session = session == 0 ? 1 : session;
        this.listener = listener;
        this.ownLogStore = ownLogStore;
        this.durableOwn = doc.version(self);
        for (String name : List.of("sent.digest", "sent.delta", "sent.push", "sent.bytes", "sent.events",
                "received.messages", "received.malformed", "received.gaps", "rounds.completed", "events.recorded",
                "events.learned", "events.compacted", "events.conflicting")) {
            counters.put(name, new AtomicLong());
        }
    }

    /** Starts the timers (rejoin timeout, anti-entropy, compaction). */
    public void start() {
        scheduleRejoinCheck(0);
        long ae = config.antiEntropyInterval().toNanos();
        periodic.add(scheduler.scheduleWithFixedDelay(this::antiEntropy, ae, ae, TimeUnit.NANOSECONDS));
        long ci = config.compactionInterval().toNanos();
        periodic.add(scheduler.scheduleWithFixedDelay(this::compact, ci, ci, TimeUnit.NANOSECONDS));
    }

    /** Cancels the timers; a pending push is sent now. */
    public void stop() {
        periodic.forEach(f -> f.cancel(false));
        periodic.clear();
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
        return copy;
    }

    /** Records an observation of this node; numbered at once, or once the rejoin finished. */
    public void record(HealthEventType type, Optional<NodeId> subject, Map<String, String> attributes) {
        pendingOwn.add(new Pending(wallClock.instant().truncatedTo(ChronoUnit.MILLIS), type, subject, attributes));
        if (ownLog == OwnLogState.RECORDING) {
            numberPending();
        }
    }

    /** A direct link to {@code node} came up (or the peer restarted): start a round. */
    public void linkUp(NodeId node) {
        if (node.equals(self)) {
            return;
        }
        Neighbour n = new Neighbour();
        neighbours.put(node, n);
        n.roundOpen = true;
        send(node, digest());
    }

    public void linkDown(NodeId node) {
        neighbours.remove(node);
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
        if (sendDelta(from, n, SyncMessage.Kind.DELTA)) {
            n.roundOpen = true;
        } else if (iLack && !(m.kind() == SyncMessage.Kind.DIGEST && answerPending(n))) {
            // (When our own digest is still unanswered, its answer brings what we lack: asking
            // again would only have it sent twice — the crossing digests of a link coming up.)
            n.roundOpen = true;
            send(from, request());
        } else if (iLack) {
            n.roundOpen = true;
        } else {
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

    private void schedulePush(java.time.Duration window) {
        if (pushTimer == null) {
            pushTimer = scheduler.schedule(() -> {
                pushTimer = null;
                flushPush();
            }, window.toNanos(), TimeUnit.NANOSECONDS);
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
        while (true) {
            HealthDocument.Delta d = doc.deltaFor(n.assumed, config.maxEventsPerMessage());
            if (d.isEmpty()) {
                return sent;
            }
            for (Fragment f : d.fragments()) {
                n.assumed.merge(f.origin(), f.upTo(), Math::max);
                n.sentAt.put(f.origin(), wallClock.millis());
                if (f.origin().equals(self) && f.upTo() > durableOwn) {
                    ownLogStore.persistThrough(f.upTo());
                    durableOwn = f.upTo();
                }
            }
            boolean last = !d.truncated();
            if (kind == SyncMessage.Kind.DELTA && last) {
                send(to, new SyncMessage(SyncMessage.Kind.DELTA, session, Optional.of(doc.versionVector()), d.fragments(), false));
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

    /** A digest that says "I lack something you have": answered with a delta, never a digest. */
    private SyncMessage request() {
        return new SyncMessage(SyncMessage.Kind.DIGEST, session, Optional.of(doc.versionVector()), List.of(), false, true);
    }

    private SyncMessage digest() {
        return new SyncMessage(SyncMessage.Kind.DIGEST, session, Optional.of(doc.versionVector()), List.of(), false);
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
     * The rejoin ends by timeout only when no neighbour is linked (an isolated node), or after
     * {@link #REJOIN_PATIENCE} timeouts with neighbours that never answered: a linked neighbour
     * may hold later events of our own log, and a lost digest is repeated by anti-entropy.
     */
    private void scheduleRejoinCheck(int attempt) {
        rejoinTimer = scheduler.schedule(() -> {
            if (ownLog != OwnLogState.REJOINING) {
                return;
            }
            if (neighbours.isEmpty() || attempt + 1 >= REJOIN_PATIENCE) {
                if (!neighbours.isEmpty()) {
                    LOG.warn("health: neighbours {} did not answer within {} x {}; recording own events anyway",
                            neighbours.keySet(), REJOIN_PATIENCE, config.rejoinTimeout());
                }
                finishRejoin();
            } else {
                scheduleRejoinCheck(attempt + 1);
            }
        }, config.rejoinTimeout().toNanos(), TimeUnit.NANOSECONDS);
    }

    /** How many rejoin timeouts a starting node waits for linked but silent neighbours. */
    static final int REJOIN_PATIENCE = 20;

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
