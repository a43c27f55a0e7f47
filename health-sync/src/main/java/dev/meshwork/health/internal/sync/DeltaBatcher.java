package dev.meshwork.health.internal.sync;

import dev.meshwork.api.NodeId;
import dev.meshwork.health.internal.crdt.Fragment;
import dev.meshwork.health.internal.crdt.HealthDocument;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Cuts what a neighbour lacks into messages of at most {@code maxEventsPerMessage} events. Only a
 * DELTA's last message carries the version vector: the earlier ones go as pushes, so the
 * receiver does not ask for what is still on its way. Not thread-safe: the engine's thread calls it.
 */
final class DeltaBatcher {

    /** Where the messages go. */
    interface Out {
        void send(SyncMessage m, int events);
    }

    private final HealthDocument doc;
    private final NodeId self;
    private final int maxEventsPerMessage;
    private final long session;

    DeltaBatcher(HealthDocument doc, NodeId self, int maxEventsPerMessage, long session) {
        this.doc = doc;
        this.self = self;
        this.maxEventsPerMessage = maxEventsPerMessage;
        this.session = session;
    }

    /** Whether {@code n} lacks anything we may send, own events only up to {@code durableOwn}. */
    boolean lacks(NeighbourSession n, long durableOwn) {
        return !doc.deltaFor(n.assumed, 1, self, durableOwn).isEmpty();
    }

    /**
     * Sends everything {@code n} lacks per its assumed vector (raised as it goes), own events
     * only up to {@code durableOwn}.
     *
     * @return whether anything was sent
     */
    boolean send(NeighbourSession n, SyncMessage.Kind kind, long durableOwn, LongSupplier nowMillis,
            Supplier<Map<NodeId, Long>> advertised, Out out) {
        boolean sent = false;
        while (true) {
            HealthDocument.Delta d = doc.deltaFor(n.assumed, maxEventsPerMessage, self, durableOwn);
            if (d.isEmpty()) {
                return sent;
            }
            for (Fragment f : d.fragments()) {
                n.sent(f, nowMillis.getAsLong());
            }
            boolean last = !d.truncated();
            if (kind == SyncMessage.Kind.DELTA && last) {
                out.send(new SyncMessage(SyncMessage.Kind.DELTA, session, Optional.of(advertised.get()), d.fragments(), false),
                        d.eventCount());
            } else {
                out.send(new SyncMessage(SyncMessage.Kind.PUSH, 0, Optional.empty(), d.fragments(), false), d.eventCount());
            }
            sent = true;
            if (last) {
                return true;
            }
        }
    }
}
