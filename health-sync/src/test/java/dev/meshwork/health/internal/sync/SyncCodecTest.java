package dev.meshwork.health.internal.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import dev.meshwork.api.health.HealthEventType;
import dev.meshwork.health.internal.crdt.Fragment;
import dev.meshwork.health.internal.crdt.Summary;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SyncCodecTest {

    private static final NodeId A = NodeId.of("node-07");

    private static HealthEvent event(long seq) {
        return new HealthEvent(A, seq, Instant.parse("2026-11-23T16:00:00.123Z"), HealthEventType.PEER_UP,
                Optional.of(NodeId.of("node-12")), Map.of("route", "direct", "channel", "ws://10.0.0.12:7400/mesh"));
    }

    @Test
    void everyEventTypeAndMessageKindSurvivesARoundTrip() throws Exception {
        for (HealthEventType type : HealthEventType.values()) {
            HealthEvent e = new HealthEvent(A, 3, Instant.ofEpochMilli(1_700_000_000_123L), type, Optional.empty(), Map.of("k", "v"));
            Summary s = Summary.EMPTY.fold(List.of(event(1), event(2)));
            SyncMessage m = new SyncMessage(SyncMessage.Kind.DELTA, 42, Optional.of(Map.of(A, 3L)),
                    List.of(new Fragment(A, 2, Optional.of(s), List.of(e))), true);
            assertEquals(m, SyncCodec.decode(SyncCodec.encode(m)));
        }
    }

    @Test
    void aPushedEventCostsLittleMoreThanTheEventItself() {
        HealthEvent e = event(1234);
        int eventAlone = dev.meshwork.health.internal.wire.Event.newBuilder().setSeq(e.seq()).setAtMillis(e.at().toEpochMilli())
                .setType(dev.meshwork.health.internal.wire.EventType.PEER_UP).setSubject("node-12")
                .putAllAttributes(e.attributes()).build().getSerializedSize();
        int push = SyncCodec.encode(new SyncMessage(SyncMessage.Kind.PUSH, 0, Optional.empty(),
                List.of(new Fragment(A, 1233, Optional.empty(), List.of(e))), false)).length;
        assertTrue(push <= eventAlone + 20, "push " + push + " bytes for an event of " + eventAlone);
    }

    @Test
    void badInputFromAPeerIsRefusedAsMalformed() {
        // A fragment whose origin is not a valid node id.
        byte[] badOrigin = dev.meshwork.health.internal.wire.SyncBody.newBuilder()
                .setKind(dev.meshwork.health.internal.wire.SyncBody.Kind.PUSH)
                .addFragments(dev.meshwork.health.internal.wire.Fragment.newBuilder().setOrigin("../etc").setAfter(0))
                .build().toByteArray();
        assertThrows(SyncCodec.MalformedSyncException.class, () -> SyncCodec.decode(badOrigin));
        // An event type from the future.
        byte[] badType = dev.meshwork.health.internal.wire.SyncBody.newBuilder()
                .setKind(dev.meshwork.health.internal.wire.SyncBody.Kind.PUSH)
                .addFragments(dev.meshwork.health.internal.wire.Fragment.newBuilder().setOrigin("a")
                        .addEvents(dev.meshwork.health.internal.wire.Event.newBuilder().setTypeValue(99)))
                .build().toByteArray();
        assertThrows(SyncCodec.MalformedSyncException.class, () -> SyncCodec.decode(badType));
        // A summary that claims to keep an event it does not cover.
        byte[] badSummary = dev.meshwork.health.internal.wire.SyncBody.newBuilder()
                .setKind(dev.meshwork.health.internal.wire.SyncBody.Kind.PUSH)
                .addFragments(dev.meshwork.health.internal.wire.Fragment.newBuilder().setOrigin("a").setAfter(1)
                        .setSummary(dev.meshwork.health.internal.wire.Summary.newBuilder().setCovered(1)
                                .addKept(dev.meshwork.health.internal.wire.Event.newBuilder().setSeq(5).setTypeValue(1))))
                .build().toByteArray();
        assertThrows(SyncCodec.MalformedSyncException.class, () -> SyncCodec.decode(badSummary));
    }
}
