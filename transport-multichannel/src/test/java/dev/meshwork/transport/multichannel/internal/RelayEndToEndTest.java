package dev.meshwork.transport.multichannel.internal;

import static dev.meshwork.transport.multichannel.internal.TestMesh.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.MeshworkException;
import dev.meshwork.api.router.DeliveryResult;
import dev.meshwork.api.router.SendOptions;
import dev.meshwork.api.wire.Ack;
import dev.meshwork.api.wire.Envelope;
import dev.meshwork.api.wire.Frame;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Relayed traffic is authenticated end to end: an envelope is taken as from its source only from
 * the source's own link or under the source's signature, and an ack as from its target only from
 * the target's own link or under the target's signature. A relay, honest or not, can drop but not
 * forge; a sender whose message is dropped sees a failure and the next message takes another route.
 */
class RelayEndToEndTest {

    private final TestMesh mesh = new TestMesh();

    @Test
    void anEnvelopeWhoseSourceIsOnlyAClaimedNeighbourIsDroppedAndCounted() {
        mesh.node("c");
        RawPeer liar = RawPeer.connect(mesh, "b");
        liar.helloAndAuthenticate();
        liar.claimNeighbours(1, "c");
        liar.sendEnvelope(liar.envelope("forged").setSource("c"));
        assertEquals(0, liar.target.received.size(), "delivered as if from c: " + liar.target.received);
        assertEquals(1, liar.target.counter("dropped.unprovenSource"));
        assertNull(liar.closed, "a drop, not a protocol violation: the link stays");
        liar.sendEnvelope(liar.envelope("own"));
        assertEquals(1, liar.target.received.size(), "its own messages still go through");
    }

    @Test
    void aForgedAckFromAClaimedNeighbourNeverCompletesTheSend() {
        TestMesh.Node c = mesh.node("c");
        RawPeer liar = RawPeer.connect(mesh, "a");
        TestMesh.Node a = liar.target;
        a.addPeer(c, c.url(1)); // c is configured, but nothing listens there: no direct link
        liar.helloAndAuthenticate();
        liar.claimNeighbours(1, "c");
        CompletableFuture<DeliveryResult> f = a.core.send(c.id(), TestMesh.TOPIC, "for c".getBytes(),
                SendOptions.DEFAULT.withTimeout(Duration.ofSeconds(2)));
        mesh.settle();
        Envelope relayed = liar.envelopes().stream().filter(e -> e.getTarget().equals("c")).findFirst().orElseThrow(
                () -> new AssertionError("the claim made the liar a candidate route: " + liar.received));
        liar.send(Frame.newBuilder().setAck(Ack.newBuilder().setMessageId(relayed.getMessageId()).setOk(true)
                .setFrom("c")).build());
        assertFalse(f.isDone() && !f.isCompletedExceptionally(), "a forged ack completed the send");
        assertEquals(1, a.counter("refused.forgedAck"));
        mesh.advanceMillis(2_001);
        assertEquals(FailureCode.TIMEOUT, failure(f).code());
    }


    /** A node "r" that speaks by hand on a link to each of {@code targets} (started, listening on url(1), trusting r). */
    private RawPeer[] handDriven(TestMesh.Node r, TestMesh.Node... targets) {
        RawPeer[] raws = new RawPeer[targets.length];
        for (int i = 0; i < targets.length; i++) {
            raws[i] = RawPeer.as(mesh, r, targets[i]);
            raws[i].helloAndAuthenticate();
        }
        return raws;
    }

    private static Envelope lastEnvelopeFor(RawPeer raw, String target) {
        return raw.envelopes().stream().filter(e -> e.getTarget().equals(target)).reduce((x, y) -> y).orElseThrow(
                () -> new AssertionError("nothing for " + target + " in " + raw.received));
    }

    @Test
    void aRelayCanForwardButNeitherAlterNorAnswerForTheTarget() {
        TestMesh.Node a = mesh.node("a");
        TestMesh.Node c = mesh.node("c");
        TestMesh.Node r = mesh.node("r");
        a.start(UnaryOperator.identity(), a.url(1));
        c.start(UnaryOperator.identity(), c.url(1));
        RawPeer[] raws = handDriven(r, a, c);
        RawPeer toA = raws[0];
        RawPeer toC = raws[1];
        toA.claimNeighbours(1, "c");
        CompletableFuture<DeliveryResult> f = a.core.send(c.id(), TestMesh.TOPIC, "secret".getBytes(), SendOptions.DEFAULT);
        mesh.settle();
        Envelope sealed = lastEnvelopeFor(toA, "c");
        assertFalse(sealed.getSignedBody().isEmpty(), "a relayed message is signed by its origin");
        assertTrue(sealed.getTopic().isEmpty() && sealed.getPayload().isEmpty(), "its signed fields travel only inside");

        // altered on the way: the signature no longer verifies
        byte[] body = sealed.getSignedBody().toByteArray();
        body[body.length - 1] ^= 1;
        toC.sendEnvelope(sealed.toBuilder().setSignedBody(com.google.protobuf.ByteString.copyFrom(body)));
        // re-signed by the relay in a's name with its own (trusted, but bound to r) key
        toC.sendEnvelope(new EndToEndAuth(r.identity, new LinkKeys(new java.util.HashMap<>(),
                dev.meshwork.transport.multichannel.internal.secure.IdentityBindings.inMemory(), 10), java.util.Set::of)
                .seal(sealed.toBuilder().clearSignedBody().setTopic(TestMesh.TOPIC)
                        .setPayload(com.google.protobuf.ByteString.copyFromUtf8("forged")).setSource("a").build()).toBuilder());
        assertEquals(0, c.received.size());
        assertEquals(2, c.counter("dropped.unprovenSource"));
        assertEquals(1, c.counter("e2e.badSignature"));

        // forwarded as it is: delivered as from a, relayed by r, and answered under c's signature
        toC.sendEnvelope(sealed.toBuilder().setHopLimit(sealed.getHopLimit() - 1));
        assertEquals(List.of("secret"), c.payloads());
        assertEquals(a.id(), c.received.get(0).source());
        assertEquals(java.util.Optional.of(r.id()), c.received.get(0).relayedBy());
        Ack signed = toC.acks().get(0);
        assertFalse(signed.getSignature().isEmpty(), "the target signs its ack for a relayed message");

        // the relay turns the answer into something else: refused, the send stays open
        toA.send(Frame.newBuilder().setAck(signed.toBuilder().setSignedBody(
                signed.getSignedBody().concat(com.google.protobuf.ByteString.copyFrom(new byte[] {0x10, 0x01})))).build());
        assertFalse(f.isDone());
        assertEquals(1, a.counter("refused.forgedAck"));
        toA.send(Frame.newBuilder().setAck(signed).build());
        DeliveryResult result = f.join();
        assertTrue(result.acknowledged());
        assertEquals(dev.meshwork.api.router.Route.relay(r.id()), result.route());
    }

    @Test
    void aBlackHolingRelayFailsTheSendAndTheNextMessageTakesAnotherRoute() {
        TestMesh.Node c = mesh.node("c");
        TestMesh.Node b = mesh.node("b");
        RawPeer liar = RawPeer.connect(mesh, "a");
        TestMesh.Node a = liar.target;
        liar.helloAndAuthenticate();
        liar.claimNeighbours(1, "c"); // the liar claims first: it is the first candidate
        c.start(UnaryOperator.identity(), c.url(1));
        b.start(UnaryOperator.identity(), b.url(1));
        b.addPeer(c, c.url(1));
        a.addPeer(b, b.url(1));
        mesh.advanceMillis(1000);
        SendOptions twoSeconds = SendOptions.DEFAULT.withTimeout(Duration.ofSeconds(2));
        CompletableFuture<DeliveryResult> first = a.core.send(c.id(), TestMesh.TOPIC, "one".getBytes(), twoSeconds);
        mesh.settle();
        assertEquals(1, liar.envelopes().size(), "sent through the liar, which swallows it");
        mesh.advanceMillis(2_001);
        assertEquals(FailureCode.TIMEOUT, failure(first).code());
        assertEquals(1, a.counter("relay.timeouts"));
        CompletableFuture<DeliveryResult> second = a.core.send(c.id(), TestMesh.TOPIC, "two".getBytes(), twoSeconds);
        mesh.settle();
        DeliveryResult r = second.join();
        assertEquals(dev.meshwork.api.router.Route.relay(b.id()), r.route());
        assertEquals(List.of("two"), c.payloads());
        assertEquals(1, liar.envelopes().size(), "the route that lost a message is passed over");
    }

    @Test
    void aRelaysOwnRefusalFailsTheMessageOnlyRetryably() {
        TestMesh.Node c = mesh.node("c");
        RawPeer liar = RawPeer.connect(mesh, "a");
        TestMesh.Node a = liar.target;
        liar.helloAndAuthenticate();
        liar.claimNeighbours(1, "c");
        CompletableFuture<DeliveryResult> f = a.core.send(c.id(), TestMesh.TOPIC, "x".getBytes(), SendOptions.DEFAULT);
        mesh.settle();
        Envelope relayed = lastEnvelopeFor(liar, "c");
        liar.send(Frame.newBuilder().setAck(Ack.newBuilder().setMessageId(relayed.getMessageId()).setOk(false)
                .setFrom("raw").setRetryable(false).setCode(dev.meshwork.api.wire.FailureCode.UNKNOWN_TOPIC)
                .setError("nobody listens")).build());
        MeshworkException e = failure(f);
        assertInstanceOf(dev.meshwork.api.RetryableException.class, e, "a relay cannot refuse a message for good: " + e);
        assertEquals(1, a.counter("relay.refusals"));
    }

    @Test
    void aRelayLoopOfFalseClaimsDoesNotStormAndTheSenderFails() {
        TestMesh.Node c = mesh.node("c"); // exists nowhere
        TestMesh.Node l2 = mesh.node("l2");
        RawPeer one = RawPeer.connect(mesh, "s");
        TestMesh.Node s = one.target;
        RawPeer two = RawPeer.as(mesh, l2, s);
        one.helloAndAuthenticate();
        two.helloAndAuthenticate();
        one.claimNeighbours(1, "c", "l2");
        two.claimNeighbours(1, "c", "raw");
        SendOptions oneSecond = SendOptions.DEFAULT.withTimeout(Duration.ofSeconds(1));
        for (int round = 1; round <= 2; round++) {
            CompletableFuture<DeliveryResult> f = s.core.send(c.id(), TestMesh.TOPIC, ("m" + round).getBytes(), oneSecond);
            mesh.settle();
            // each liar hands what it got back to s, for c or for the other liar: s drops its own message
            for (RawPeer liar : List.of(one, two)) {
                for (Envelope e : liar.envelopes()) {
                    liar.sendEnvelope(e.toBuilder().setHopLimit(Math.max(0, e.getHopLimit() - 1)));
                    liar.sendEnvelope(e.toBuilder().setTarget(liar == one ? "l2" : "raw"));
                }
            }
            mesh.advanceMillis(1_001);
            assertEquals(FailureCode.TIMEOUT, failure(f).code());
        }
        assertEquals(1, one.envelopes().size(), "one copy each, no storm: " + one.envelopes());
        assertEquals(1, two.envelopes().size(), "the second message took the other route: " + two.envelopes());
        assertEquals(0, s.counter("relayed"));
        assertEquals(6, s.counter("dropped.ownSource"));
    }
}
