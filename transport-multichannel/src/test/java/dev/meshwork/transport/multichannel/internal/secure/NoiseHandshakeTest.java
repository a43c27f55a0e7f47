package dev.meshwork.transport.multichannel.internal.secure;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.wire.HandshakePayload;
import dev.meshwork.transport.multichannel.internal.Ed25519Identity;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class NoiseHandshakeTest {

    @Test
    void bothSidesLearnEachOthersCertifiedIdentityAndAgreeOnTheTranscript() throws Exception {
        NoisePair p = new NoisePair().run();
        assertEquals(NoiseHandshake.FIRST_MESSAGE_BYTES, p.m1.length, "message 1 is the bare ephemeral key");
        assertEquals(p.responderId.nodeId(), p.seenByInitiator.node());
        assertEquals(p.initiatorId.nodeId(), p.seenByResponder.node());
        assertEquals(Optional.of(NodeId.of("beta")), p.seenByResponder.expected());
        assertEquals(p.initiatorId.incarnation(), p.seenByResponder.incarnation());
        assertArrayEquals(p.initiatorId.publicKey().getEncoded(), p.seenByResponder.identityKey().getEncoded());
        assertTrue(p.initiator.isComplete() && p.responder.isComplete());
        assertArrayEquals(p.initiator.handshakeHash(), p.responder.handshakeHash());
    }

    @Test
    void aStaticKeyCertifiedByAnotherIdentityIsRefused() throws Exception {
        NoisePair p = new NoisePair();
        p.m1 = p.initiator.write(new byte[0]);
        p.responder.read(p.m1);
        // the responder signs someone else's static key: the certificate does not match this handshake
        byte[] payload = HandshakePayloads.build(p.responderId, NoiseStaticKey.generate().publicKey(), Optional.empty());
        p.m2 = p.responder.write(payload);
        byte[] read = p.initiator.read(p.m2);
        HandshakeException e = assertThrows(HandshakeException.class,
                () -> HandshakePayloads.verify(read, p.initiator.remoteStaticKey()));
        assertTrue(e.getMessage().contains("does not certify"), e.getMessage());
    }

    @Test
    void aCertificateCopiedFromAnotherHandshakeIsRefused() throws Exception {
        NoisePair honest = new NoisePair().run();
        // the attacker replays the honest responder's payload with its own static key
        NoisePair attack = new NoisePair();
        attack.responder.read(attack.initiator.write(new byte[0]));
        HandshakePayload recorded = HandshakePayload.parseFrom(
                HandshakePayloads.build(honest.responderId, honest.responderKey.publicKey(), Optional.empty()));
        byte[] read = attack.initiator.read(attack.responder.write(recorded.toByteArray()));
        assertThrows(HandshakeException.class, () -> HandshakePayloads.verify(read, attack.initiator.remoteStaticKey()));
    }

    @Test
    void recordedHandshakeMessagesDoNotCompleteAnotherHandshake() throws Exception {
        NoisePair recorded = new NoisePair().run();
        // replaying the initiator's recorded messages 1 and 3 to a fresh responder: message 3 was
        // encrypted for the old responder ephemeral key and fails
        NoiseHandshake fresh = NoiseHandshake.responder(NoiseStaticKey.generate());
        fresh.read(recorded.m1);
        fresh.write(new byte[0]);
        assertThrows(HandshakeException.class, () -> fresh.read(recorded.m3));
        // replaying the responder's recorded message 2 to a fresh initiator fails the same way
        NoiseHandshake dialer = NoiseHandshake.initiator(NoiseStaticKey.generate());
        dialer.write(new byte[0]);
        assertThrows(HandshakeException.class, () -> dialer.read(recorded.m2));
    }

    @Test
    void aBitFlipInAHandshakeMessageFailsIt() throws Exception {
        NoisePair p = new NoisePair();
        p.responder.read(p.initiator.write(new byte[0]));
        byte[] m2 = p.responder.write(HandshakePayloads.build(p.responderId, p.responderKey.publicKey(), Optional.empty()));
        m2[40] ^= 1;
        assertThrows(HandshakeException.class, () -> p.initiator.read(m2));
    }

    @Test
    void anotherPrologueCannotComplete() throws Exception {
        NoisePair p = new NoisePair();
        var other = new com.southernstorm.noise.protocol.HandshakeState(NoiseHandshake.PROTOCOL_NAME,
                com.southernstorm.noise.protocol.HandshakeState.RESPONDER);
        byte[] v3 = "meshwork/3".getBytes();
        other.setPrologue(v3, 0, v3.length);
        other.getLocalKeyPair().generateKeyPair();
        other.start();
        byte[] m1 = p.initiator.write(new byte[0]);
        other.readMessage(m1, 0, m1.length, new byte[64], 0);
        byte[] m2 = new byte[4096];
        int n = other.writeMessage(m2, 0, new byte[0], 0, 0);
        assertThrows(HandshakeException.class, () -> p.initiator.read(java.util.Arrays.copyOf(m2, n)));
    }

    @Test
    void anOversizedHandshakeMessageIsRefusedBeforeItIsRead() throws Exception {
        NoiseHandshake responder = NoiseHandshake.responder(NoiseStaticKey.generate());
        HandshakeException e = assertThrows(HandshakeException.class,
                () -> responder.read(new byte[NoiseHandshake.MAX_MESSAGE_BYTES + 1]));
        assertTrue(e.getMessage().contains("exceeds"), e.getMessage());
        assertTrue(responder.mustRead(), "the handshake state was not touched");
    }

    @Test
    void payloadFieldsOutOfBoundsAreRefused() throws Exception {
        Ed25519Identity id = Ed25519Identity.ephemeral(NodeId.of("alpha"));
        byte[] staticKey = NoiseStaticKey.generate().publicKey();
        HandshakePayload good = HandshakePayload.parseFrom(HandshakePayloads.build(id, staticKey, Optional.empty()));
        assertEquals(NodeId.of("alpha"), HandshakePayloads.verify(good.toByteArray(), staticKey).node());
        HandshakePayload[] bad = {
            good.toBuilder().setIncarnation("x".repeat(65)).build(),
            good.toBuilder().setIncarnation("").build(),
            good.toBuilder().setNodeId("no spaces allowed").build(),
            good.toBuilder().setProtocolVersion(1).build(),
            good.toBuilder().setIdentityKey(ByteString.copyFrom(new byte[45])).build(),
            good.toBuilder().setIdentitySig(ByteString.copyFrom(new byte[63])).build(),
            good.toBuilder().addCapabilities("c".repeat(33)).build(),
            good.toBuilder().setExpectedNodeId("not valid!").build(),
            good.toBuilder().setIdentitySig(ByteString.copyFrom(new byte[64])).build(),
        };
        for (HandshakePayload b : bad) {
            assertThrows(HandshakeException.class, () -> HandshakePayloads.verify(b.toByteArray(), staticKey), b.toString());
        }
        byte[] huge = good.toBuilder().addCapabilities("x").build().toByteArray();
        byte[] oversized = java.util.Arrays.copyOf(huge, HandshakePayloads.MAX_PAYLOAD_BYTES + 1);
        assertThrows(HandshakeException.class, () -> HandshakePayloads.verify(oversized, staticKey));
        var many = good.toBuilder();
        for (int i = 0; i < 17; i++) {
            many.addCapabilities("c" + i);
        }
        assertThrows(HandshakeException.class, () -> HandshakePayloads.verify(many.build().toByteArray(), staticKey));
    }
}
