package dev.meshwork.health.internal.sync;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import dev.meshwork.api.health.HealthEventType;
import dev.meshwork.health.internal.crdt.HealthDocument;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's own log: numbers its observations (at once, or once the rejoin is over; the
 * {@link OwnLogState} machine), shows them provisionally meanwhile, and makes them durable before
 * any of them may leave the node. Not thread-safe except {@link #provisional}: the engine's
 * thread owns it.
 */
final class OwnLog {

    /** What the engine does when the own log moves. */
    interface Hooks {
        /** Own events were numbered into the document (count, tell the listener, push). */
        void numbered(List<HealthEvent> fresh);

        /** Events withheld because they could not be made durable are durable now: push them. */
        void durableAgain();

        /** A counter moved. */
        void count(String name, long delta);

        /** The linked neighbours now. */
        Collection<NodeId> linked();
    }

    private record Pending(Instant at, HealthEventType type, Optional<NodeId> subject, Map<String, String> attributes) {
    }

    private static final Logger LOG = LoggerFactory.getLogger(OwnLog.class);

    private final NodeId self;
    private final HealthDocument doc;
    private final InstantSource wallClock;
    private final SyncEngine.OwnLogStore store;
    private final TaskGuard tasks;
    private final Duration rejoinTimeout;
    private final Hooks hooks;
    private final List<Pending> pending = new ArrayList<>();
    private final Set<NodeId> rejoinHeard = new HashSet<>();
    private OwnLogState state;
    private long durable;
    /** Own events were held back because they could not be made durable. */
    private boolean withheld;
    /** Own observations held back by the rejoin, numbered provisionally for the view (read from any thread). */
    private volatile List<HealthEvent> provisional = List.of();
    private ScheduledFuture<?> rejoinTimer;

    OwnLog(NodeId self, HealthDocument doc, InstantSource wallClock, SyncEngine.OwnLogStore store, TaskGuard tasks,
            Duration rejoinTimeout, SyncEngine.Start start, Hooks hooks) {
        this.self = self;
        this.doc = doc;
        this.wallClock = wallClock;
        this.store = store;
        this.tasks = tasks;
        this.rejoinTimeout = rejoinTimeout;
        this.hooks = hooks;
        this.durable = doc.version(self);
        this.state = start == SyncEngine.Start.STATE_INTACT ? OwnLogState.RECORDING : OwnLogState.REJOINING;
    }

    OwnLogState state() {
        return state;
    }

    List<HealthEvent> provisional() {
        return provisional;
    }

    /**
     * The rejoin of a node that lost its state ends at the latest after the rejoin timeout.
     * Linked neighbours are asked promptly (the catch-up repeats at a short backoff), so a
     * neighbour that is really there has answered long before; one that has not may be slow or
     * gone, and a bounded wait is worth more than the rare reuse it could still prevent (see
     * {@link OwnLogState} for what such a reuse costs and how it is detected).
     */
    void start() {
        if (state != OwnLogState.REJOINING) {
            return;
        }
        rejoinTimer = tasks.schedule("rejoin timeout", () -> {
            if (state != OwnLogState.REJOINING) {
                return;
            }
            List<NodeId> silent = hooks.linked().stream().filter(k -> !rejoinHeard.contains(k)).toList();
            if (!silent.isEmpty()) {
                LOG.warn("health: lost state, and neighbours {} did not tell how far this node's log got within {}; "
                        + "numbering own events anyway", silent, rejoinTimeout);
            }
            finishRejoin();
        }, rejoinTimeout);
    }

    /** The engine stops: whatever waits is numbered now. */
    void stop() {
        if (rejoinTimer != null) {
            rejoinTimer.cancel(false);
        }
        finishRejoin();
    }

    /** Records an observation of this node; numbered at once, or once the rejoin finished. */
    void record(HealthEventType type, Optional<NodeId> subject, Map<String, String> attributes) {
        pending.add(new Pending(wallClock.instant().truncatedTo(ChronoUnit.MILLIS), type, subject, attributes));
        if (state == OwnLogState.RECORDING) {
            numberPending();
        } else {
            updateProvisional();
        }
    }

    /**
     * A linked neighbour's version vector says how far our own log got before this start; once
     * we hold at least what every linked neighbour holds of it, numbering new events does not
     * reuse a sequence number (see {@link OwnLogState}).
     */
    void heardFrom(NodeId from, Optional<Map<NodeId, Long>> version, Collection<NodeId> linked) {
        if (state == OwnLogState.REJOINING && version.isPresent() && version.get().getOrDefault(self, 0L) <= doc.version(self)) {
            rejoinHeard.add(from);
            if (rejoinHeard.containsAll(linked)) {
                finishRejoin();
            }
        }
    }

    /** Events were joined into the document: own ones among them move the provisional numbers up. */
    void joined() {
        if (state == OwnLogState.REJOINING) {
            updateProvisional();
        }
    }

    /**
     * Makes every own event durable before any of them can leave (see
     * {@link SyncEngine.OwnLogStore}). When that fails, the events beyond the durable mark are
     * withheld: a crash now would otherwise leave peers holding own events the restarted node does
     * not know it numbered.
     */
    void makeDurable() {
        long own = doc.version(self);
        if (own <= durable) {
            return;
        }
        try {
            store.persistThrough(own);
            durable = own;
            if (withheld) {
                withheld = false;
                hooks.durableAgain(); // what was held back goes out now (the next digest retried the write)
            }
        } catch (RuntimeException e) {
            withheld = true;
            hooks.count("persist.withheld", 1);
            LOG.debug("own health events {}..{} withheld until they are durable: {}", durable + 1, own, e.toString());
        }
    }

    /** How far the own log is durable: nothing beyond it may leave the node. */
    long durable() {
        return durable;
    }

    /** The version vector as told to others: the own entry only as far as it is durable. */
    Map<NodeId, Long> advertised() {
        Map<NodeId, Long> vv = new TreeMap<>(doc.versionVector());
        if (vv.getOrDefault(self, 0L) > durable) {
            if (durable == 0) {
                vv.remove(self);
            } else {
                vv.put(self, durable);
            }
        }
        return vv;
    }

    private void updateProvisional() {
        long next = doc.version(self);
        List<HealthEvent> list = new ArrayList<>(pending.size());
        for (Pending p : pending) {
            list.add(new HealthEvent(self, ++next, p.at(), p.type(), p.subject(), p.attributes()));
        }
        provisional = List.copyOf(list);
    }

    private void finishRejoin() {
        if (state == OwnLogState.REJOINING) {
            state = OwnLogState.RECORDING;
            if (rejoinTimer != null) {
                rejoinTimer.cancel(false);
            }
            numberPending();
        }
    }

    private void numberPending() {
        if (pending.isEmpty()) {
            return;
        }
        List<HealthEvent> fresh = new ArrayList<>();
        for (Pending p : pending) {
            HealthEvent e = new HealthEvent(self, doc.version(self) + 1, p.at(), p.type(), p.subject(), p.attributes());
            doc.append(e);
            fresh.add(e);
        }
        pending.clear();
        provisional = List.of();
        hooks.numbered(fresh);
    }
}
