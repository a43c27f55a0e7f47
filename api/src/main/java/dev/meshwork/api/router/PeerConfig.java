package dev.meshwork.api.router;

import dev.meshwork.api.NodeId;
import java.net.URI;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A configured peer (ConfigAdmin factory PID {@code dev.meshwork.peer~NAME}). Immutable.
 *
 * @param node      the peer's node id
 * @param name      a human name for status and logs (the PID's NAME)
 * @param urls      one or more URLs, in order of preference when RTTs are equal
 * @param publicKey the peer's Ed25519 key as Base64 of its X.509 encoding; when empty, the
 *                  peer must be in the node's trusted key set
 */
public record PeerConfig(NodeId node, String name, List<URI> urls, Optional<String> publicKey) {

    public PeerConfig {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(name, "name");
        urls = List.copyOf(urls);
        Objects.requireNonNull(publicKey, "publicKey");
        if (urls.isEmpty()) {
            throw new IllegalArgumentException("peer " + node + " has no URL");
        }
    }
}
