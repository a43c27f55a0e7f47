package dev.meshwork.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import dev.meshwork.api.MeshworkException;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.outbox.Outbox;
import dev.meshwork.api.outbox.OutboxMessage;
import dev.meshwork.api.outbox.OutboxRequest;
import dev.meshwork.api.outbox.OutboxState;
import dev.meshwork.api.outbox.OutboxStats;
import dev.meshwork.api.router.LinkState;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import javax.inject.Inject;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.util.tracker.ServiceTracker;

/**
 * The lifecycle contract (docs/lifecycle.md) in a real framework: the outbox bundle started
 * before, with and after the router and the peer's configuration, the configuration applied
 * late, and the bundles stopped and started in several orders under load. The peer is a separate
 * node process whose console counts what its handler receives. In every case no row dies, and
 * every message whose enqueue returned reaches the peer's handler.
 *
 * <p>Each test gets a fresh framework and data directory (per method), so a test's order of
 * starts is its own.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class StartStopOrderTest {

    private static final String PROBE_TOPIC = "meshwork.console.probe";
    private static final String ROUTER_BUNDLE = "dev.meshwork.transport.multichannel";
    private static final String OUTBOX_BUNDLE = "dev.meshwork.outbox.sqlite";
    private static final Duration LINK_WAIT = Duration.ofSeconds(30);
    private static final Duration SETTLE_WAIT = Duration.ofSeconds(60);

    @Inject
    private BundleContext context;

    @Configuration
    public Option[] config() {
        return MeshworkRuntime.options(name -> true);
    }

    private ConfigurationAdmin configAdmin() throws InterruptedException {
        ServiceTracker<ConfigurationAdmin, ConfigurationAdmin> t = new ServiceTracker<>(context, ConfigurationAdmin.class, null);
        t.open();
        ConfigurationAdmin admin = t.waitForService(20_000);
        assertNotNull("ConfigurationAdmin", admin);
        return admin;
    }

    /** Short retries, so a refused attempt costs milliseconds here (the outbox component restarts with them). */
    private void fastRetries() throws Exception {
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("backoffBaseMillis", 20L);
        props.put("backoffCapMillis", 200L);
        configAdmin().getConfiguration("dev.meshwork.outbox.sqlite", "?").update(props);
    }

    /** What the packaged node does for a {@code peers.NAME} block: a dev.meshwork.peer factory configuration. */
    private org.osgi.service.cm.Configuration configurePeer(PeerProcess peer) throws Exception {
        org.osgi.service.cm.Configuration c = configAdmin().createFactoryConfiguration("dev.meshwork.peer", "?");
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("node", peer.id);
        props.put("urls", new String[] {peer.wsUrl().toString()});
        props.put("publicKey", peer.publicKey());
        c.update(props);
        return c;
    }

    private PeerProcess startPeer(FrameworkNode node, String id) throws Exception {
        URI listen = node.listenOnFreePort();
        PeerProcess peer = new PeerProcess(id);
        try {
            peer.start(List.of(), node.identity().nodeId().value(), listen, node.identity().publicKeyBase64());
            return peer;
        } catch (Exception | AssertionError e) {
            peer.close();
            throw e;
        }
    }

    private static OutboxRequest message(NodeId target, int i) {
        return OutboxRequest.of(target, PROBE_TOPIC, ("m" + i).getBytes(StandardCharsets.UTF_8));
    }

    private Outbox outbox(ServiceTracker<Outbox, Outbox> outboxes) throws InterruptedException {
        Outbox o = outboxes.waitForService(20_000);
        assertNotNull("an Outbox service", o);
        return o;
    }

    /** Waits until nothing is pending or in flight, then: no row dead, each id DONE, each delivered to the peer's handler. */
    private static void assertNoRowDiedAndAllArrived(ServiceTracker<Outbox, Outbox> outboxes, List<String> ids, PeerProcess peer) {
        Waits.until("the outbox to settle every message", SETTLE_WAIT, () -> {
            Outbox o = outboxes.getService();
            if (o == null) {
                return false;
            }
            OutboxStats stats = o.stats();
            return stats.count(OutboxState.PENDING) == 0 && stats.count(OutboxState.INFLIGHT) == 0;
        }, () -> String.valueOf(outboxes.getService() == null ? "no outbox" : outboxes.getService().stats()));
        Outbox outbox = outboxes.getService();
        List<OutboxMessage> dead = outbox.list(OutboxState.DEAD, 10);
        assertTrue("no row died: " + dead, dead.isEmpty());
        List<String> notDone = new ArrayList<>();
        for (String id : ids) {
            Optional<OutboxMessage> m = outbox.get(id);
            if (m.map(x -> x.state() != OutboxState.DONE).orElse(true)) {
                notDone.add(id + "=" + m);
            }
        }
        assertTrue("every returned enqueue is DONE: " + notDone.subList(0, Math.min(3, notDone.size())), notDone.isEmpty());
        Waits.until("the peer's handler to see " + ids.size() + " distinct ids", Duration.ofSeconds(10),
                () -> peer.probe()[1] >= ids.size(), () -> Arrays.toString(peer.probe()));
        assertEquals("distinct ids at the peer's handler", ids.size(), peer.probe()[1]);
    }

    /**
     * The outbox holds rows before any router exists; the router comes up without the peer's
     * configuration (it refuses the target as unknown for a while) and the configuration is
     * applied late. The rows wait and are delivered; before the contract they died at the first
     * UNKNOWN_PEER.
     */
    @Test
    public void outboxStartedBeforeTheRouterAndThePeerConfiguredLateLosesNoRow() throws Exception {
        fastRetries();
        try (FrameworkNode node = new FrameworkNode(context);
                PeerProcess peer = startPeer(node, "order-late-peer")) {
            NodeId target = NodeId.of(peer.id);
            ServiceTracker<Outbox, Outbox> outboxes = new ServiceTracker<>(context, Outbox.class, null);
            outboxes.open();
            try {
                Bundle router = node.bundle(ROUTER_BUNDLE);
                router.stop();
                Outbox outbox = outbox(outboxes);
                List<String> ids = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    ids.add(outbox.enqueue(message(target, i)).messageId());
                }
                router.start(); // no peer configuration yet: the target is unknown to it
                Waits.until("the drain to be refused UNKNOWN_PEER by the router", LINK_WAIT,
                        () -> outbox.get(ids.get(0)).flatMap(OutboxMessage::lastError).map(e -> e.contains("UNKNOWN_PEER")).orElse(false),
                        () -> String.valueOf(outbox.get(ids.get(0))));
                assertTrue("refused, not dead", outbox.list(OutboxState.DEAD, 1).isEmpty());
                configurePeer(peer); // the configuration applied late
                node.awaitLink(target, LinkState.UP, LINK_WAIT);
                assertNoRowDiedAndAllArrived(outboxes, ids, peer);
            } finally {
                outboxes.close();
            }
        }
    }

    /**
     * Rows are pending when the router bundle starts with the peer configured: the router
     * registers before SCR has added the peer. The drain waits for the router's readiness; no row
     * dies (before the contract, rows refused as UNKNOWN_PEER in that window died).
     */
    @Test
    public void routerStartedAfterTheOutboxWithItsPeerConfiguredKillsNoRow() throws Exception {
        fastRetries();
        try (FrameworkNode node = new FrameworkNode(context);
                PeerProcess peer = startPeer(node, "order-ready-peer")) {
            NodeId target = NodeId.of(peer.id);
            configurePeer(peer);
            node.awaitLink(target, LinkState.UP, LINK_WAIT);
            ServiceTracker<Outbox, Outbox> outboxes = new ServiceTracker<>(context, Outbox.class, null);
            outboxes.open();
            try {
                Bundle router = node.bundle(ROUTER_BUNDLE);
                Bundle outboxBundle = node.bundle(OUTBOX_BUNDLE);
                List<String> ids = new ArrayList<>();
                for (int round = 0; round < 3; round++) {
                    router.stop();
                    if (round == 1) {
                        outboxBundle.stop(); // the outbox and the router start together
                        outboxBundle.start();
                    }
                    Outbox outbox = outbox(outboxes);
                    for (int i = 0; i < 50; i++) {
                        ids.add(outbox.enqueue(message(target, round * 100 + i)).messageId());
                    }
                    router.start();
                    if (round == 2) {
                        outboxBundle.stop(); // the outbox starts after the router and its configuration
                        outboxBundle.start();
                    }
                    node.awaitLink(target, LinkState.UP, LINK_WAIT);
                }
                assertNoRowDiedAndAllArrived(outboxes, ids, peer);
            } finally {
                outboxes.close();
            }
        }
    }

    /**
     * A producer enqueues without pause while the router and outbox bundles are stopped and
     * started in every order of two; whatever was accepted is delivered and nothing dies.
     */
    @Test
    public void bundlesStoppedAndStartedInEveryOrderUnderLoadKillNoRow() throws Exception {
        fastRetries();
        try (FrameworkNode node = new FrameworkNode(context);
                PeerProcess peer = startPeer(node, "order-load-peer")) {
            NodeId target = NodeId.of(peer.id);
            configurePeer(peer);
            node.awaitLink(target, LinkState.UP, LINK_WAIT);
            ServiceTracker<Outbox, Outbox> outboxes = new ServiceTracker<>(context, Outbox.class, null);
            outboxes.open();
            List<String> ids = Collections.synchronizedList(new ArrayList<>());
            AtomicBoolean producing = new AtomicBoolean(true);
            AtomicReference<Throwable> producerFailure = new AtomicReference<>();
            Thread producer = new Thread(() -> {
                int i = 0;
                try {
                    while (producing.get()) {
                        Outbox o = outboxes.getService();
                        if (o == null) {
                            o = outboxes.waitForService(100);
                            continue;
                        }
                        try {
                            ids.add(o.enqueue(message(target, i)).messageId());
                            i++;
                        } catch (MeshworkException e) {
                            if (!e.isRetryable()) {
                                throw e; // a configured peer must never be refused for good
                            }
                        }
                    }
                } catch (Throwable t) {
                    producerFailure.set(t);
                }
            }, "itest-order-producer");
            producer.start();
            try {
                Bundle router = node.bundle(ROUTER_BUNDLE);
                Bundle outboxBundle = node.bundle(OUTBOX_BUNDLE);
                List<List<Bundle>> orders = List.of(List.of(router, outboxBundle), List.of(outboxBundle, router));
                for (List<Bundle> stopOrder : orders) {
                    for (List<Bundle> startOrder : orders) {
                        int before = ids.size();
                        Waits.until("more enqueued under load", LINK_WAIT, () -> ids.size() > before + 50 || producerFailure.get() != null);
                        for (Bundle b : stopOrder) {
                            b.stop();
                        }
                        for (Bundle b : startOrder) {
                            b.start();
                        }
                        node.awaitLink(target, LinkState.UP, LINK_WAIT);
                    }
                }
                int before = ids.size();
                Waits.until("enqueues after the last restart", LINK_WAIT, () -> ids.size() > before + 50 || producerFailure.get() != null);
                producing.set(false);
                producer.join(10_000);
                assertNull("the producer failed: " + producerFailure.get(), producerFailure.get());
                System.out.println("start/stop orders under load: " + ids.size() + " enqueued");
                assertNoRowDiedAndAllArrived(outboxes, ids, peer);
            } finally {
                producing.set(false);
                outboxes.close();
            }
        }
    }
}
