package dev.meshwork.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.MeshworkException;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.RetryableException;
import dev.meshwork.api.outbox.Outbox;
import dev.meshwork.api.outbox.OutboxRequest;
import dev.meshwork.api.outbox.OutboxState;
import dev.meshwork.api.outbox.OutboxStats;
import dev.meshwork.api.router.LinkState;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.inject.Inject;
import org.junit.Ignore;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.util.tracker.ServiceTracker;

/**
 * Bundles stopped and started under load: while a producer enqueues durable messages to a peer
 * node (a separate process), the transport-ws bundle, and in another test the outbox bundle, is
 * stopped and started again. The services rebind, and the peer's handler receives every enqueued
 * message exactly once: it counts deliveries and distinct ids, so a duplicate delivery shows.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class DynamicsUnderLoadTest {

    /** The peer's console handler: counts deliveries and distinct message ids. */
    private static final String PROBE_TOPIC = "meshwork.console.probe";
    private static final int MESSAGES = 2_000;
    private static final Duration LINK_WAIT = Duration.ofSeconds(30);
    private static final Duration DRAIN_WAIT = Duration.ofSeconds(90);

    @Inject
    private BundleContext context;

    @Configuration
    public Option[] config() {
        return MeshworkRuntime.options(name -> true);
    }

    /** The peer process, configured with the framework node as its peer and linked to it. */
    private PeerProcess startPeer(FrameworkNode node, String id) throws Exception {
        URI listen = node.listenOnFreePort();
        PeerProcess peer = new PeerProcess(id);
        try {
            peer.start(List.of(), node.identity().nodeId().value(), listen, node.identity().publicKeyBase64());
            node.router().addPeer(new dev.meshwork.api.router.PeerConfig(NodeId.of(id), id, List.of(peer.wsUrl()),
                    Optional.of(peer.publicKey())));
            node.awaitLink(NodeId.of(id), LinkState.UP, LINK_WAIT);
            return peer;
        } catch (Exception | AssertionError e) {
            peer.close();
            throw e;
        }
    }

    private static OutboxRequest message(NodeId target, String run, int i) {
        return OutboxRequest.of(target, PROBE_TOPIC, (run + " #" + i).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    public void restartingTheWebSocketTransportUnderLoadLosesNothingAndDeliversNothingTwice() throws Exception {
        try (FrameworkNode node = new FrameworkNode(context);
                PeerProcess peer = startPeer(node, "ws-restart-peer")) {
            NodeId target = NodeId.of(peer.id);
            URI listen = node.listenOnFreePort();
            ServiceTracker<Outbox, Outbox> outboxes = new ServiceTracker<>(context, Outbox.class, null);
            outboxes.open();
            try {
                Outbox outbox = outboxes.waitForService(20_000);
                assertNotNull("an Outbox service", outbox);
                List<String> ids = Collections.synchronizedList(new ArrayList<>());
                CountDownLatch transportDown = new CountDownLatch(1);
                AtomicReference<Throwable> producerFailure = new AtomicReference<>();
                // half the messages before the restart, the rest while the transport is away and after
                Thread producer = new Thread(() -> {
                    try {
                        for (int i = 0; i < MESSAGES; i++) {
                            if (i == MESSAGES / 2 && !transportDown.await(60, TimeUnit.SECONDS)) {
                                throw new AssertionError("the transport was never stopped");
                            }
                            ids.add(outbox.enqueue(message(target, "ws", i)).messageId());
                        }
                    } catch (Throwable t) {
                        producerFailure.set(t);
                    }
                }, "itest-producer");
                producer.start();

                Bundle ws = node.bundle("dev.meshwork.transport.ws");
                Waits.until("half the messages enqueued", DRAIN_WAIT, () -> ids.size() >= MESSAGES / 2 || producerFailure.get() != null);
                ws.stop();
                node.awaitLink(target, LinkState.DOWN, LINK_WAIT);
                long[] atStop = peer.probe();
                transportDown.countDown();
                Waits.until("three quarters enqueued while the transport is stopped", DRAIN_WAIT,
                        () -> ids.size() >= MESSAGES * 3 / 4 || producerFailure.get() != null);
                assertEquals("the link stays down while no transport serves ws", LinkState.DOWN, node.linkState(target));
                ws.start();
                node.awaitLink(target, LinkState.UP, LINK_WAIT);
                producer.join(TimeUnit.SECONDS.toMillis(60));
                assertNull("the producer failed: " + producerFailure.get(), producerFailure.get());
                assertEquals(MESSAGES, ids.size());
                assertEquals("every enqueue returned a new id", MESSAGES, new HashSet<>(ids).size());
                System.out.println("ws restart: " + atStop[0] + " of " + MESSAGES + " delivered when the transport stopped;"
                        + " listening after the restart: " + node.router().listenUris() + " accepting="
                        + accepting(listen));

                awaitAllAcknowledged(outboxes, ids);
                long[] probe = peer.probe();
                assertEquals("distinct ids received by the peer's handler", MESSAGES, probe[1]);
                assertEquals("deliveries to the peer's handler (a duplicate would make it larger)", MESSAGES, probe[0]);
            } finally {
                outboxes.close();
                node.router().removePeer(target);
            }
        }
    }

    @Test
    public void restartingTheOutboxBundleUnderLoadLosesNoReturnedEnqueueAndDeliversNothingTwice() throws Exception {
        try (FrameworkNode node = new FrameworkNode(context);
                PeerProcess peer = startPeer(node, "outbox-restart-peer")) {
            NodeId target = NodeId.of(peer.id);
            ServiceTracker<Outbox, Outbox> outboxes = new ServiceTracker<>(context, Outbox.class, null);
            outboxes.open();
            try {
                assertNotNull("an Outbox service", outboxes.waitForService(20_000));
                Set<String> ids = ConcurrentHashMap.newKeySet();
                Map<String, Integer> failures = new ConcurrentHashMap<>();
                AtomicInteger absentSeen = new AtomicInteger();
                AtomicReference<Throwable> producerFailure = new AtomicReference<>();
                // Uses whichever Outbox is registered, racing the stop; an enqueue that fails was
                // not stored (the contract), so the message is enqueued again on the next service.
                Thread producer = new Thread(() -> {
                    try {
                        int i = 0;
                        while (i < MESSAGES) {
                            Outbox outbox = outboxes.getService();
                            if (outbox == null) {
                                absentSeen.incrementAndGet();
                                outbox = outboxes.waitForService(60_000);
                                if (outbox == null) {
                                    throw new AssertionError("no Outbox came back within 60 s");
                                }
                            }
                            try {
                                ids.add(outbox.enqueue(message(target, "outbox", i)).messageId());
                                i++;
                            } catch (MeshworkException e) {
                                failures.merge(e.code() + (e.isRetryable() ? " (retryable)" : " (permanent)"), 1, Integer::sum);
                            }
                        }
                    } catch (Throwable t) {
                        producerFailure.set(t);
                    }
                }, "itest-producer");

                Outbox before = outboxes.getService();
                producer.start();
                Bundle outboxBundle = node.bundle("dev.meshwork.outbox.sqlite");
                Waits.until("a quarter of the messages enqueued", DRAIN_WAIT,
                        () -> ids.size() >= MESSAGES / 4 || producerFailure.get() != null);
                outboxBundle.stop();
                long[] atStop = peer.probe();
                int enqueuedAtStop = ids.size();
                assertNull("no Outbox service while its bundle is stopped", outboxes.getService());
                // an enqueue on the service object kept from before the stop: a clear, typed failure
                try {
                    before.enqueue(message(target, "stale", 0));
                    fail("an enqueue on the stopped outbox returned");
                } catch (RetryableException e) {
                    assertEquals(FailureCode.SHUT_DOWN, e.code());
                }
                Waits.until("the producer to find the outbox gone", DRAIN_WAIT,
                        () -> absentSeen.get() > 0 || producerFailure.get() != null);
                outboxBundle.start();
                assertNotNull("the Outbox service is back", outboxes.waitForService(20_000));
                producer.join(TimeUnit.SECONDS.toMillis(60));
                assertNull("the producer failed: " + producerFailure.get(), producerFailure.get());
                assertEquals(MESSAGES, ids.size());
                System.out.println("outbox restart: " + enqueuedAtStop + " enqueued and " + atStop[0] + " delivered when the outbox"
                        + " stopped; failed enqueues by code: " + failures);
                assertTrue("the producer was still enqueueing when the outbox stopped: " + enqueuedAtStop, enqueuedAtStop < MESSAGES);
                for (String code : failures.keySet()) {
                    assertTrue("an enqueue racing the stop failed with a typed SHUT_DOWN, not " + code,
                            code.equals("SHUT_DOWN (retryable)"));
                }

                awaitAllAcknowledged(outboxes, ids);
                long[] probe = peer.probe();
                // the stale enqueue above was not stored, so exactly the returned ids arrive
                assertEquals("distinct ids received by the peer's handler", MESSAGES, probe[1]);
                assertEquals("deliveries to the peer's handler (a duplicate would make it larger)", MESSAGES, probe[0]);
            } finally {
                outboxes.close();
                node.router().removePeer(target);
            }
        }
    }

    /**
     * Product bug (transport-multichannel, {@code MeshRouter.removeTransport}/{@code addTransport}):
     * when the transport-ws bundle restarts, the router does not listen again on its configured
     * {@code listen} URLs, while {@code Router.listenUris()} still reports them. The test above
     * passes because the framework node dials its peer; a node that is only dialed stays
     * unreachable until the router component restarts. Remove {@code @Ignore} once fixed.
     */
    @Ignore("product bug: the router does not listen again after the transport-ws bundle restarts")
    @Test
    public void theNodeListensAgainAfterTheTransportBundleRestarts() throws Exception {
        try (FrameworkNode node = new FrameworkNode(context)) {
            URI listen = node.listenOnFreePort();
            assertTrue("accepting before the restart", accepting(listen));
            Bundle ws = node.bundle("dev.meshwork.transport.ws");
            ws.stop();
            ws.start();
            Waits.until("the node to accept connections on " + listen + " again", Duration.ofSeconds(10),
                    () -> accepting(listen), () -> "listenUris=" + node.router().listenUris());
        }
    }

    private static boolean accepting(URI url) {
        try (java.net.Socket socket = new java.net.Socket()) {
            socket.connect(new java.net.InetSocketAddress(url.getHost(), url.getPort()), 1000);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** Waits until the outbox holds nothing pending or in flight, then checks each id is DONE. */
    private static void awaitAllAcknowledged(ServiceTracker<Outbox, Outbox> outboxes, java.util.Collection<String> ids) {
        Waits.until("the outbox to drain", DRAIN_WAIT, () -> {
            OutboxStats stats = outboxes.getService().stats();
            return stats.count(OutboxState.PENDING) == 0 && stats.count(OutboxState.INFLIGHT) == 0;
        }, () -> String.valueOf(outboxes.getService() == null ? "no outbox" : outboxes.getService().stats()));
        Outbox outbox = outboxes.getService();
        List<String> notDone = new ArrayList<>();
        for (String id : List.copyOf(ids)) {
            OutboxState state = outbox.get(id).map(m -> m.state()).orElse(null);
            if (state != OutboxState.DONE) {
                notDone.add(id + "=" + state);
            }
        }
        assertTrue("every enqueued message acknowledged: " + notDone.subList(0, Math.min(10, notDone.size())), notDone.isEmpty());
    }
}
