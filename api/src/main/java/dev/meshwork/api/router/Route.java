package dev.meshwork.api.router;

import dev.meshwork.api.NodeId;
import java.net.URI;
import java.util.Objects;
import java.util.Optional;

/**
 * How a peer is reached now. Immutable.
 *
 * @param kind    direct, through a relay, or not at all
 * @param channel the active channel's URL, for a direct route
 * @param via     the neighbour that relays, for a relay route
 */
public record Route(Kind kind, Optional<URI> channel, Optional<NodeId> via) {

    public enum Kind { DIRECT, RELAY, UNREACHABLE }

    public static final Route UNREACHABLE = new Route(Kind.UNREACHABLE, Optional.empty(), Optional.empty());

    public Route {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(via, "via");
    }

    public static Route direct(URI channel) {
        return new Route(Kind.DIRECT, Optional.of(channel), Optional.empty());
    }

    public static Route relay(NodeId via) {
        return new Route(Kind.RELAY, Optional.empty(), Optional.of(via));
    }

    @Override
    public String toString() {
        return switch (kind) {
            case DIRECT -> "direct " + channel.map(URI::toString).orElse("");
            case RELAY -> "relay via " + via.map(NodeId::value).orElse("?");
            case UNREACHABLE -> "unreachable";
        };
    }
}
