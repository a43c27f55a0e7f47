package dev.meshwork.console.internal;

import dev.meshwork.api.health.HealthView;
import dev.meshwork.api.health.Observation;
import dev.meshwork.api.lifecycle.LifecycleController;
import dev.meshwork.api.lifecycle.LifecycleStatus;
import dev.meshwork.api.outbox.Outbox;
import dev.meshwork.api.outbox.OutboxMessage;
import dev.meshwork.api.outbox.OutboxState;
import dev.meshwork.api.outbox.OutboxStats;
import dev.meshwork.api.router.ChannelInfo;
import dev.meshwork.api.router.NodeIdentity;
import dev.meshwork.api.router.PeerInfo;
import dev.meshwork.api.router.Router;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The node's state as the console shows it, read from whichever services are present now: a
 * node without an outbox or a supervisor still has a console.
 *
 * @param router  the router, if bound
 * @param identity the node's identity, if bound (its public key is what peers configure)
 * @param outbox  the outbox, if bound
 * @param health  the health view, if bound
 * @param gateways the supervised gateways
 * @param probe   the console's own probe inbox, if any
 */
record NodeSnapshot(Router router, NodeIdentity identity, Outbox outbox, HealthView health, List<LifecycleController> gateways, ProbeInbox probe) {

    /** The status document served at {@code /status.json} and pushed to the dashboard. */
    Map<String, Object> toDocument(Instant now) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("at", now.toString());
        if (identity != null) {
            doc.put("node", identity.nodeId().value());
            doc.put("publicKey", identity.publicKeyBase64());
            doc.put("incarnation", identity.incarnation());
        }
        if (router != null) {
            doc.put("node", router.localNode().value());
            doc.put("listen", router.listenUris().stream().map(Object::toString).toList());
            doc.put("counters", router.counters());
            List<Object> peers = new ArrayList<>();
            for (PeerInfo peer : router.peers()) {
                peers.add(peer(peer));
            }
            doc.put("peers", peers);
        }
        if (outbox != null) {
            OutboxStats stats = outbox.stats();
            Map<String, Object> o = new LinkedHashMap<>();
            Map<String, Object> byState = new LinkedHashMap<>();
            for (OutboxState state : OutboxState.values()) {
                byState.put(state.name().toLowerCase(), stats.count(state));
            }
            o.put("byState", byState);
            Map<String, Object> byTarget = new LinkedHashMap<>();
            stats.pendingByTarget().forEach((node, count) -> byTarget.put(node.value(), count));
            o.put("pendingByTarget", byTarget);
            o.put("oldestPendingSeconds", stats.oldestPendingAge().map(d -> d.toMillis() / 1000.0));
            o.put("deliveredPerSecond", stats.deliveredPerSecond());
            List<Object> dead = new ArrayList<>();
            for (OutboxMessage m : outbox.list(OutboxState.DEAD, 20)) {
                dead.add(Map.of("id", m.messageId(), "target", m.target().value(), "topic", m.topic(),
                        "attempts", m.attempts(), "lastError", m.lastError().orElse("")));
            }
            o.put("dead", dead);
            doc.put("outbox", o);
        }
        if (health != null) {
            List<Object> observations = new ArrayList<>();
            for (Observation ob : health.observations()) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("observer", ob.observer().value());
                o.put("subject", ob.subject().value());
                o.put("reachability", ob.reachability().name().toLowerCase());
                o.put("via", ob.via().map(v -> v.value()));
                o.put("since", ob.since().toString());
                observations.add(o);
            }
            doc.put("health", Map.of("nodes", health.nodes().stream().map(n -> n.value()).toList(),
                    "observations", observations));
        }
        List<Object> gws = new ArrayList<>();
        for (LifecycleController gateway : gateways) {
            LifecycleStatus s = gateway.status();
            Map<String, Object> g = new LinkedHashMap<>();
            g.put("name", s.name());
            g.put("state", s.state().name());
            g.put("pid", s.pid().isPresent() ? s.pid().getAsLong() : null);
            g.put("restarts", s.restarts());
            g.put("uptimeSeconds", s.uptime().map(d -> d.toMillis() / 1000.0));
            g.put("lastError", s.lastError());
            gws.add(g);
        }
        doc.put("gateways", gws);
        if (probe != null) {
            doc.put("probe", probe.summary());
        }
        return doc;
    }

    private static Map<String, Object> peer(PeerInfo peer) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("node", peer.node().value());
        p.put("name", peer.name());
        p.put("state", peer.state().name());
        p.put("route", peer.route().toString());
        p.put("queueDepth", peer.queueDepth());
        p.put("incarnation", peer.incarnation());
        p.put("lastError", peer.lastError());
        p.put("counters", peer.counters());
        List<Object> channels = new ArrayList<>();
        for (ChannelInfo c : peer.channels()) {
            Map<String, Object> ch = new LinkedHashMap<>();
            ch.put("uri", c.uri().toString());
            ch.put("state", c.state().name());
            ch.put("active", c.active());
            ch.put("inbound", c.inbound());
            ch.put("rttMillis", c.rtt().map(d -> d.toNanos() / 1e6));
            ch.put("bytesIn", c.bytesIn());
            ch.put("bytesOut", c.bytesOut());
            ch.put("lastError", c.lastError());
            channels.add(ch);
        }
        p.put("channels", channels);
        return p;
    }
}
