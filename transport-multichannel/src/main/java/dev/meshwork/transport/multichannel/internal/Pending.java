package dev.meshwork.transport.multichannel.internal;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.router.DeliveryResult;
import dev.meshwork.api.wire.Envelope;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

/** One message a link holds until it is written (or acknowledged): its frame, its caller's future, its timer. */
final class Pending {

    final Envelope envelope;
    final NodeId target;
    final boolean ackRequired;
    final long startNanos;
    final CompletableFuture<DeliveryResult> future;
    final Link link;
    ScheduledFuture<?> timer;
    /** The envelope signed for the way through a relay, made (off the core's lock) when it first takes one. */
    Envelope sealed;
    /** Its signature is being made. */
    boolean signing;
    /** The channel it was last written on, so a failure of that channel re-sends it. */
    Channel writtenOn;
    boolean everWritten;

    Pending(Envelope envelope, NodeId target, boolean ackRequired, long startNanos,
            CompletableFuture<DeliveryResult> future, Link link) {
        this.envelope = envelope;
        this.target = target;
        this.ackRequired = ackRequired;
        this.startNanos = startNanos;
        this.future = future;
        this.link = link;
    }

    String id() {
        return envelope.getMessageId();
    }

    long bytes() {
        return envelope.getPayload().size();
    }
}
