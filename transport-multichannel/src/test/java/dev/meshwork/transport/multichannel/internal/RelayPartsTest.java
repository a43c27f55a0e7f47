package dev.meshwork.transport.multichannel.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.router.ChannelState;
import dev.meshwork.testkit.ManualTime;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The relay's parts alone: neighbour claims and route choice, the relay log, the caps. */
class RelayPartsTest {

    private static final NodeId SELF = NodeId.of("self");
    private static final NodeId A = NodeId.of("a");
    private static final NodeId B = NodeId.of("b");
    private static final NodeId C = NodeId.of("c");
    private static final long HOLD = Duration.ofSeconds(30).toNanos();

    private final ManualTime time = new ManualTime();

    @Test
    void aClaimMakesItsClaimerACandidateAndNothingElse() {
        NeighbourClaims claims = new NeighbourClaims(SELF, HOLD);
        assertTrue(claims.update(A, List.of("c", "self", "a", "not valid!"), 0));
        assertEquals(Set.of(C), claims.claimedBy(A), "own id, the claimer's id and invalid ids are dropped");
        assertTrue(claims.claimed(C));
        assertEquals(A, claims.choose(C, n -> true, time.nanoTime()));
        assertNull(claims.choose(C, n -> false, time.nanoTime()), "a claimer without an open channel is no route");
        assertNull(claims.choose(A, n -> true, time.nanoTime()), "nobody is its own relay");
    }

    @Test
    void anOlderNeighbourListNeverReplacesANewerOneAndTheHelloListAlwaysApplies() {
        NeighbourClaims claims = new NeighbourClaims(SELF, HOLD);
        claims.update(A, List.of("c"), 5);
        assertFalse(claims.update(A, List.of("b"), 4));
        assertFalse(claims.update(A, List.of("b"), 5));
        assertEquals(Set.of(C), claims.claimedBy(A));
        assertTrue(claims.update(A, List.of("b"), 0));
        assertEquals(Set.of(B), claims.claimedBy(A));
        claims.forget(A);
        assertFalse(claims.claimed(B));
        assertTrue(claims.update(A, List.of("c"), 1), "after a restart its versions start again");
    }

    @Test
    void aRouteThatLostAMessageIsPassedOverUntilItsHoldDownEnds() {
        NeighbourClaims claims = new NeighbourClaims(SELF, HOLD);
        claims.update(A, List.of("c"), 1);
        claims.update(B, List.of("c"), 1);
        assertEquals(A, claims.choose(C, n -> true, time.nanoTime()), "first claimer first");
        claims.failed(C, A, time.nanoTime());
        assertEquals(B, claims.choose(C, n -> true, time.nanoTime()));
        time.advance(Duration.ofSeconds(1));
        claims.failed(C, B, time.nanoTime());
        assertEquals(A, claims.choose(C, n -> true, time.nanoTime()), "all held down: the one released first");
        time.advance(Duration.ofSeconds(29));
        assertFalse(claims.heldDown(C, A, time.nanoTime()));
        assertTrue(claims.heldDown(C, B, time.nanoTime()));
        claims.delivered(C, B);
        assertFalse(claims.heldDown(C, B, time.nanoTime()), "a signed ack through it lifts the hold-down");
    }

    @Test
    void theRelayLogDropsACopyWhileTheFirstIsOnItsWayAndForwardsAReSendOnceItsConnectionIsGone() {
        RelayLog log = new RelayLog(Duration.ofMinutes(5).toNanos(), 100);
        Link back = new Link(A, null, Instant.EPOCH);
        Link toC = new Link(C, null, Instant.EPOCH);
        Channel out = new Channel(toC, URI.create("mem://c:1/mesh"), false);
        out.moveTo(ChannelState.CONNECTING);
        out.moveTo(ChannelState.AUTHENTICATING);
        out.moveTo(ChannelState.OPEN);
        MemoryNetwork.End conn = new MemoryNetwork(time).new End(out.uri, false);
        out.connection = conn;
        long now = time.nanoTime();
        assertTrue(log.forward(A, "m1", C, back, out, now));
        assertFalse(log.forward(A, "m1", C, back, out, now), "a second copy while the first is on its way");
        assertTrue(log.forward(B, "m1", C, back, out, now), "another source's id is another message");
        assertEquals(back, log.ackRoute(C, "m1", now));
        assertNull(log.ackRoute(A, "m1", now), "only the node it was relayed to answers");
        out.connection = new MemoryNetwork(time).new End(out.uri, false);
        assertTrue(log.forward(A, "m1", C, back, out, now), "the first copy's connection is gone: forward again");
    }

    @Test
    void capsNameTheFirstLimitABreachesAndCountUtf8Bytes() {
        InboundLimits limits = new InboundLimits(4, 4, 2, 6, 2);
        assertNull(limits.check("1234", "abcd", Map.of("k", "vv")));
        assertEquals("refused.messageIdTooLong", limits.check("12345", "t", Map.of()).counter());
        assertEquals("refused.topicTooLong", limits.check("1", "12345", Map.of()).counter());
        assertEquals("refused.tooManyHeaders", limits.check("1", "t", Map.of("a", "", "b", "", "c", "")).counter());
        InboundLimits.Breach bytes = limits.check("1", "t", Map.of("k", "\u00e9\u00e9\u00e9"));
        assertNotNull(bytes, "1 + 3 characters, 7 bytes");
        assertEquals("refused.headersTooLarge", bytes.counter());
        assertEquals(4, InboundLimits.utf8Length("\uD83D\uDE00"));
        assertNull(limits.checkNeighbours(List.of("a", "b")));
        assertEquals("refused.neighboursTooMany", limits.checkNeighbours(List.of("a", "b", "c")).counter());
    }
}
