package dev.meshwork.api.health;

import dev.meshwork.api.NodeId;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The merged health document as this node holds it now. Converges on every node once the nodes
 * can talk to each other.
 *
 * <p><b>Threading:</b> thread-safe; every call reads a consistent snapshot.
 */
@ProviderType
public interface HealthView {

    /** Every node the document knows of (observers and observed). */
    List<NodeId> nodes();

    /** Who sees whom: the latest observation of every observer about every subject. */
    List<Observation> observations();

    /** The merged status of one node: how every observer sees it. */
    Optional<NodeStatus> status(NodeId node);

    /**
     * The events {@code node} recorded, oldest first, from {@code since}, at most {@code limit}
     * (the newest ones when there are more). Compacted history before the retention window is
     * not included.
     */
    List<HealthEvent> timeline(NodeId node, Instant since, int limit);

    /**
     * The fraction of {@code window} (ending now) during which some observer saw {@code node}
     * up, in {@code [0, 1]}.
     */
    double uptime(NodeId node, Duration window);

    /** Per origin node, the highest event sequence number held: the document's version vector. */
    Map<NodeId, Long> versionVector();
}
