package dev.meshwork.transport.multichannel.internal.secure;

import dev.meshwork.api.NodeId;
import dev.meshwork.transport.multichannel.internal.Ed25519Identity;
import java.util.Optional;

/** Two sides of a handshake run in memory, message by message, for the unit tests. */
final class NoisePair {

    final Ed25519Identity initiatorId = Ed25519Identity.ephemeral(NodeId.of("alpha"));
    final Ed25519Identity responderId = Ed25519Identity.ephemeral(NodeId.of("beta"));
    final NoiseStaticKey initiatorKey = NoiseStaticKey.generate();
    final NoiseStaticKey responderKey = NoiseStaticKey.generate();
    final NoiseHandshake initiator = NoiseHandshake.initiator(initiatorKey);
    final NoiseHandshake responder = NoiseHandshake.responder(responderKey);
    byte[] m1;
    byte[] m2;
    byte[] m3;
    HandshakePayloads.PeerIdentity seenByInitiator;
    HandshakePayloads.PeerIdentity seenByResponder;

    /** Runs the three messages; the payloads are the real certificates. */
    NoisePair run() throws HandshakeException {
        m1 = initiator.write(new byte[0]);
        responder.read(m1);
        m2 = responder.write(HandshakePayloads.build(responderId, responderKey.publicKey(), Optional.empty()));
        seenByInitiator = HandshakePayloads.verify(initiator.read(m2), initiator.remoteStaticKey());
        m3 = initiator.write(HandshakePayloads.build(initiatorId, initiatorKey.publicKey(), Optional.of(NodeId.of("beta"))));
        seenByResponder = HandshakePayloads.verify(responder.read(m3), responder.remoteStaticKey());
        return this;
    }
}
