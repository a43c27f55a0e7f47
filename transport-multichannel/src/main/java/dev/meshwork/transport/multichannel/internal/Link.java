package dev.meshwork.transport.multichannel.internal;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.router.LinkState;
import dev.meshwork.api.router.PeerConfig;
import dev.meshwork.api.router.Route;
import java.security.PublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ScheduledFuture;

/**
 * The logical link to one peer: its channels, the active one, the bounded send queue that
 * survives reconnects, the messages awaiting acknowledgement and the peer's incarnation (what it
 * claims to reach is in {@link NeighbourClaims}).
 *
 * <p>The link state follows {@link LinkState}; only {@link MeshCore} changes it, under its lock.
 * A link without configuration is a learned peer (it dialed us with a trusted key, or is reached
 * through a relay). Not thread-safe on its own.
 */
final class Link {

    final NodeId node;
    PeerConfig config;
    PublicKey pinnedKey;
    LinkState state = LinkState.CONNECTING;
    Instant since;
    String lastError;
    final List<Channel> channels = new ArrayList<>();
    Channel active;
    String incarnation;
    /** Not yet written on the current route, in send order. */
    final LinkedHashMap<String, Pending> queue = new LinkedHashMap<>();
    /** Written, awaiting an ack (or the write), in send order. */
    final LinkedHashMap<String, Pending> inflight = new LinkedHashMap<>();
    long queuedBytes;
    int workTokens;
    RateLimiter limiter;
    int rateRefusals;
    long lastDialStart = Long.MIN_VALUE;
    long lastProbe;
    ScheduledFuture<?> staggerTimer;
    /** The route last announced to PeerListeners (PEER_UP, ROUTE_CHANGED, PEER_DOWN); null before the first. */
    Route reported;
    final Map<String, Long> counters = new TreeMap<>();

    Link(NodeId node, PeerConfig config, Instant since) {
        this.node = node;
        this.config = config;
        this.since = since;
    }

    String name() {
        return config == null ? node.value() : config.name();
    }

    void count(String counter) {
        counters.merge(counter, 1L, Long::sum);
    }

    List<Channel> outbound() {
        return channels.stream().filter(c -> !c.inbound).toList();
    }

    int held() {
        return queue.size() + inflight.size();
    }

    boolean workInFlight() {
        return workTokens > 0 || inflight.values().stream().anyMatch(p -> p.ackRequired);
    }
}
