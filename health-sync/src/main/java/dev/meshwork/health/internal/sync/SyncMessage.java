package dev.meshwork.health.internal.sync;

import dev.meshwork.api.NodeId;
import dev.meshwork.health.internal.crdt.Fragment;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One sync message between neighbours, decoded.
 *
 * @param kind      what it is
 * @param session   the sender's engine session (0 when absent: pushes do not carry it)
 * @param version   the sender's full version vector (digests and delta answers)
 * @param fragments the events carried
 * @param truncated whether the sender cut the delta at its size limit
 * @param request   a digest sent because the sender lacks something (taken literally)
 * @param answer    a digest of a catch-up: the sender has not heard the receiver since the link
 *                  came up and asks for an answer even when the digests match
 */
public record SyncMessage(Kind kind, long session, Optional<Map<NodeId, Long>> version, List<Fragment> fragments,
        boolean truncated, boolean request, boolean answer) {

    public SyncMessage(Kind kind, long session, Optional<Map<NodeId, Long>> version, List<Fragment> fragments,
            boolean truncated, boolean request) {
        this(kind, session, version, fragments, truncated, request, false);
    }

    public SyncMessage(Kind kind, long session, Optional<Map<NodeId, Long>> version, List<Fragment> fragments,
            boolean truncated) {
        this(kind, session, version, fragments, truncated, false, false);
    }

    /** The message kinds; see {@link SyncEngine} for the protocol. */
    public enum Kind {
        /** The sender's version vector, no events. */
        DIGEST,
        /** Events the receiver lacks, with the sender's version vector. */
        DELTA,
        /** Events pushed after a change, no version vector. */
        PUSH
    }

    public SyncMessage {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(version, "version");
        version = version.map(Map::copyOf);
        fragments = List.copyOf(fragments);
        if (kind != Kind.PUSH && version.isEmpty()) {
            throw new IllegalArgumentException(kind + " must carry a version vector");
        }
    }

    public int eventCount() {
        return fragments.stream().mapToInt(f -> f.events().size()).sum();
    }
}
