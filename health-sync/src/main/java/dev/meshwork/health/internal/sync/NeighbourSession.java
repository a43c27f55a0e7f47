package dev.meshwork.health.internal.sync;

import dev.meshwork.api.NodeId;
import dev.meshwork.health.internal.crdt.Fragment;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;

/**
 * What the engine knows of one direct neighbour since its link came up: what it is assumed to
 * hold, whether the catch-up is over, the exchange in progress. Not thread-safe: the engine's
 * thread owns it.
 */
final class NeighbourSession {

    /** The neighbour's engine session; a new one resets what it is assumed to hold. */
    long session;
    /** What the neighbour is believed to hold (a version vector). */
    Map<NodeId, Long> assumed = new HashMap<>();
    /** When {@code assumed} was last raised optimistically per origin (wall millis). */
    private final Map<NodeId, Long> sentAt = new HashMap<>();
    boolean roundOpen;
    /** When we last sent this neighbour a digest it has not answered with a delta (wall millis), or -1. */
    long digestOutstandingSince = -1;
    /**
     * Whether, since the link came up, a version vector of it arrived that we then covered: we
     * hold all it holds, so the catch-up is over.
     */
    boolean heard;
    /** Catch-up digests repeated so far (the backoff step). */
    int catchUpRetries;
    ScheduledFuture<?> catchUpTimer;

    /** A message from a new engine session of the neighbour: it holds only what it tells again. */
    void restarted(long newSession) {
        session = newSession;
        assumed = new HashMap<>();
    }

    /** The neighbour holds what these fragments carry. */
    void received(Iterable<Fragment> fragments) {
        for (Fragment f : fragments) {
            assumed.merge(f.origin(), f.upTo(), Math::max);
        }
    }

    /** We sent it this fragment at {@code nowMillis}: assumed held from now on (optimistically). */
    void sent(Fragment f, long nowMillis) {
        assumed.merge(f.origin(), f.upTo(), Math::max);
        sentAt.put(f.origin(), nowMillis);
    }

    /**
     * A digest says what the neighbour held when it sent it; what we sent it since may still be
     * in flight. So the digest replaces our assumption, except where we sent more within the last
     * {@code graceMillis} (half an anti-entropy interval): without that, every digest crossing a
     * push would have the push sent twice. A push that was really lost is repaired by the next
     * digest after that.
     */
    void digest(Map<NodeId, Long> digest, long nowMillis, long graceMillis) {
        Map<NodeId, Long> next = new HashMap<>(digest);
        assumed.forEach((origin, seq) -> {
            Long sent = sentAt.get(origin);
            if (sent != null && nowMillis - sent < graceMillis && seq > next.getOrDefault(origin, 0L)) {
                next.put(origin, seq);
            }
        });
        assumed = next;
    }

    /** Our digest to it is unanswered and younger than {@code windowMillis}. */
    boolean answerPending(long nowMillis, long windowMillis) {
        return digestOutstandingSince >= 0 && nowMillis - digestOutstandingSince < windowMillis;
    }

    void cancelCatchUp() {
        if (catchUpTimer != null) {
            catchUpTimer.cancel(false);
            catchUpTimer = null;
        }
    }
}
