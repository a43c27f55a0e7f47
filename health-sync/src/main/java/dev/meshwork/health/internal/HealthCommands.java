package dev.meshwork.health.internal;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import dev.meshwork.api.health.HealthView;
import dev.meshwork.api.health.NodeStatus;
import dev.meshwork.api.health.Observation;
import dev.meshwork.health.internal.crdt.HealthQueries;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * Gogo commands {@code health:view} and {@code health:timeline NODE}, in the {@code health:}
 * scope beside {@code mesh:*}, {@code outbox:*} and {@code gateway:*}. The older names
 * {@code mesh:health} and {@code mesh:timeline} still work through {@link MeshHealthAliases}.
 */
@Component(service = HealthCommands.class, property = {"osgi.command.scope=health", "osgi.command.function=view",
        "osgi.command.function=timeline"})
public final class HealthCommands {

    private final HealthView view;

    @Activate
    public HealthCommands(@Reference(name = "view") HealthView view) {
        this.view = view;
    }

    /**
     * Every node: best reachability, who sees it how, last seen, started, uptime over a day. From
     * one published snapshot of the replica, so the lines agree with one another.
     */
    public String view() {
        if (view instanceof ReplicatedHealthView r) {
            return view(r.snapshot(), Instant.now());
        }
        return table(view.nodes(), view::status, n -> view.uptime(n, Duration.ofDays(1)), view.versionVector());
    }

    /** What {@code health:view} prints for a replica's snapshot, uptimes taken at {@code now}. */
    static String view(HealthSnapshot s, Instant now) {
        HealthQueries q = s.queries();
        return table(q.nodes(), q::status, n -> q.uptime(n, Duration.ofDays(1), now), s.versionVector())
                + System.lineSeparator() + s.syncState() + System.lineSeparator() + s.counters();
    }

    private static String table(List<NodeId> nodes, Function<NodeId, Optional<NodeStatus>> status,
            ToDoubleFunction<NodeId> uptimeDay, Map<NodeId, Long> versionVector) {
        StringBuilder sb = new StringBuilder(String.format("%-20s %-8s %-24s %-24s %-7s %s%n", "NODE", "BEST", "LAST SEEN",
                "STARTED", "UP 24H", "SEEN BY"));
        for (NodeId n : nodes) {
            NodeStatus s = status.apply(n).orElseThrow();
            String seenBy = s.seenBy().stream().map(HealthCommands::describe).collect(Collectors.joining(", "));
            sb.append(String.format("%-20s %-8s %-24s %-24s %6.1f%% %s%n", n, s.best() + (s.stopped() ? "*" : ""),
                    s.lastSeen().map(Instant::toString).orElse("-"), s.startedAt().map(Instant::toString).orElse("-"),
                    100 * uptimeDay.applyAsDouble(n), seenBy.isEmpty() ? "-" : seenBy));
        }
        return sb.append("(* stopped on purpose)  version vector ").append(versionVector).toString();
    }

    /** The events {@code node} recorded, oldest first (the newest 100). */
    public String timeline(String node) {
        if (!NodeId.isValid(node)) {
            return "not a node id: " + node;
        }
        List<HealthEvent> events = view.timeline(NodeId.of(node), Instant.EPOCH, 100);
        if (events.isEmpty()) {
            return "no events of " + node + " within the retention window";
        }
        StringBuilder sb = new StringBuilder();
        for (HealthEvent e : events) {
            sb.append(String.format("%6d %s %-22s %s %s%n", e.seq(), e.at(), e.type(),
                    e.subject().map(NodeId::value).orElse(""), e.attributes().isEmpty() ? "" : e.attributes()));
        }
        return sb.toString();
    }

    private static String describe(Observation o) {
        return o.observer() + ":" + o.reachability() + o.via().map(v -> " via " + v).orElse("");
    }
}
