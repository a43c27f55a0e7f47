package dev.meshwork.outbox.sqlite.internal;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.RetryableException;
import dev.meshwork.api.router.DeliveryResult;
import dev.meshwork.api.router.InboundMessage;
import dev.meshwork.api.router.LinkState;
import dev.meshwork.api.router.MessageHandler;
import dev.meshwork.api.router.PeerConfig;
import dev.meshwork.api.router.PeerInfo;
import dev.meshwork.api.router.Route;
import dev.meshwork.api.router.Router;
import dev.meshwork.api.router.SendOptions;
import dev.meshwork.api.router.WorkToken;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * An in-memory stand-in for the {@link Router}, for tests only: the real router is another
 * bundle. It connects any number of nodes in one JVM and can fail, hold, lose acks and
 * duplicate deliveries per target, so the drain and the inbox can be tested against every
 * outcome a real link produces.
 */
final class InMemoryMesh implements AutoCloseable {

    /** What happens to sends to one target. */
    static final class Faults {
        /** Fails sends with this (retryable or permanent) while non-null. */
        volatile Function<String, RuntimeException> failWith;
        /** Fails this many sends, then succeeds. */
        final AtomicInteger failNext = new AtomicInteger();
        /** Never completes sends (a black hole) while true. */
        volatile boolean hold;
        /** Delivers, but the send fails with TIMEOUT as if the ack were lost, this many times. */
        final AtomicInteger loseAcks = new AtomicInteger();
        /** Delivers every message twice (a duplicated frame). */
        volatile boolean duplicate;
        final List<CompletableFuture<DeliveryResult>> held = new CopyOnWriteArrayList<>();
    }

    private final Map<NodeId, Map<String, List<MessageHandler>>> handlers = new ConcurrentHashMap<>();
    private final Map<NodeId, Faults> faults = new ConcurrentHashMap<>();
    private final ExecutorService network = Executors.newFixedThreadPool(4, r -> {
        Thread t = new Thread(r, "in-memory-mesh");
        t.setDaemon(true);
        return t;
    });
    final AtomicLong sends = new AtomicLong();
    /** Per node, what its router answers to {@link Router#isReady()} (ready when absent). */
    final Map<NodeId, BooleanSupplier> readiness = new ConcurrentHashMap<>();

    /** Adds a node; returns its router. */
    Router node(NodeId id) {
        handlers.computeIfAbsent(id, k -> new ConcurrentHashMap<>());
        return new NodeRouter(id);
    }

    void register(NodeId node, String topic, MessageHandler h) {
        handlers.computeIfAbsent(node, k -> new ConcurrentHashMap<>()).computeIfAbsent(topic, k -> new CopyOnWriteArrayList<>()).add(h);
    }

    /** Drops every handler of {@code topic} at {@code node} (its process died). */
    void unregister(NodeId node, String topic) {
        handlers.getOrDefault(node, Map.of()).remove(topic);
    }

    Faults faults(NodeId target) {
        return faults.computeIfAbsent(target, k -> new Faults());
    }

    static PeerInfo info(NodeId node, LinkState state) {
        return new PeerInfo(node, node.value(), state, Route.direct(URI.create("mem://" + node)), List.of(), 0, 0,
                Optional.empty(), Instant.EPOCH, Optional.empty(), Map.of());
    }

    private CompletableFuture<Void> deliver(NodeId node, InboundMessage m) {
        List<MessageHandler> hs = handlers.getOrDefault(node, Map.of()).getOrDefault(m.topic(), List.of());
        if (hs.isEmpty()) {
            return CompletableFuture.failedFuture(new PermanentException(FailureCode.UNKNOWN_TOPIC, "no handler for " + m.topic() + " at " + node));
        }
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (MessageHandler h : hs) {
            try {
                all.add(h.onMessage(m).toCompletableFuture());
            } catch (Exception e) {
                all.add(CompletableFuture.failedFuture(e));
            }
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
    }

    @Override
    public void close() {
        network.shutdownNow();
    }

    private final class NodeRouter implements Router {
        private final NodeId self;

        NodeRouter(NodeId self) {
            this.self = self;
        }

        @Override
        public NodeId localNode() {
            return self;
        }

        @Override
        public CompletableFuture<DeliveryResult> send(NodeId target, String topic, byte[] payload, SendOptions options) {
            sends.incrementAndGet();
            String id = options.messageId().orElseGet(() -> UUID.randomUUID().toString());
            Faults f = faults(target);
            CompletableFuture<DeliveryResult> result = new CompletableFuture<>();
            if (!handlers.containsKey(target)) {
                return CompletableFuture.failedFuture(new PermanentException(FailureCode.UNKNOWN_PEER, "unknown " + target));
            }
            if (f.hold) {
                f.held.add(result);
                return result;
            }
            Function<String, RuntimeException> failure = f.failWith;
            if (failure != null) {
                return CompletableFuture.failedFuture(failure.apply(id));
            }
            if (f.failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                return CompletableFuture.failedFuture(new RetryableException(FailureCode.UNREACHABLE_PEER, "injected failure"));
            }
            boolean loseAck = f.loseAcks.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
            int copies = f.duplicate ? 2 : 1;
            network.execute(() -> {
                List<CompletableFuture<Void>> done = new ArrayList<>();
                for (int i = 0; i < copies; i++) {
                    InboundMessage m = new InboundMessage(id, self, topic, payload, options.headers(), Optional.empty(), Instant.now());
                    done.add(deliver(target, m));
                }
                CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> {
                    if (loseAck) {
                        result.completeExceptionally(new RetryableException(FailureCode.TIMEOUT, "ack lost"));
                    } else if (e != null) {
                        Throwable c = OutboxService.unwrap(e);
                        result.completeExceptionally(c instanceof PermanentException pe && pe.code() == FailureCode.UNKNOWN_TOPIC ? pe
                                : new RetryableException(FailureCode.HANDLER_FAILED, String.valueOf(c.getMessage())));
                    } else {
                        result.complete(new DeliveryResult(id, target, Route.direct(URI.create("mem://" + target)), true, Duration.ZERO));
                    }
                });
            });
            return result;
        }

        @Override
        public boolean isReady() {
            return readiness.getOrDefault(self, () -> true).getAsBoolean();
        }

        @Override
        public CompletableFuture<Void> deliverLocally(InboundMessage message) {
            return deliver(self, message);
        }

        @Override
        public void addPeer(PeerConfig peer) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean removePeer(NodeId node) {
            return handlers.remove(node) != null;
        }

        @Override
        public List<PeerInfo> peers() {
            return handlers.keySet().stream().filter(n -> !n.equals(self)).map(n -> info(n, LinkState.UP)).toList();
        }

        @Override
        public Optional<PeerInfo> peer(NodeId node) {
            return handlers.containsKey(node) && !node.equals(self) ? Optional.of(info(node, LinkState.UP)) : Optional.empty();
        }

        @Override
        public List<URI> listenUris() {
            return List.of();
        }

        @Override
        public WorkToken beginWork(NodeId peer) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Map<String, Long> counters() {
            return Map.of("sends", sends.get());
        }
    }
}
