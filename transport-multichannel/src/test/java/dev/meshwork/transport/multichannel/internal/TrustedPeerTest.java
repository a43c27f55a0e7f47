package dev.meshwork.transport.multichannel.internal;

import static dev.meshwork.transport.multichannel.internal.TestMesh.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.router.DeliveryResult;
import dev.meshwork.api.router.SendOptions;
import dev.meshwork.api.wire.Ack;
import dev.meshwork.api.wire.Envelope;
import dev.meshwork.api.wire.Frame;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * A trusted peer speaks only for itself: its neighbour claims make it a candidate route and
 * nothing more, and everything it controls is bounded. Each test is the attack, by a peer that
 * holds a trusted key and speaks the wire protocol by hand ({@link RawPeer}).
 */
class TrustedPeerTest {

    private final TestMesh mesh = new TestMesh();

    @Test
    void aRelayDropsDuplicatesInsteadOfForwardingThem() {
        TestMesh.Node c = mesh.node("c");
        RawPeer r = RawPeer.connect(mesh, "b");
        TestMesh.Node b = r.target;
        c.start(UnaryOperator.identity(), c.url(1));
        b.addPeer(c, c.url(1));
        mesh.advanceMillis(600);
        r.helloAndAuthenticate();
        Envelope.Builder env = r.envelope("twice").setTarget("c");
        r.sendEnvelope(env);
        r.sendEnvelope(env);
        assertEquals(1, b.counter("relayed"));
        assertEquals(1, b.counter("duplicatesDropped.relay"));
    }

    @Test
    void refusesOverlongIdsTopicsAndHeadersWithATypedNackAndCountsEach() {
        RawPeer raw = RawPeer.connect(mesh, "b");
        raw.helloAndAuthenticate();
        raw.sendEnvelope(raw.envelope("x".repeat(129)));
        raw.sendEnvelope(raw.envelope("topic").setTopic("t".repeat(257)));
        Map<String, String> many = new HashMap<>();
        for (int i = 0; i < 33; i++) {
            many.put("h" + i, "v");
        }
        raw.sendEnvelope(raw.envelope("headers").putAllHeaders(many));
        raw.sendEnvelope(raw.envelope("header-bytes").putHeaders("big", "v".repeat(8193)));
        assertEquals(4, raw.acks().size(), raw.received.toString());
        for (Ack ack : raw.acks()) {
            assertFalse(ack.getOk());
            assertFalse(ack.getRetryable(), "a refusal of the message itself");
            assertEquals(dev.meshwork.api.wire.FailureCode.PAYLOAD_TOO_LARGE, ack.getCode(), ack.getError());
        }
        assertEquals(1, raw.target.counter("refused.messageIdTooLong"));
        assertEquals(1, raw.target.counter("refused.topicTooLong"));
        assertEquals(1, raw.target.counter("refused.tooManyHeaders"));
        assertEquals(1, raw.target.counter("refused.headersTooLarge"));
        assertEquals(0, raw.target.received.size());
        assertNull(raw.closed);
        raw.sendEnvelope(raw.envelope("x".repeat(128)).putHeaders("k", "v".repeat(100)));
        assertEquals(1, raw.target.received.size(), "at the limits it is accepted");
    }

    @Test
    void theLimitsAreConfigurable() {
        RawPeer raw = RawPeer.connect(mesh, "b", s -> s.withLimits(new InboundLimits(8, 4, 1, 16, 2)));
        raw.helloAndAuthenticate();
        raw.sendEnvelope(raw.envelope("123456789"));
        raw.sendEnvelope(raw.envelope("ok").setTopic("tests"));
        assertEquals(1, raw.target.counter("refused.messageIdTooLong"));
        assertEquals(1, raw.target.counter("refused.topicTooLong"));
    }

    @Test
    void refusesAnOverlongNeighbourListAndIgnoresItsClaims() {
        RawPeer raw = RawPeer.connect(mesh, "a");
        raw.helloAndAuthenticate();
        String[] ids = new String[1025];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = "n" + i;
        }
        raw.claimNeighbours(1, ids);
        assertEquals(1, raw.target.counter("refused.neighboursTooMany"));
        assertEquals(FailureCode.UNKNOWN_PEER, failure(raw.target.core.send(dev.meshwork.api.NodeId.of("n1"),
                TestMesh.TOPIC, new byte[0], SendOptions.DEFAULT)).code());
    }

    @Test
    void theSenderRefusesOverlongIdsTopicsAndHeadersBeforeQueueing() {
        TestMesh.Node a = mesh.node("a").start(UnaryOperator.identity());
        TestMesh.Node b = mesh.node("b");
        a.addPeer(b, b.url(1));
        assertEquals(FailureCode.PAYLOAD_TOO_LARGE, failure(a.core.send(b.id(), TestMesh.TOPIC, new byte[0],
                SendOptions.DEFAULT.withMessageId("x".repeat(129)))).code());
        assertEquals(FailureCode.PAYLOAD_TOO_LARGE, failure(a.core.send(b.id(), "t".repeat(257), new byte[0],
                SendOptions.DEFAULT)).code());
        assertEquals(1, a.counter("refused.messageIdTooLong.out"));
        assertEquals(0, a.peer(b).queueDepth());
    }
}
