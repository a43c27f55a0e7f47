package dev.meshwork.health.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.health.HealthEvent;
import dev.meshwork.api.health.HealthEventType;
import dev.meshwork.api.lifecycle.LifecycleEvent;
import dev.meshwork.api.lifecycle.LifecycleState;
import dev.meshwork.health.internal.sync.SyncConfig;
import dev.meshwork.testkit.ManualTime;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Whatever the order in which the router's links, the health replica's start and the
 * registration of its peer listener happen, each node's view records its peer's later events
 * within the sync windows, and its own observations of the peer going down and coming back.
 *
 * <p>The health replica learns the router's state from one look at {@code Router.peers()} in
 * its start and from the peer events delivered after its listener is registered, which DS does
 * only once the component is active, that is after the start. A link that comes up in between
 * is announced to nobody; and a router restarting its core in place refuses the look itself.
 */
class HealthStartOrderTest {

    private static final SyncConfig CONFIG = SyncConfig.DEFAULTS.withAntiEntropyInterval(Duration.ofSeconds(30));
    private static final Duration DELAY = Duration.ofMillis(5);
    /** Two push windows (the first hop and the answer) plus the message delays. */
    private static final Duration SYNC_WINDOW = CONFIG.pushWindow().multipliedBy(2).plus(DELAY.multipliedBy(4));

    @TempDir
    Path dir;

    private final ManualTime time = new ManualTime();
    private final StandInMesh mesh = new StandInMesh(time, DELAY);
    private final Map<String, HealthNode> nodes = new HashMap<>();
    private final java.util.concurrent.atomic.AtomicLong sessions = new java.util.concurrent.atomic.AtomicLong(7000);

    enum Order {
        /** Both replicas run and listen before the link comes up. */
        HEALTH_THEN_LINK,
        /** The link is up before either replica starts (the router came up first). */
        LINK_THEN_HEALTH,
        /** x starts, the link comes up, and only then is x's listener registered. */
        LINK_BEFORE_X_LISTENS,
        /** Both start, the link comes up, and only then are both listeners registered. */
        LINK_BEFORE_BOTH_LISTEN,
        /** x starts while its router restarts its core in place and refuses to list its peers. */
        X_ROUTER_RESTARTING_AT_START
    }

    private HealthNode start(String id, boolean listen) {
        StandInMesh.StandInRouter router = mesh.router(id);
        HealthNode node = new HealthNode(router, new StateStore(dir.resolve(id).resolve("health/state.bin")), CONFIG,
                time, time, Duration.ofSeconds(1), Duration.ofMinutes(5), e -> { }, sessions::incrementAndGet);
        node.start();
        nodes.put(id, node);
        if (listen) {
            listen(id);
        }
        return node;
    }

    private void listen(String id) {
        HealthNode node = nodes.get(id);
        mesh.router(id).handler = node::onSyncMessage;
        mesh.router(id).peerListener = node::onPeerEvent;
    }

    private void bringUp(Order order) {
        switch (order) {
            case HEALTH_THEN_LINK -> {
                start("x", true);
                start("y", true);
                mesh.link("x", "y");
            }
            case LINK_THEN_HEALTH -> {
                mesh.link("x", "y");
                start("x", true);
                start("y", true);
            }
            case LINK_BEFORE_X_LISTENS -> {
                start("y", true);
                start("x", false);
                mesh.link("x", "y");
                listen("x");
            }
            case LINK_BEFORE_BOTH_LISTEN -> {
                start("x", false);
                start("y", false);
                mesh.link("x", "y");
                listen("x");
                listen("y");
            }
            case X_ROUTER_RESTARTING_AT_START -> {
                start("y", true);
                mesh.router("x").restarting = true;
                start("x", true);
                mesh.router("x").restarting = false;
                mesh.link("x", "y");
            }
        }
    }

    private void gatewayEvent(String node, String gateway) {
        nodes.get(node).onLifecycleEvent(new LifecycleEvent(gateway, LifecycleState.STARTING, LifecycleState.RUNNING, 1,
                time.instant(), "ready"));
    }

    private static boolean hasGateway(HealthNode view, String origin, String gateway) {
        return view.timeline(NodeId.of(origin), Instant.EPOCH, 1000).stream().anyMatch(e -> e.type() == HealthEventType.GATEWAY_STATE
                && gateway.equals(e.attributes().get("gateway")));
    }

    private static List<HealthEventType> ownAbout(HealthNode view, String origin, String subject) {
        return view.timeline(NodeId.of(origin), Instant.EPOCH, 1000).stream()
                .filter(e -> e.subject().equals(Optional.of(NodeId.of(subject)))).map(HealthEvent::type).toList();
    }

    @ParameterizedTest
    @EnumSource(Order.class)
    void eachViewRecordsItsPeersLaterEventsWithinTheSyncWindowsWhateverTheStartOrder(Order order) {
        bringUp(order);
        // the router's links settle, the listeners are registered; a catch-up round may take
        // its first backoff step (200 ms), never an anti-entropy interval (30 s)
        time.advance(Duration.ofSeconds(1));
        HealthNode x = nodes.get("x");
        HealthNode y = nodes.get("y");

        gatewayEvent("x", "gx");
        gatewayEvent("y", "gy");
        time.advance(SYNC_WINDOW);
        assertTrue(hasGateway(y, "x", "gx"), order + ": y's view records x's later event: " + y.timeline(NodeId.of("x"), Instant.EPOCH, 100));
        assertTrue(hasGateway(x, "y", "gy"), order + ": x's view records y's later event: " + x.timeline(NodeId.of("y"), Instant.EPOCH, 100));

        // the peer goes down and comes back: each side records it, and the other side learns it
        mesh.cut("x", "y");
        time.advance(SYNC_WINDOW);
        mesh.link("x", "y");
        time.advance(Duration.ofSeconds(1));
        for (String[] pair : new String[][] {{"x", "y"}, {"y", "x"}}) {
            HealthNode self = nodes.get(pair[0]);
            List<HealthEventType> own = ownAbout(self, pair[0], pair[1]);
            assertTrue(own.size() >= 3 && own.get(own.size() - 2) == HealthEventType.PEER_DOWN
                    && own.get(own.size() - 1) == HealthEventType.PEER_UP, order + ": " + pair[0] + " recorded " + pair[1]
                    + " going down and coming back: " + own);
            HealthNode other = nodes.get(pair[1]);
            assertEquals(own, ownAbout(other, pair[0], pair[1]), order + ": " + pair[1] + " learned it");
        }
        assertEquals(x.versionVector(), y.versionVector());
        assertEquals(List.of(NodeId.of("y")), x.syncNeighbours());
        assertEquals(List.of(NodeId.of("x")), y.syncNeighbours());
        assertEquals(List.of(), time.failures(), "no task failed");
    }
}
