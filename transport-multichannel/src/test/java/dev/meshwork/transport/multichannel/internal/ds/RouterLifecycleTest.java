package dev.meshwork.transport.multichannel.internal.ds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.MeshworkException;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.RetryableException;
import dev.meshwork.api.router.PeerConfig;
import dev.meshwork.api.router.SendOptions;
import dev.meshwork.api.transport.Transport;
import dev.meshwork.transport.multichannel.internal.TcpTestTransport;
import java.lang.reflect.Field;
import java.lang.reflect.Proxy;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The router's half of the lifecycle contract: a configured peer is never "unknown" (ready only
 * once ConfigAdmin's peers are added; a send to one not added yet fails retryable), and a removed
 * peer's held sends fail retryable, {@code SHUT_DOWN} when the node is stopping.
 */
class RouterLifecycleTest {

    private static final NodeId BETA = NodeId.of("beta");

    @TempDir
    Path dir;

    private final TcpTestTransport transport = new TcpTestTransport();
    /** The node ids ConfigAdmin holds a dev.meshwork.peer configuration for. */
    private final Set<String> configuredPeers = new CopyOnWriteArraySet<>();
    private final AtomicInteger bundleState = new AtomicInteger(Bundle.ACTIVE);
    private final AtomicInteger frameworkState = new AtomicInteger(Bundle.ACTIVE);
    private MeshRouter router;

    @AfterEach
    void tearDown() {
        if (router != null) {
            router.deactivate();
        }
        transport.shutdown();
    }

    private static <T> T proxy(Class<T> type, java.lang.reflect.InvocationHandler h) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, h));
    }

    private BundleContext context() {
        Bundle own = proxy(Bundle.class, (p, m, args) -> m.getName().equals("getState") ? bundleState.get() : null);
        Bundle system = proxy(Bundle.class, (p, m, args) -> m.getName().equals("getState") ? frameworkState.get() : null);
        return proxy(BundleContext.class, (p, m, args) -> switch (m.getName()) {
            case "getProperty" -> "meshwork.data.dir".equals(args[0]) ? dir.toString() : null;
            case "getBundle" -> args == null ? own : system;
            default -> throw new UnsupportedOperationException(m.getName());
        });
    }

    private ConfigurationAdmin configAdmin() {
        return proxy(ConfigurationAdmin.class, (p, m, args) -> {
            if (!m.getName().equals("listConfigurations")) {
                throw new UnsupportedOperationException(m.getName());
            }
            assertEquals("(service.factoryPid=dev.meshwork.peer)", args[0]);
            return configuredPeers.stream().map(node -> proxy(Configuration.class, (c, cm, cargs) -> {
                Dictionary<String, Object> props = new Hashtable<>(Map.of("node", node, "urls", new String[] {"tcp://127.0.0.1:1/x"}));
                return cm.getName().equals("getProperties") ? props : null;
            })).toArray(Configuration[]::new);
        });
    }

    private static MeshRouter.Config config(String listen) {
        return proxy(MeshRouter.Config.class, (p, m, args) -> switch (m.getName()) {
            case "annotationType" -> MeshRouter.Config.class;
            case "hashCode" -> System.identityHashCode(p);
            case "equals" -> p == args[0];
            case "toString" -> "Config";
            case "listen" -> new String[] {listen};
            default -> m.getDefaultValue();
        });
    }

    private void start() throws Exception {
        router = new MeshRouter();
        Field f = MeshRouter.class.getDeclaredField("configAdmin");
        f.setAccessible(true);
        f.set(router, configAdmin());
        router.addTransport(transport, Map.of(Transport.SCHEMES, "tcp"));
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        router.activate(context(), config("tcp://127.0.0.1:" + port + "/mesh"));
    }

    private static PeerConfig beta() {
        return new PeerConfig(BETA, "beta", List.of(URI.create("tcp://127.0.0.1:1/unreachable")), Optional.empty());
    }

    private static MeshworkException failure(CompletableFuture<?> f) {
        Throwable t = f.handle((r, e) -> e).join();
        return assertInstanceOf(MeshworkException.class, t);
    }

    private CompletableFuture<?> send(NodeId target) {
        return router.send(target, "t", new byte[1], SendOptions.DEFAULT.withTimeout(Duration.ofMinutes(1)));
    }

    @Test
    void aConfiguredPeerNotAddedYetIsRetryableAndTheRouterIsReadyOnlyOnceItIsAdded() throws Exception {
        configuredPeers.add("beta");
        start();
        assertFalse(router.isReady(), "ConfigAdmin holds beta, the router does not yet");
        MeshworkException early = failure(send(BETA));
        assertInstanceOf(RetryableException.class, early);
        assertEquals(FailureCode.UNREACHABLE_PEER, early.code());
        MeshworkException stranger = failure(send(NodeId.of("nobody")));
        assertInstanceOf(PermanentException.class, stranger, "a peer nobody configured is still unknown");
        assertEquals(FailureCode.UNKNOWN_PEER, stranger.code());

        router.addPeer(beta()); // what beta's PeerComponent does when SCR gets to it
        assertTrue(router.isReady());
    }

    @Test
    void aRefusedPeerConfigurationDoesNotHoldReadinessBack() throws Exception {
        configuredPeers.add("beta");
        start();
        try {
            router.addPeer(new PeerConfig(BETA, "beta", List.of(URI.create("nonsense:/x")), Optional.empty()));
        } catch (IllegalArgumentException expected) {
            // refused: its PeerComponent fails to activate
        }
        assertTrue(router.isReady());
    }

    @Test
    void withoutPeerConfigurationTheRouterIsReadyAtOnce() throws Exception {
        start();
        assertTrue(router.isReady());
    }

    @Test
    void aPeerRemovedWhileTheNodeStopsFailsItsHeldSendsWithRetryableShutDown() throws Exception {
        start();
        router.addPeer(beta());
        CompletableFuture<?> held = send(BETA);
        assertFalse(held.isDone(), "held while beta is unreachable");
        frameworkState.set(Bundle.STOPPING);
        router.removePeer(BETA); // SCR deactivates beta's PeerComponent before the router
        MeshworkException e = failure(held);
        assertInstanceOf(RetryableException.class, e);
        assertEquals(FailureCode.SHUT_DOWN, e.code());
    }

    @Test
    void aPeerRemovedByItsBundleStoppingFailsItsHeldSendsWithRetryableShutDown() throws Exception {
        start();
        router.addPeer(beta());
        CompletableFuture<?> held = send(BETA);
        bundleState.set(Bundle.STOPPING);
        router.removePeer(BETA);
        assertEquals(FailureCode.SHUT_DOWN, failure(held).code());
        assertTrue(failure(held).isRetryable());
    }

    @Test
    void whileItsBundleStopsTheRouterIsNotReadyAndASendToItsRemovedPeerIsRetryable() throws Exception {
        configuredPeers.add("beta");
        start();
        router.addPeer(beta());
        assertTrue(router.isReady());
        bundleState.set(Bundle.STOPPING);
        router.removePeer(BETA); // beta's PeerComponent goes first
        assertFalse(router.isReady(), "an outbox or console must not take the removed peer for unknown");
        MeshworkException e = failure(send(BETA));
        assertInstanceOf(RetryableException.class, e);
        assertEquals(FailureCode.SHUT_DOWN, e.code());
    }

    @Test
    void aPeerRemovedByConfigurationWhileRunningFailsItsHeldSendsRetryable() throws Exception {
        start();
        router.addPeer(beta());
        CompletableFuture<?> held = send(BETA);
        router.removePeer(BETA);
        MeshworkException e = failure(held);
        assertInstanceOf(RetryableException.class, e, "the configuration may come back; a durable sender retries");
        assertEquals(FailureCode.UNKNOWN_PEER, e.code());
    }
}
