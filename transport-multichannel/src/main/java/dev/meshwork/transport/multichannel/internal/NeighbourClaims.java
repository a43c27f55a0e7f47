package dev.meshwork.transport.multichannel.internal;

import dev.meshwork.api.NodeId;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Who claims to reach whom: the neighbour lists peers announce (in the hello and in Neighbours
 * frames), and the choice of a relay among them.
 *
 * <p>A claim is never evidence. It only makes its claimer a <em>candidate</em> route to the
 * claimed node: what travels that way is signed by its origin and acknowledged under the target's
 * signature ({@link EndToEndAuth}), so a false claim can at most swallow traffic. A relay through
 * which a message timed out or was refused is held down for {@link #holdDownNanos}: the next
 * message to that target takes another candidate if there is one, and a held-down relay is used
 * again only when no other remains (a black hole may have been a passing fault).
 *
 * <pre>
 *   update(l, [c, d], v)   l is a candidate for c and d (an older or equal version is ignored)
 *   choose(c, usable)      first usable candidate not held down, in the order claims arrived;
 *                          else the one whose hold-down ends first; else none
 *   failed(c, l, now)      l is held down for c;  delivered(c, l) lifts it
 * </pre>
 *
 * Bounded by the peers (one list each, capped by {@link InboundLimits#maxNeighbours()}). Not
 * thread-safe: owned by the core, under its lock.
 */
final class NeighbourClaims {

    private record Claim(long version, Set<NodeId> nodes) {
    }

    private record Route(NodeId target, NodeId via) {
    }

    private final NodeId self;
    private final long holdDownNanos;
    private final Map<NodeId, Claim> claims = new LinkedHashMap<>();
    private final Map<Route, Long> heldDownUntil = new HashMap<>();

    NeighbourClaims(NodeId self, long holdDownNanos) {
        this.self = self;
        this.holdDownNanos = holdDownNanos;
    }

    /**
     * Replaces what {@code claimer} claims, unless {@code version} is older than what it claimed
     * last (0: the hello's list, which always applies). Invalid ids and this node's own are dropped.
     *
     * @return whether the claims changed
     */
    boolean update(NodeId claimer, List<String> ids, long version) {
        Claim before = claims.get(claimer);
        if (version != 0 && before != null && version <= before.version()) {
            return false;
        }
        Set<NodeId> nodes = ids.stream().filter(NodeId::isValid).map(NodeId::of)
                .filter(n -> !n.equals(self) && !n.equals(claimer)).collect(Collectors.toUnmodifiableSet());
        long v = Math.max(version, before == null ? -1 : before.version());
        claims.put(claimer, new Claim(v, nodes));
        return before == null || !before.nodes().equals(nodes);
    }

    /** Forgets what {@code claimer} claimed (it restarted or was removed). */
    void forget(NodeId claimer) {
        claims.remove(claimer);
        heldDownUntil.keySet().removeIf(r -> r.via().equals(claimer));
    }

    Set<NodeId> claimedBy(NodeId claimer) {
        Claim c = claims.get(claimer);
        return c == null ? Set.of() : c.nodes();
    }

    /** Whether anyone claims to reach {@code target}. */
    boolean claimed(NodeId target) {
        return claims.values().stream().anyMatch(c -> c.nodes().contains(target));
    }

    /** The relay to use for {@code target} now among the claimers {@code usable} accepts, or null. */
    NodeId choose(NodeId target, Predicate<NodeId> usable, long now) {
        NodeId fallback = null;
        long fallbackUntil = Long.MAX_VALUE;
        for (Map.Entry<NodeId, Claim> e : claims.entrySet()) {
            NodeId via = e.getKey();
            if (via.equals(target) || !e.getValue().nodes().contains(target) || !usable.test(via)) {
                continue;
            }
            Long until = heldDownUntil.get(new Route(target, via));
            if (until == null || now - until >= 0) {
                return via;
            }
            if (fallback == null || until - fallbackUntil < 0) {
                fallback = via;
                fallbackUntil = until;
            }
        }
        return fallback;
    }

    /** A message to {@code target} through {@code via} timed out or was refused by the relay: hold the route down. */
    void failed(NodeId target, NodeId via, long now) {
        if (claims.containsKey(via)) {
            heldDownUntil.put(new Route(target, via), now + holdDownNanos);
        }
    }

    /** {@code target} acknowledged (under its signature) a message relayed by {@code via}: the route works. */
    void delivered(NodeId target, NodeId via) {
        heldDownUntil.remove(new Route(target, via));
    }

    boolean heldDown(NodeId target, NodeId via, long now) {
        Long until = heldDownUntil.get(new Route(target, via));
        return until != null && now - until < 0;
    }
}
