package dev.meshwork.transport.multichannel.internal.secure;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.router.NodeIdentity;
import dev.meshwork.api.wire.HandshakePayload;
import java.util.Optional;

/**
 * This incarnation's side of every handshake: a fresh Noise static key and its certificate (the
 * Ed25519 identity's signature over it), made once, so a stranger's handshake costs this node no
 * signature. Immutable and thread-safe.
 */
public final class LocalCertificate {

    private final NodeIdentity identity;
    private final NoiseStaticKey staticKey;
    private final HandshakePayload responderPayload;

    public LocalCertificate(NodeIdentity identity) {
        this.identity = identity;
        this.staticKey = NoiseStaticKey.generate();
        this.responderPayload = HandshakePayloads.message(identity, staticKey.publicKey()).build();
    }

    public NodeIdentity identity() {
        return identity;
    }

    public NoiseHandshake initiator() {
        return NoiseHandshake.initiator(staticKey);
    }

    public NoiseHandshake responder() {
        return NoiseHandshake.responder(staticKey);
    }

    /** The payload of message 2 (responder) or 3 (initiator, naming the node it dialed). */
    public byte[] payload(Optional<NodeId> expected) {
        return expected.isEmpty() ? responderPayload.toByteArray()
                : responderPayload.toBuilder().setExpectedNodeId(expected.get().value()).build().toByteArray();
    }
}
