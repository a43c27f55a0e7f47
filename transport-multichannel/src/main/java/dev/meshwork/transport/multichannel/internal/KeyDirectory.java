package dev.meshwork.transport.multichannel.internal;

import dev.meshwork.api.NodeId;
import java.security.PublicKey;
import java.util.Optional;

/**
 * Which Ed25519 key speaks for which node id, as the end-to-end checks of relayed traffic need it
 * ({@link EndToEndAuth}): the key pinned in a peer's configuration, or the one bound to the id when
 * it was first seen with a key from {@code node.trustedKeys}.
 *
 * <p>One binding per id and per key: a key bound to one id never speaks for another, and an id
 * bound to one key is never taken over by another. Called under the core's lock.
 */
interface KeyDirectory {

    /** The key bound to {@code node}, if any. */
    Optional<PublicKey> keyOf(NodeId node);

    /**
     * Binds {@code node} to {@code key} (a trusted key that just proved it speaks for {@code node})
     * unless either is bound to something else already.
     *
     * @return whether {@code node} is bound to exactly {@code key} afterwards
     */
    boolean bind(NodeId node, PublicKey key);
}
