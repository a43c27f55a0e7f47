package dev.meshwork.transport.multichannel.internal;

import dev.meshwork.api.NodeId;
import dev.meshwork.transport.multichannel.internal.secure.IdentityBindings;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The {@link KeyDirectory} this core knows by itself: a link's key (pinned in its configuration, or
 * the trusted key it authenticated with), else a binding learned from a verified end-to-end
 * signature of a node that is only reached through relays. A binding is the handshake's
 * {@link IdentityBindings} (kept in the data directory), so an id bound by a direct link or by a
 * relayed signature stays bound to that key for both; at most {@code capacity} are learned per
 * run (further ones are refused, never evicted: an eviction would let another key take the id over).
 */
final class LinkKeys implements KeyDirectory {

    private final Map<NodeId, Link> links;
    private final IdentityBindings bindings;
    private final int capacity;
    private final Map<NodeId, PublicKey> learned = new HashMap<>();
    private final Map<ByteBuffer, NodeId> learnedOwners = new HashMap<>();

    LinkKeys(Map<NodeId, Link> links, IdentityBindings bindings, int capacity) {
        this.links = links;
        this.bindings = bindings;
        this.capacity = capacity;
    }

    @Override
    public Optional<PublicKey> keyOf(NodeId node) {
        Link link = links.get(node);
        if (link != null && link.pinnedKey != null) {
            return Optional.of(link.pinnedKey);
        }
        Optional<String> bound = bindings.keyOf(node);
        if (bound.isPresent()) {
            try {
                return Optional.of(Ed25519Identity.parsePublicKey(Base64.getDecoder().decode(bound.get())));
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
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
        try {
            if (!bindings.bind(node, Base64.getEncoder().encodeToString(key.getEncoded()))) {
                return false;
            }
        } catch (UncheckedIOException e) {
            // the binding holds for this run; the handshake logs the unwritable table itself
        }
        learned.put(node, key);
        learnedOwners.put(encoded, node);
        return true;
    }
}
