package dev.meshwork.health.internal;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEventType;
import dev.meshwork.api.router.ChannelInfo;
import dev.meshwork.api.router.PeerEvent;
import dev.meshwork.api.router.PeerInfo;
import dev.meshwork.api.router.Route;
import dev.meshwork.api.router.Router;
import dev.meshwork.health.internal.sync.SyncEngine;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the sync engine's neighbours and this node's reachability observations in step with the
 * {@link Router}: from the peer events, and by comparing with {@link Router#peers()} at the
 * start, a moment after it and every anti-entropy interval ({@link #reconcile}).
 *
 * <p><b>Why both.</b> The events alone miss whatever happened before the listener was
 * registered: DS registers it only once the component is active, after the start looked at
 * {@code peers()}, and the router announces a change only to the listeners registered when it
 * happens. A link that came up in that gap was never a sync neighbour: the replica ignored the
 * peer's digests and sent it nothing, and nothing looked again (anti-entropy only talks to
 * neighbours). The look itself fails while the router restarts its core in place. So the
 * tracker compares again, and a sync message from a direct peer that is not a neighbour makes it
 * one at once ({@link #adopt}).
 *
 * <p>Not thread-safe: the health thread calls it.
 */
final class PeerTracker {

    private static final Logger LOG = LoggerFactory.getLogger(PeerTracker.class);

    private final Router router;
    private final SyncEngine engine;
    /** The reachability last recorded per peer: a comparison records only what changed. */
    private final Map<NodeId, Route.Kind> recorded = new HashMap<>();
    private final Map<NodeId, Long> lastRttMillis = new HashMap<>();
    private final AtomicLong routerUnavailable = new AtomicLong();
    private final AtomicLong reconciled = new AtomicLong();
    private boolean unavailableLogged;

    PeerTracker(Router router, SyncEngine engine) {
        this.router = router;
        this.engine = engine;
    }

    void onPeerEvent(PeerEvent event) {
        PeerInfo p = event.peer();
        switch (event.type()) {
            case PEER_UP, ROUTE_CHANGED -> recordReach(p);
            // (a PEER_UP of a neighbour already linked is handled below: it is asked at once)
            case PEER_DOWN -> {
                recorded.put(p.node(), Route.Kind.UNREACHABLE);
                engine.record(HealthEventType.PEER_DOWN, Optional.of(p.node()), Map.of("detail", event.detail()));
            }
            case ACTIVE_CHANNEL_CHANGED -> engine.record(HealthEventType.ACTIVE_CHANNEL_CHANGED, Optional.of(p.node()),
                    Map.of("to", p.activeChannel().map(c -> c.uri().toString()).orElse(""), "detail", event.detail()));
            case PEER_RESTARTED -> {
                engine.linkDown(p.node()); // its sync session starts over
                recordReach(p);
            }
            default -> {
                // channel up/down and refusals are the router's business; the link events above
                // already say what they mean for reachability
            }
        }
        boolean direct = p.route().kind() == Route.Kind.DIRECT && event.type() != PeerEvent.Type.PEER_DOWN;
        boolean linked = engine.neighbours().contains(p.node());
        if (direct && !linked) {
            engine.linkUp(p.node());
        } else if (direct && event.type() == PeerEvent.Type.PEER_UP) {
            engine.catchUp(p.node()); // up again: it may have missed what we sent, or be a new process
        } else if (!direct && linked) {
            engine.linkDown(p.node());
        }
    }

    /**
     * Compares with the router's peers: records a reachability that differs from the one last
     * recorded, links direct peers that are not sync neighbours and unlinks neighbours that are
     * no longer direct.
     *
     * @return false when the router could not list its peers (restarting); try again later
     */
    boolean reconcile() {
        List<PeerInfo> peers;
        try {
            peers = router.peers();
        } catch (RuntimeException e) {
            routerUnavailable.incrementAndGet();
            if (!unavailableLogged) {
                unavailableLogged = true;
                LOG.info("health: the router cannot list its peers yet ({}); looking again shortly", e.getMessage());
            }
            return false;
        }
        unavailableLogged = false;
        Set<NodeId> listed = new HashSet<>();
        for (PeerInfo p : peers) {
            listed.add(p.node());
            reconcile(p);
        }
        for (NodeId n : engine.neighbours()) {
            if (!listed.contains(n)) {
                engine.linkDown(n); // removed from the router altogether
            }
        }
        return true;
    }

    private void reconcile(PeerInfo p) {
        Route.Kind now = p.route().kind();
        Route.Kind last = recorded.get(p.node());
        if (now != last && !(last == null && now == Route.Kind.UNREACHABLE)) {
            if (last != null) {
                reconciled.incrementAndGet(); // a change no event told us about
            }
            recordReach(p);
        }
        boolean linked = engine.neighbours().contains(p.node());
        if (now == Route.Kind.DIRECT && !linked) {
            engine.linkUp(p.node());
        } else if (now != Route.Kind.DIRECT && linked) {
            engine.linkDown(p.node());
        }
    }

    /**
     * A sync message came from a node that is not a sync neighbour: if the router holds a direct
     * link to it, the link came up unannounced, and it becomes a neighbour before the message is
     * handled (so the message is answered).
     */
    void adopt(NodeId source) {
        if (engine.neighbours().contains(source)) {
            return;
        }
        Optional<PeerInfo> p;
        try {
            p = router.peer(source);
        } catch (RuntimeException e) {
            routerUnavailable.incrementAndGet();
            return;
        }
        if (p.isPresent() && p.get().route().kind() == Route.Kind.DIRECT) {
            reconciled.incrementAndGet();
            reconcile(p.get());
        }
    }

    private void recordReach(PeerInfo p) {
        Route r = p.route();
        recorded.put(p.node(), r.kind());
        switch (r.kind()) {
            case DIRECT -> engine.record(HealthEventType.PEER_UP, Optional.of(p.node()),
                    Map.of("route", "direct", "channel", r.channel().map(Object::toString).orElse("")));
            case RELAY -> engine.record(HealthEventType.PEER_UP, Optional.of(p.node()),
                    Map.of("route", "relay", "via", r.via().map(NodeId::value).orElse("")));
            case UNREACHABLE -> engine.record(HealthEventType.PEER_DOWN, Optional.of(p.node()), Map.of());
        }
    }

    /** Records the RTT of each direct peer's active channel when it moved by 20 % or more. */
    void recordRttSummaries() {
        for (PeerInfo p : router.peers()) {
            Optional<ChannelInfo> active = p.activeChannel();
            if (p.route().kind() != Route.Kind.DIRECT || active.isEmpty() || active.get().rtt().isEmpty()) {
                continue;
            }
            long ms = active.get().rtt().get().toMillis();
            Long last = lastRttMillis.get(p.node());
            if (last == null || Math.abs(ms - last) * 5 >= Math.max(1, last)) {
                lastRttMillis.put(p.node(), ms);
                engine.record(HealthEventType.RTT_SUMMARY, Optional.of(p.node()),
                        Map.of("p50_ms", Long.toString(ms), "channel", active.get().uri().toString()));
            }
        }
    }

    /** Counters: router look-ups refused, and changes found by comparison rather than by an event. */
    void counters(Map<String, Long> into) {
        into.put("router.unavailable", routerUnavailable.get());
        into.put("peers.reconciled", reconciled.get());
    }
}
