package dev.meshwork.transport.multichannel.internal;

import dev.meshwork.api.NodeId;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The {@link KeyDirectory} this core knows by itself: a link's key (pinned in its configuration, or
 * the trusted key it authenticated with), else a binding learned from a verified end-to-end
 * signature of a node that is only reached through relays. Learned bindings are kept in memory
 * only, at most {@code capacity} of them (further ones are refused, never evicted: an eviction
 * would let another key take the id over).
 */
final class LinkKeys implements KeyDirectory {

    private final Map<NodeId, Link> links;
    private final int capacity;
    private final Map<NodeId, PublicKey> learned = new HashMap<>();
    private final Map<ByteBuffer, NodeId> learnedOwners = new HashMap<>();

    LinkKeys(Map<NodeId, Link> links, int capacity) {
        this.links = links;
        this.capacity = capacity;
    }

    @Override
    public Optional<PublicKey> keyOf(NodeId node) {
        Link link = links.get(node);
        if (link != null && link.pinnedKey != null) {
            return Optional.of(link.pinnedKey);
        }
        return Optional.ofNullable(learned.get(node));
    }

    @Override
    public boolean bind(NodeId node, PublicKey key) {
        Optional<PublicKey> bound = keyOf(node);
        if (bound.isPresent()) {
            return MessageDigest.isEqual(bound.get().getEncoded(), key.getEncoded());
        }
        ByteBuffer encoded = ByteBuffer.wrap(key.getEncoded());
        NodeId owner = learnedOwners.get(encoded);
        if (owner != null && !owner.equals(node)) {
            return false;
        }
        for (Link l : links.values()) {
            if (!l.node.equals(node) && l.pinnedKey != null && MessageDigest.isEqual(l.pinnedKey.getEncoded(), key.getEncoded())) {
                return false;
            }
        }
        if (learned.size() >= capacity) {
            return false;
        }
        learned.put(node, key);
        learnedOwners.put(encoded, node);
        return true;
    }
}
