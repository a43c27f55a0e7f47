package dev.meshwork.transport.multichannel.internal.ds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.router.LinkState;
import dev.meshwork.api.router.PeerConfig;
import dev.meshwork.api.transport.Transport;
import dev.meshwork.testkit.Await;
import dev.meshwork.transport.multichannel.internal.Ed25519Identity;
import dev.meshwork.transport.multichannel.internal.MeshCore;
import dev.meshwork.transport.multichannel.internal.RouterSettings;
import dev.meshwork.transport.multichannel.internal.TcpTestTransport;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.BundleContext;

/** The DS component driven as SCR would (bind, activate, modified) over real loopback sockets. */
class MeshRouterTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private final TcpTestTransport routerTransport = new TcpTestTransport();
    private final TcpTestTransport peerTransport = new TcpTestTransport();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final ExecutorService callbacks = Executors.newCachedThreadPool();
    private MeshRouter router;
    private MeshCore peer;

    @AfterEach
    void tearDown() {
        if (peer != null) {
            peer.close();
        }
        if (router != null) {
            router.deactivate();
        }
        routerTransport.shutdown();
        peerTransport.shutdown();
        scheduler.shutdownNow();
        callbacks.shutdownNow();
    }

    private static MeshRouter.Config config(Map<String, Object> values) {
        return (MeshRouter.Config) Proxy.newProxyInstance(MeshRouter.Config.class.getClassLoader(),
                new Class<?>[] {MeshRouter.Config.class}, (p, m, args) -> switch (m.getName()) {
                    case "annotationType" -> MeshRouter.Config.class;
                    case "hashCode" -> System.identityHashCode(p);
                    case "equals" -> p == args[0];
                    case "toString" -> "Config" + values;
                    default -> values.getOrDefault(m.getName(), m.getDefaultValue());
                });
    }

    private BundleContext context() {
        return (BundleContext) Proxy.newProxyInstance(BundleContext.class.getClassLoader(),
                new Class<?>[] {BundleContext.class}, (p, m, args) -> {
                    if (m.getName().equals("getProperty") && "meshwork.data.dir".equals(args[0])) {
                        return dir.toString();
                    }
                    throw new UnsupportedOperationException(m.getName());
                });
    }

    /** Port 0: the router's transport binds a free port, read back from {@code listenUris()}. */
    private static final URI ANY_PORT = URI.create("tcp://127.0.0.1:0/mesh");

    private boolean peerUp() {
        return peer.peer(router.nodeId()).map(p -> p.state() == LinkState.UP).orElse(false);
    }

    private String peerSeesIncarnation() {
        return peer.peer(router.nodeId()).flatMap(p -> p.incarnation()).orElse("");
    }

    @Test
    void appliesLimitsAndTimeoutsLiveAndRestartsInPlaceWhenListenChanges() throws Exception {
        Map<String, Object> values = new HashMap<>();
        values.put("listen", new String[] {ANY_PORT.toString()});
        router = new MeshRouter();
        router.addTransport(routerTransport, Map.of(Transport.SCHEMES, "tcp")); // SCR binds before activating
        router.activate(context(), config(Map.copyOf(values)));
        URI first = router.listenUris().get(0);
        assertNotEquals(0, first.getPort(), "bound to a real port: " + first);

        Ed25519Identity peerId = Ed25519Identity.ephemeral(NodeId.of("peer"));
        peer = new MeshCore(peerId, RouterSettings.DEFAULTS, System::nanoTime, InstantSource.system(), scheduler,
                callbacks, () -> ThreadLocalRandom.current().nextDouble());
        peer.addTransport(peerTransport, List.of("tcp"));
        peer.start();
        // what a PeerComponent does; the peer does not listen, so only its dials make the link
        router.addPeer(new PeerConfig(peerId.nodeId(), "peer", List.of(URI.create("tcp://127.0.0.1:1/unused")),
                Optional.of(peerId.publicKeyBase64())));
        peer.addPeer(new PeerConfig(router.nodeId(), "router", List.of(first), Optional.of(router.publicKeyBase64())));
        Await.until("the peer's link to the router is up", WAIT, this::peerUp);
        String incarnation = router.incarnation();

        // a limit and a timeout change: applied to the running core, the link stays
        values.put("queueLimit", 1);
        values.put("helloTimeoutMillis", 3000L);
        router.modified(context(), config(Map.copyOf(values)));
        assertEquals(incarnation, router.incarnation(), "not restarted");
        assertEquals(1L, router.counters().get("settingsUpdates"));
        assertTrue(peerUp());
        assertEquals(incarnation, peerSeesIncarnation());

        // a listen change: the core restarts in place on the same and a new port; the peer is kept
        values.put("listen", new String[] {first.toString(), ANY_PORT.toString()});
        router.modified(context(), config(Map.copyOf(values)));
        assertNotEquals(incarnation, router.incarnation(), "a restart is a new incarnation");
        List<URI> listening = router.listenUris();
        assertEquals(2, listening.size(), listening.toString());
        assertTrue(listening.contains(first), "the old port was released and bound again: " + listening);
        assertTrue(listening.stream().anyMatch(u -> u.getPort() > 0 && u.getPort() != first.getPort()),
                "and a new port besides it: " + listening);
        assertEquals(List.of(peerId.nodeId()), router.peers().stream().map(p -> p.node()).toList(),
                "configured peers replayed");
        Await.until("the peer redialed the restarted router at its normal backoff", Duration.ofSeconds(5),
                () -> peerUp() && peerSeesIncarnation().equals(router.incarnation()));
        assertSame(LinkState.UP, router.peer(peerId.nodeId()).orElseThrow().state());
    }
}
