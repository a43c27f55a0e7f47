package dev.meshwork.api.health;

import dev.meshwork.api.NodeId;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What one observer last recorded about one subject. Immutable.
 *
 * @param observer     the node that observed
 * @param subject      the node observed
 * @param reachability how the observer reaches the subject
 * @param via          the relay, for {@link Reachability#RELAY}
 * @param since        when the observer recorded this reachability
 */
public record Observation(NodeId observer, NodeId subject, Reachability reachability, Optional<NodeId> via, Instant since) {

    public Observation {
        Objects.requireNonNull(observer, "observer");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(reachability, "reachability");
        Objects.requireNonNull(via, "via");
        Objects.requireNonNull(since, "since");
    }
}
