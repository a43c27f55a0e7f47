package dev.meshwork.transport.multichannel.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.meshwork.api.router.PeerConfig;
import dev.meshwork.api.router.PeerInfo;
import dev.meshwork.api.wire.Frame;
import dev.meshwork.api.wire.Goodbye;
import dev.meshwork.api.wire.HelloAck;
import dev.meshwork.transport.multichannel.internal.secure.HandshakePayloads;
import dev.meshwork.transport.multichannel.internal.secure.NoiseHandshake;
import dev.meshwork.transport.multichannel.internal.secure.NoiseStaticKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * A hostile client against the secure channel, message by message: every way to get an
 * authenticated link without the right key, and every way to slip a message into one, is refused,
 * counted on the node, and leaves nothing delivered and no peer's status touched.
 */
class SecureChannelBadInputTest {

    private final TestMesh mesh = new TestMesh();

    private static void assertRefusedWith(RawPeer raw, Goodbye.Code code) {
        Goodbye g = raw.goodbye().orElseThrow(() -> new AssertionError("no Goodbye in " + raw.received));
        assertEquals(code, g.getCode(), g.getReason());
        assertFalse(g.getReason().isEmpty(), "with a reason");
        assertNotNull(raw.closed, "connection closed");
    }

    private static void assertNotAuthenticated(RawPeer raw) {
        assertEquals(0, raw.target.counter("handshakesOk"), raw.target.core.counters().toString());
        assertTrue(raw.target.core.peer(raw.id()).isEmpty() || raw.target.core.peer(raw.id()).get().channels().isEmpty(),
                "no channel for the stranger");
    }

    @Test
    void anHonestRawPeerAuthenticatesAndIsDelivered() {
        RawPeer raw = RawPeer.connect(mesh, "b");
        raw.handshake();
        assertTrue(raw.received.get(0).hasNeighbours(), "the listener's verdict: its neighbours " + raw.received);
        raw.sendEnvelope(raw.envelope("m1"));
        assertEquals(1, raw.target.received.size());
        assertTrue(raw.acks().get(0).getOk());
        assertEquals(1, raw.target.counter("handshakesOk"));
    }

    @Test
    void refusesAnUntrustedKeyAsUnknownKey() {
        RawPeer raw = RawPeer.connect(mesh, "b", s -> s.withTrustedKeys(Set.of()));
        raw.handshake();
        assertRefusedWith(raw, Goodbye.Code.UNKNOWN_KEY);
        assertTrue(raw.goodbye().get().getReason().contains("not trusted"), raw.goodbye().get().getReason());
        assertEquals(1, raw.target.counter("refused.unknownKey"));
        assertTrue(raw.target.core.peers().isEmpty(), "an untrusted node never becomes a peer");
    }

    @Test
    void refusesAStaticKeyCertifiedByAnotherIdentity() {
        RawPeer raw = RawPeer.connect(mesh, "b");
        // the signature is the raw peer's own, but over another static key than the one in this handshake
        byte[] otherKey = NoiseStaticKey.generate().publicKey();
        raw.handshake(p -> p.setIdentitySig(ByteString.copyFrom(raw.identity.sign(HandshakePayloads.signedBytes(otherKey)))));
        assertNotNull(raw.closed);
        assertEquals(1, raw.target.counter("refused.badHandshake"));
        assertNotAuthenticated(raw);
    }

    @Test
    void refusesAnotherNodesCertificateReplayedWithTheAttackersStaticKey() {
        TestMesh.Node alice = mesh.node("alice");
        RawPeer raw = RawPeer.connect(mesh, "b");
        // alice is trusted by b; the attacker presents alice's identity key and a signature alice made
        // over alice's static key, with its own static key in the handshake
        byte[] aliceStatic = NoiseStaticKey.generate().publicKey();
        raw.handshake(p -> p.setNodeId("alice").setIncarnation(alice.identity.incarnation())
                .setIdentityKey(ByteString.copyFrom(alice.identity.publicKey().getEncoded()))
                .setIdentitySig(ByteString.copyFrom(alice.identity.sign(HandshakePayloads.signedBytes(aliceStatic)))));
        assertEquals(1, raw.target.counter("refused.badHandshake"));
        assertTrue(raw.target.core.peer(alice.id()).isEmpty(), "alice never linked");
    }

    @Test
    void refusesReplayedHandshakeMessages() {
        RawPeer raw = RawPeer.connect(mesh, "b");
        byte[] m1 = raw.first();
        raw.readSecond();
        byte[] m3 = raw.third(raw.payload().build());
        assertEquals(1, raw.target.counter("handshakesOk"));
        // a recorder replays the dialer's messages on a new connection
        raw.reconnect();
        raw.sendBytes(m1);
        assertEquals(1, raw.rawReceived.size(), "a fresh message 2");
        raw.sendBytes(m3);
        assertNotNull(raw.closed);
        assertEquals(1, raw.target.counter("refused.badHandshake"));
        assertEquals(1, raw.target.counter("handshakesOk"), "no second authentication");
    }

    @Test
    void refusesTheNodesOwnIdFromAnotherKey() {
        RawPeer raw = RawPeer.connect(mesh, "b");
        raw.handshake(p -> p.setNodeId("b"));
        assertRefusedWith(raw, Goodbye.Code.KEY_MISMATCH);
        assertEquals(1, raw.target.counter("refused.ownId"));
        assertTrue(raw.target.core.peer(raw.target.id()).isEmpty(), "it never lists itself as its own peer");
    }

    @Test
    void refusesAPinnedIdFromAnotherKeyWithoutTouchingThatPeersStatus() {
        TestMesh.Node c = mesh.node("c");
        RawPeer raw = RawPeer.connect(mesh, "b");
        raw.target.addPeer(c, c.url(1)); // pinned: c's real key; c does not run
        mesh.advanceMillis(100);
        PeerInfo before = raw.target.peer(c);
        raw.handshake(p -> p.setNodeId("c"));
        assertRefusedWith(raw, Goodbye.Code.KEY_MISMATCH);
        assertEquals(1, raw.target.counter("refused.keyMismatch"));
        PeerInfo after = raw.target.peer(c);
        assertEquals(before.counters().getOrDefault("refusals", 0L), after.counters().getOrDefault("refusals", 0L),
                "the stranger's refusal is the listener's, not c's");
        assertEquals(before.lastError(), after.lastError());
        assertEquals(before.state(), after.state());
    }

    @Test
    void aKeylessStrangerNamingARealPeerDoesNotRaiseThatPeersRefusals() {
        TestMesh.Node c = mesh.node("c");
        RawPeer raw = RawPeer.connect(mesh, "b", s -> s.withTrustedKeys(Set.of()));
        // c configured without a key (it would be trusted through node.trustedKeys)
        raw.target.core.addPeer(new PeerConfig(c.id(), "c", List.of(c.url(1)), Optional.empty()));
        mesh.advanceMillis(100);
        PeerInfo before = raw.target.peer(c);
        for (int i = 0; i < 3; i++) {
            raw.reconnect();
            raw.handshake(p -> p.setNodeId("c"));
            assertRefusedWith(raw, Goodbye.Code.UNKNOWN_KEY);
        }
        assertEquals(3, raw.target.counter("refused.unknownKey"));
        PeerInfo after = raw.target.peer(c);
        assertEquals(before.counters(), after.counters(), "c's counters untouched");
        assertEquals(before.lastError(), after.lastError(), "c's last error untouched");
    }

    @Test
    void aSecondTrustedKeyCannotTakeOverALearnedId() {
        TestMesh.Node mallory = mesh.node("mallory");
        RawPeer raw = RawPeer.connect(mesh, "b"); // b trusts raw's and mallory's keys
        raw.handshake(p -> p.setNodeId("x"));
        assertEquals(1, raw.target.counter("handshakesOk"), "x learned, bound to raw's key");
        RawPeer impostor = RawPeer.unconnected(mesh, raw.target);
        impostor.identity = mallory.identity;
        impostor.open();
        impostor.handshake(p -> p.setNodeId("x"));
        assertRefusedWith(impostor, Goodbye.Code.KEY_MISMATCH);
        assertEquals(1, raw.target.counter("refused.keyMismatch"));
        assertTrue(raw.closed == null, "the first binding's link is not taken over");
    }

    @Test
    void refusesAV1HelloWithAReasonAV1NodeShows() {
        RawPeer raw = RawPeer.connect(mesh, "b");
        raw.sendBytes(Frame.newBuilder().setHello(raw.hello(RawPeer.freshNonce())).build().toByteArray());
        HelloAck ack = raw.helloAck().orElseThrow(() -> new AssertionError("no v1 HelloAck"));
        assertFalse(ack.getAccepted());
        assertEquals("protocol version 1 is not supported, this node speaks 2", ack.getReason());
        assertNotNull(raw.closed);
        assertEquals(1, raw.target.counter("refused.versionUnsupported"));
        assertNotAuthenticated(raw);
    }

    @Test
    void refusesOversizedHandshakeMessagesBeforeReadingThem() {
        RawPeer raw = RawPeer.connect(mesh, "b");
        raw.sendBytes(new byte[64 * 1024]);
        assertNotNull(raw.closed);
        assertEquals(1, raw.target.counter("refused.badHandshake"));
        raw.reconnect();
        raw.first();
        raw.sendBytes(new byte[NoiseHandshake.MAX_MESSAGE_BYTES + 1]);
        assertEquals(2, raw.target.counter("refused.badHandshake"));
        raw.reconnect();
        raw.handshake(p -> p.addCapabilities("x".repeat(900)));
        assertEquals(3, raw.target.counter("refused.badHandshake"), "a payload field out of bounds");
    }

    // ---------------------------------------------------------------- the protected stream

    private RawPeer authenticated() {
        RawPeer raw = RawPeer.connect(mesh, "b");
        raw.handshake();
        assertEquals(1, raw.target.counter("handshakesOk"));
        return raw;
    }

    private static byte[] envelopeMessage(RawPeer raw, String id) {
        List<byte[]> m = raw.seal(Frame.newBuilder().setEnvelope(raw.envelope(id)).build());
        assertEquals(1, m.size());
        return m.get(0);
    }

    private static void assertDecryptRefusal(RawPeer raw) {
        assertRefusedWith(raw, Goodbye.Code.PROTOCOL_VIOLATION);
        assertEquals(1, raw.target.counter("refused.decrypt"), raw.target.core.counters().toString());
    }

    @Test
    void aBitFlipClosesTheConnectionAndDeliversNothing() {
        RawPeer raw = authenticated();
        byte[] m = envelopeMessage(raw, "flip");
        m[m.length / 2] ^= 0x01;
        raw.sendBytes(m);
        assertDecryptRefusal(raw);
        assertEquals(0, raw.target.received.size());
    }

    @Test
    void aTruncatedMessageClosesTheConnection() {
        RawPeer raw = authenticated();
        byte[] m = envelopeMessage(raw, "cut");
        raw.sendBytes(java.util.Arrays.copyOf(m, m.length - 5));
        assertDecryptRefusal(raw);
        assertEquals(0, raw.target.received.size());
    }

    @Test
    void reorderedMessagesCloseTheConnection() {
        RawPeer raw = authenticated();
        byte[] first = envelopeMessage(raw, "first");
        byte[] second = envelopeMessage(raw, "second");
        raw.sendBytes(second);
        raw.sendBytes(first);
        assertDecryptRefusal(raw);
        assertEquals(0, raw.target.received.size());
    }

    @Test
    void aReplayedMessageIsRefusedAfterTheOriginalWasDelivered() {
        RawPeer raw = authenticated();
        byte[] m = envelopeMessage(raw, "once");
        raw.sendBytes(m);
        assertEquals(1, raw.target.received.size());
        raw.sendBytes(m);
        assertDecryptRefusal(raw);
        assertEquals(1, raw.target.received.size(), "delivered once");
    }

    @Test
    void anInjectedMessageFromAnotherSessionClosesTheConnection() {
        RawPeer raw = authenticated();
        RawPeer other = RawPeer.connect(mesh, "c");
        other.handshake();
        raw.sendBytes(envelopeMessage(other, "injected"));
        assertDecryptRefusal(raw);
        assertEquals(0, raw.target.received.size());
    }

    @Test
    void aPlaintextFrameAfterTheHandshakeClosesTheConnection() {
        RawPeer raw = authenticated();
        raw.sendBytes(Frame.newBuilder().setEnvelope(raw.envelope("plain")).build().toByteArray());
        assertDecryptRefusal(raw);
        assertEquals(0, raw.target.received.size());
    }

    @Test
    void aFrameLargerThanOneNoiseMessageTravelsInChunks() {
        RawPeer raw = RawPeer.connect(mesh, "b");
        raw.handshake();
        byte[] payload = new byte[300_000];
        new java.util.Random(3).nextBytes(payload);
        List<byte[]> m = raw.seal(Frame.newBuilder().setEnvelope(raw.envelope("big")
                .setPayload(ByteString.copyFrom(payload))).build());
        assertTrue(m.size() >= 5, "chunks: " + m.size());
        m.forEach(raw.connection::send);
        mesh.settle();
        assertEquals(1, raw.target.received.size());
        assertArrayEquals(payload, raw.target.received.get(0).payload());
    }

    // ---------------------------------------------------------------- strangers that never finish

    @Test
    void strangersThatNeverFinishAreCappedWhileAnHonestPeerKeepsWorking() {
        mesh.node("raw");
        TestMesh.Node a = mesh.node("a");
        TestMesh.Node b = mesh.node("b");
        b.start(s -> s.withHandshakeLimits(256, 10_000), b.url(1));
        a.start(UnaryOperator.identity());
        a.addPeer(b, b.url(1));
        mesh.settle();
        List<RawPeer> strangers = new ArrayList<>();
        int n = 1000;
        for (int i = 0; i < n; i++) {
            RawPeer s = RawPeer.unconnected(mesh, b);
            s.open();
            strangers.add(s);
            if (i % 100 == 0) {
                a.core.send(b.id(), TestMesh.TOPIC, ("during " + i).getBytes(), dev.meshwork.api.router.SendOptions.DEFAULT);
                mesh.settle();
            }
        }
        mesh.settle();
        assertEquals(n - 256, b.counter("refused.handshakeLimit"), b.core.counters().toString());
        assertEquals(10, b.payloads().size(), "the honest peer's messages all arrived: " + b.payloads());
        assertEquals(n - 256, strangers.stream().filter(s -> s.closed != null).count(), "the refused ones closed at once");
        // the handshake timeout frees every admitted stranger's slot
        mesh.advanceMillis(5_001);
        assertEquals(256, b.counter("refused.handshakeTimeout"));
        long ok = b.counter("handshakesOk");
        RawPeer late = RawPeer.unconnected(mesh, b);
        late.open();
        late.handshake();
        assertEquals(ok + 1, b.counter("handshakesOk"), "a stranger with a trusted key gets in once slots are free");
        assertNull(late.closed);
    }

    @Test
    void strangersFromOneAddressAreCappedPerAddress() {
        TestMesh.Node b = mesh.node("b");
        b.start(s -> s.withHandshakeLimits(256, 32), b.url(1));
        for (int i = 0; i < 40; i++) {
            RawPeer.unconnected(mesh, b).open();
        }
        assertEquals(8, b.counter("refused.handshakeLimitPerAddress"));
    }

    @Test
    void aDialerRefusesAListenerThatIsNotTheNodeItExpected() {
        TestMesh.Node a = mesh.node("a");
        TestMesh.Node b = mesh.node("b");
        TestMesh.Node c = mesh.node("c");
        c.start(UnaryOperator.identity(), c.url(1));
        a.start(UnaryOperator.identity());
        a.addPeer(b, c.url(1)); // b's URL reaches c
        mesh.advanceMillis(100);
        assertEquals(1, a.counter("refused.wrongNode"), a.core.counters().toString());
        assertTrue(a.peer(b).channels().get(0).lastError().orElseThrow().contains("expected node b"));
        assertEquals(0, c.counter("handshakesOk"));
    }
}
