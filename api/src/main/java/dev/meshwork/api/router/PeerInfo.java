package dev.meshwork.api.router;

import dev.meshwork.api.NodeId;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A snapshot of the link to one peer. Immutable.
 *
 * @param node         the peer
 * @param name         its configured name (the node id for learned peers)
 * @param state        the link's state
 * @param route        how it is reached now
 * @param channels     its channels
 * @param queueDepth   messages waiting in the link's send queue
 * @param queuedBytes  bytes waiting in the link's send queue
 * @param incarnation  the peer's incarnation, once a hello arrived
 * @param since        when the link entered its state
 * @param lastError    the last failure or refusal reason, if any
 * @param counters     per-peer counters (failovers, reconnects, refusals, …)
 */
public record PeerInfo(NodeId node, String name, LinkState state, Route route, List<ChannelInfo> channels,
        int queueDepth, long queuedBytes, Optional<String> incarnation, Instant since, Optional<String> lastError,
        Map<String, Long> counters) {

    public PeerInfo {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(route, "route");
        channels = List.copyOf(channels);
        Objects.requireNonNull(incarnation, "incarnation");
        Objects.requireNonNull(since, "since");
        Objects.requireNonNull(lastError, "lastError");
        counters = Map.copyOf(counters);
    }

    /** The active channel, if the peer is reached directly. */
    public Optional<ChannelInfo> activeChannel() {
        return channels.stream().filter(ChannelInfo::active).findFirst();
    }
}
