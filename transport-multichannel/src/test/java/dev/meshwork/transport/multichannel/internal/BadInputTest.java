package dev.meshwork.transport.multichannel.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.meshwork.api.wire.Ack;
import dev.meshwork.api.wire.FailureCode;
import dev.meshwork.api.wire.Frame;
import dev.meshwork.api.wire.Goodbye;
import dev.meshwork.api.wire.WireConstants;
import org.junit.jupiter.api.Test;

/** Each kind of bad input is refused with a reason, counted, and closes the connection where it breaks the protocol. */
class BadInputTest {

    private final TestMesh mesh = new TestMesh();

    private static void assertClosedWith(RawPeer raw, Goodbye.Code code) {
        assertEquals(code, raw.goodbye().orElseThrow(() -> new AssertionError("no Goodbye in " + raw.received)).getCode());
        assertNotNull(raw.closed, "connection closed");
        assertFalse(raw.goodbye().get().getReason().isEmpty(), "with a reason");
    }

    @Test
    void refusesFramesBeforeTheHandshake() {
        RawPeer raw = RawPeer.connect(mesh, "b");
        raw.sendBytes(Frame.newBuilder().setEnvelope(raw.envelope("early")).build().toByteArray());
        assertNotNull(raw.closed, "closed");
        assertEquals(1, raw.target.counter("refused.badHandshake"));
        assertTrue(raw.rawReceived.isEmpty(), "no handshake answer");
        assertEquals(0, raw.target.received.size(), "nothing from an unauthenticated connection is routed");
    }

    @Test
    void refusesGarbageBeforeTheHandshakeAndReadsNothingBehindIt() {
        RawPeer raw = RawPeer.connect(mesh, "b");
        raw.connection.send(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff});
        raw.noise = dev.meshwork.transport.multichannel.internal.secure.NoiseHandshake.initiator(raw.staticKey);
        try {
            raw.connection.send(raw.noise.write(new byte[0]));
        } catch (dev.meshwork.transport.multichannel.internal.secure.HandshakeException e) {
            throw new AssertionError(e);
        }
        mesh.settle();
        assertNotNull(raw.closed);
        assertEquals(1, raw.target.counter("refused.badHandshake"));
        assertTrue(raw.rawReceived.isEmpty(), "the handshake message behind the bad one was not answered");
        assertEquals(1, raw.target.counter("dropped.afterClose"));
    }

    @Test
    void dispatchesNothingBehindAnUndecodableFrameOnAnAuthenticatedConnection() {
        RawPeer raw = RawPeer.connect(mesh, "b");
        raw.handshake();
        // in one burst: the fatal frame, then a valid envelope queued behind it on the same connection
        raw.protection.seal(new byte[] {0x1a, 0x7f, 0x01}).forEach(raw.connection::send);
        raw.seal(Frame.newBuilder().setEnvelope(raw.envelope("behind")).build()).forEach(raw.connection::send);
        mesh.settle();
        assertClosedWith(raw, Goodbye.Code.PROTOCOL_VIOLATION);
        assertEquals(1, raw.target.counter("refused.undecodableFrame"));
        assertEquals(0, raw.target.received.size(), "the envelope behind the fatal frame was not delivered");
        assertTrue(raw.acks().isEmpty(), "nor acknowledged");
        assertEquals(1, raw.target.counter("dropped.afterClose"));
    }

    @Test
    void refusesAnOversizedFrameBeforeReassemblingIt() {
        // a small payload limit: the frame cap is then the wire default, 1 MiB
        RawPeer raw = RawPeer.connect(mesh, "b", s -> s.withMaxPayloadBytes(100));
        raw.handshake();
        byte[] big = Frame.newBuilder().setEnvelope(raw.envelope("big")
                .setPayload(ByteString.copyFrom(new byte[WireConstants.DEFAULT_MAX_FRAME_BYTES]))).build().toByteArray();
        raw.protection.seal(big).forEach(raw.connection::send);
        mesh.settle();
        assertClosedWith(raw, Goodbye.Code.PROTOCOL_VIOLATION);
        assertEquals(1, raw.target.counter("refused.oversizedFrame"));
        assertEquals(0, raw.target.received.size());
    }

    @Test
    void dropsAnEnvelopeWithASpoofedSource() {
        RawPeer raw = RawPeer.connect(mesh, "b");
        raw.helloAndAuthenticate();
        raw.sendEnvelope(raw.envelope("spoof").setSource("someone-else"));
        assertEquals(1, raw.target.counter("dropped.unprovenSource"));
        assertEquals(1, raw.target.counter("e2e.unsigned"));
        assertEquals(0, raw.target.received.size());
        raw.sendEnvelope(raw.envelope("own").setSource(raw.target.id().value()));
        assertEquals(1, raw.target.counter("dropped.ownSource"), "nor in the receiver's own name");
        assertEquals(0, raw.target.received.size());
    }

    @Test
    void refusesAHopLimitOverflow() {
        RawPeer raw = RawPeer.connect(mesh, "b");
        raw.helloAndAuthenticate();
        raw.sendEnvelope(raw.envelope("hops").setHopLimit(1000));
        assertClosedWith(raw, Goodbye.Code.PROTOCOL_VIOLATION);
        assertEquals(1, raw.target.counter("refused.hopLimitOverflow"));
    }

    @Test
    void refusesToRelayWhenTheHopLimitIsExhausted() {
        RawPeer raw = RawPeer.connect(mesh, "b");
        raw.helloAndAuthenticate();
        raw.sendEnvelope(raw.envelope("relay").setTarget("c").setHopLimit(0));
        Ack ack = raw.acks().get(0);
        assertFalse(ack.getOk());
        assertEquals(FailureCode.HOP_LIMIT_EXCEEDED, ack.getCode(), ack.getError());
        assertEquals(1, raw.target.counter("refused.hopLimitExceeded"));
    }

    @Test
    void refusesAnUnknownTopicPermanently() {
        RawPeer raw = RawPeer.connect(mesh, "b");
        raw.helloAndAuthenticate();
        raw.sendEnvelope(raw.envelope("topic").setTopic("nobody.listens"));
        Ack ack = raw.acks().get(0);
        assertFalse(ack.getOk());
        assertFalse(ack.getRetryable());
        assertEquals(FailureCode.UNKNOWN_TOPIC, ack.getCode(), ack.getError());
        assertEquals(1, raw.target.counter("refused.unknownTopic"));
        assertTrue(raw.closed == null, "not a protocol violation: the connection stays");
    }

    @Test
    void refusesAnOversizedPayload() {
        RawPeer raw = RawPeer.connect(mesh, "b", s -> s.withMaxPayloadBytes(100));
        raw.helloAndAuthenticate();
        raw.sendEnvelope(raw.envelope("big").setPayload(ByteString.copyFrom(new byte[101])));
        Ack ack = raw.acks().get(0);
        assertEquals(FailureCode.PAYLOAD_TOO_LARGE, ack.getCode(), ack.getError());
        assertEquals(1, raw.target.counter("refused.payloadTooLarge"));
        assertEquals(0, raw.target.received.size());
    }

    @Test
    void rateLimitsAFloodingPeer() {
        RawPeer raw = RawPeer.connect(mesh, "b", s -> s.withRateBudget(50));
        raw.helloAndAuthenticate();
        for (int i = 0; i < 80; i++) {
            raw.seal(Frame.newBuilder().setEnvelope(raw.envelope("flood-" + i)).build()).forEach(raw.connection::send);
        }
        mesh.settle();
        long refused = raw.acks().stream().filter(a -> a.getCode() == FailureCode.RATE_LIMITED).count();
        assertTrue(refused >= 25, "refused " + refused);
        assertTrue(raw.target.received.size() <= 55, "delivered " + raw.target.received.size());
        assertEquals(refused, raw.target.counter("refused.rateLimited"));
    }

    @Test
    void refusesAHandshakeThatTakesTooLong() {
        RawPeer raw = RawPeer.connect(mesh, "b");
        raw.first();
        mesh.advanceMillis(5_001);
        assertNotNull(raw.closed);
        assertEquals(1, raw.target.counter("refused.handshakeTimeout"));
    }
}
