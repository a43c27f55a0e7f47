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
import dev.meshwork.api.outbox.OutboxMessage;
import dev.meshwork.api.outbox.OutboxReceipt;
import dev.meshwork.api.outbox.OutboxRequest;
import dev.meshwork.api.outbox.OutboxState;
import dev.meshwork.api.outbox.OutboxStats;
import dev.meshwork.api.router.LinkState;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.inject.Inject;
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
    private static final int BATCH = 50;
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
                // half the messages before the restart, the rest while the transport is away and after;
                // in concurrent batches, so the outbox commits them together and a backlog builds up
                Thread producer = new Thread(() -> {
                    try {
                        for (int i = 0; i < MESSAGES; i += BATCH) {
                            if (i == MESSAGES / 2 && !transportDown.await(60, TimeUnit.SECONDS)) {
                                throw new AssertionError("the transport was never stopped");
                            }
                            List<CompletableFuture<OutboxReceipt>> batch = new ArrayList<>();
                            for (int j = i; j < i + BATCH; j++) {
                                batch.add(outbox.enqueueAsync(message(target, "ws", j)));
                            }
                            for (CompletableFuture<OutboxReceipt> receipt : batch) {
                                ids.add(receipt.join().messageId());
                            }
                        }
                    } catch (Throwable t) {
                        producerFailure.set(t);
                    }
                }, "itest-producer");
                producer.start();

                Bundle ws = node.bundle("dev.meshwork.transport.ws");
                awaitBacklog(outbox, ids, producerFailure);
                OutboxStats atStop = outbox.stats();
                ws.stop();
                node.awaitLink(target, LinkState.DOWN, LINK_WAIT);
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
                System.out.println("ws restart: when the transport stopped, " + atStop.count(OutboxState.INFLIGHT) + " in flight and "
                        + atStop.count(OutboxState.PENDING) + " pending;"
                        + " listening after the restart: " + node.router().listenUris() + " accepting="
                        + accepting(listen));

                assertDeliveredExactlyOnce(outboxes, ids, peer, true);
            } finally {
                outboxes.close();
                node.router().removePeer(target);
            }
        }
    }

    @Test
    public void restartingTheOutboxBundleUnderLoadLosesNoReturnedEnqueueAndDeliversNothingTwice() throws Exception {
        restartOutboxUnderLoad("outbox-restart-peer", false);
    }

    /**
     * Rows in flight when the outbox restarts are sent again under their message id while the
     * Router may still hold the first send of that id; the Router refuses the second as
     * IDEMPOTENCY_CONFLICT ("already being sent"), which the drainer takes as "ask again later",
     * so every row still ends DONE (it used to end DEAD: a delivered message shown as a dead letter).
     */
    @Test
    public void theOutboxRecordsEveryMessageInFlightAcrossItsRestartAsDone() throws Exception {
        restartOutboxUnderLoad("outbox-ledger-peer", true);
    }

    private void restartOutboxUnderLoad(String peerId, boolean checkLedger) throws Exception {
        try (FrameworkNode node = new FrameworkNode(context);
                PeerProcess peer = startPeer(node, peerId)) {
            NodeId target = NodeId.of(peer.id);
            ServiceTracker<Outbox, Outbox> outboxes = new ServiceTracker<>(context, Outbox.class, null);
            outboxes.open();
            try {
                assertNotNull("an Outbox service", outboxes.waitForService(20_000));
                List<String> ids = Collections.synchronizedList(new ArrayList<>());
                Map<String, Integer> failures = new ConcurrentHashMap<>();
                AtomicInteger absentSeen = new AtomicInteger();
                AtomicReference<Throwable> producerFailure = new AtomicReference<>();
                // Uses whichever Outbox is registered, racing the stop, in concurrent batches; an
                // enqueue that fails was not stored (the contract), so that message is enqueued again.
                Thread producer = new Thread(() -> {
                    try {
                        Deque<Integer> todo = new ArrayDeque<>();
                        for (int i = 0; i < MESSAGES; i++) {
                            todo.add(i);
                        }
                        while (!todo.isEmpty()) {
                            Outbox outbox = outboxes.getService();
                            if (outbox == null) {
                                absentSeen.incrementAndGet();
                                outbox = outboxes.waitForService(60_000);
                                if (outbox == null) {
                                    throw new AssertionError("no Outbox came back within 60 s");
                                }
                            }
                            Map<Integer, CompletableFuture<OutboxReceipt>> batch = new LinkedHashMap<>();
                            while (batch.size() < BATCH && !todo.isEmpty()) {
                                int seq = todo.poll();
                                try {
                                    batch.put(seq, outbox.enqueueAsync(message(target, "outbox", seq)));
                                } catch (MeshworkException e) {
                                    batch.put(seq, CompletableFuture.failedFuture(e));
                                }
                            }
                            for (Map.Entry<Integer, CompletableFuture<OutboxReceipt>> entry : batch.entrySet()) {
                                try {
                                    ids.add(entry.getValue().join().messageId());
                                } catch (CompletionException e) {
                                    if (!(e.getCause() instanceof MeshworkException m)) {
                                        throw e;
                                    }
                                    failures.merge(m.code() + (m.isRetryable() ? " (retryable)" : " (permanent)"), 1, Integer::sum);
                                    todo.addFirst(entry.getKey());
                                }
                            }
                        }
                    } catch (Throwable t) {
                        producerFailure.set(t);
                    }
                }, "itest-producer");

                Outbox before = outboxes.getService();
                producer.start();
                Bundle outboxBundle = node.bundle("dev.meshwork.outbox.sqlite");
                awaitBacklog(before, ids, producerFailure);
                OutboxStats atStop = before.stats();
                outboxBundle.stop();
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
                assertEquals("every enqueue returned a new id", MESSAGES, new HashSet<>(ids).size());
                System.out.println("outbox restart: when the outbox stopped, " + enqueuedAtStop + " enqueued, "
                        + atStop.count(OutboxState.INFLIGHT) + " in flight and " + atStop.count(OutboxState.PENDING)
                        + " pending; failed enqueues by code: " + failures);
                assertTrue("the producer was still enqueueing when the outbox stopped: " + enqueuedAtStop, enqueuedAtStop < MESSAGES);
                for (String code : failures.keySet()) {
                    assertTrue("an enqueue racing the stop failed with a typed SHUT_DOWN, not " + code,
                            code.equals("SHUT_DOWN (retryable)"));
                }

                // the stale enqueue above was not stored, so exactly the returned ids arrive
                assertDeliveredExactlyOnce(outboxes, ids, peer, checkLedger);
            } finally {
                outboxes.close();
                node.router().removePeer(target);
            }
        }
    }

    /**
     * When the transport-ws bundle restarts, its listeners close with it; the router listens on
     * its configured {@code listen} URLs again once the transport returns (it used not to, while
     * {@code Router.listenUris()} still reported them: a node that is only dialed stayed unreachable).
     */
    @Test
    public void theNodeListensAgainAfterTheTransportBundleRestarts() throws Exception {
        try (FrameworkNode node = new FrameworkNode(context)) {
            // a fresh router and listener: an earlier test of this class may have restarted the transport
            URI listen = node.listenOnNewFreePort();
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

    /**
     * Waits until a quarter of the messages are enqueued and some are in flight (sent, not yet
     * acknowledged), so the restart that follows interrupts deliveries; if the drain keeps up so
     * well that none is seen in flight, half enqueued will do (the figures are printed).
     */
    private static void awaitBacklog(Outbox outbox, java.util.Collection<String> ids, AtomicReference<Throwable> producerFailure) {
        Waits.until("a backlog in flight", DRAIN_WAIT, () -> producerFailure.get() != null || ids.size() >= MESSAGES / 2
                || (ids.size() >= MESSAGES / 4 && outbox.stats().count(OutboxState.INFLIGHT) > 0));
    }

    /**
     * Waits until the outbox has settled every message (nothing pending or in flight), then checks
     * the peer's handler saw each returned id exactly once and, with {@code checkLedger}, that the
     * outbox recorded each as DONE.
     */
    private static void assertDeliveredExactlyOnce(ServiceTracker<Outbox, Outbox> outboxes, List<String> ids, PeerProcess peer,
            boolean checkLedger) {
        Waits.until("the outbox to settle every message", DRAIN_WAIT, () -> {
            OutboxStats stats = outboxes.getService().stats();
            return stats.count(OutboxState.PENDING) == 0 && stats.count(OutboxState.INFLIGHT) == 0;
        }, () -> String.valueOf(outboxes.getService() == null ? "no outbox" : outboxes.getService().stats()));
        Outbox outbox = outboxes.getService();
        List<String> notDone = new ArrayList<>();
        for (String id : ids) {
            Optional<OutboxMessage> message = outbox.get(id);
            if (message.map(m -> m.state() != OutboxState.DONE).orElse(true)) {
                notDone.add(id + "=" + message.map(m -> m.state() + " after " + m.attempts() + " attempts: " + m.lastError().orElse(""))
                        .orElse("missing"));
            }
        }
        String outboxView = notDone.isEmpty() ? "every message DONE in the outbox"
                : notDone.size() + " not DONE in the outbox, e.g. " + notDone.subList(0, Math.min(3, notDone.size()));
        Waits.until("the peer's handler to see " + ids.size() + " distinct ids (" + outboxView + ")", Duration.ofSeconds(10),
                () -> peer.probe()[1] >= ids.size(), () -> Arrays.toString(peer.probe()));
        long[] probe = peer.probe();
        assertEquals("distinct ids received by the peer's handler", ids.size(), probe[1]);
        assertEquals("deliveries to the peer's handler (a duplicate would make it larger)", ids.size(), probe[0]);
        if (checkLedger) {
            assertTrue(outboxView, notDone.isEmpty());
        } else {
            System.out.println("outbox ledger: " + outboxView);
        }
    }
}
