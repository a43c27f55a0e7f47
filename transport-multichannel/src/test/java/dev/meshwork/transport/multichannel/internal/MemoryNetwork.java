package dev.meshwork.transport.multichannel.internal;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.MeshworkException;
import dev.meshwork.api.RetryableException;
import dev.meshwork.api.transport.CloseReason;
import dev.meshwork.api.transport.Connection;
import dev.meshwork.api.transport.ConnectionAcceptor;
import dev.meshwork.api.transport.ConnectionHandler;
import dev.meshwork.api.transport.ConnectionStats;
import dev.meshwork.api.transport.DialOptions;
import dev.meshwork.api.transport.Transport;
import dev.meshwork.api.transport.TransportListener;
import dev.meshwork.api.wire.Frame;
import dev.meshwork.testkit.ManualTime;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-memory stand-in for a real transport, driven by {@link ManualTime}: frames are delivered
 * by the clock after a per-URL one-way delay, and a test can close, reset, black-hole (stop
 * forwarding silently, both ways) a connection or make dials fail or hang.
 */
final class MemoryNetwork {

    final ManualTime time;
    private final Map<URI, ConnectionAcceptor> listeners = new ConcurrentHashMap<>();
    private final Map<URI, Duration> delays = new ConcurrentHashMap<>();
    private final Map<URI, MeshworkException> dialFailures = new ConcurrentHashMap<>();
    private final Map<URI, Boolean> hangingDials = new ConcurrentHashMap<>();
    final List<End> ends = new CopyOnWriteArrayList<>();
    final List<URI> dialLog = new CopyOnWriteArrayList<>();
    final List<Long> dialTimes = new CopyOnWriteArrayList<>();
    private final AtomicInteger ids = new AtomicInteger();

    MemoryNetwork(ManualTime time) {
        this.time = time;
    }

    void delay(URI uri, Duration oneWay) {
        delays.put(uri, oneWay);
    }

    void failDials(URI uri, MeshworkException failure) {
        if (failure == null) {
            dialFailures.remove(uri);
        } else {
            dialFailures.put(uri, failure);
        }
    }

    void hangDials(URI uri) {
        hangingDials.put(uri, true);
    }

    /** The dialer-side ends of live connections to {@code uri}. */
    List<End> dialed(URI uri) {
        return ends.stream().filter(e -> e.uri.equals(uri) && !e.inbound && e.open).toList();
    }

    Transport transport() {
        return new Transport() {
            @Override
            public CompletableFuture<Connection> dial(URI uri, DialOptions options, ConnectionHandler handler) {
                dialLog.add(uri);
                dialTimes.add(time.nanoTime());
                CompletableFuture<Connection> f = new CompletableFuture<>();
                if (hangingDials.containsKey(uri)) {
                    return f;
                }
                time.execute(() -> {
                    MeshworkException failure = dialFailures.get(uri);
                    ConnectionAcceptor acceptor = listeners.get(uri);
                    if (failure != null) {
                        f.completeExceptionally(failure);
                        return;
                    }
                    if (acceptor == null) {
                        f.completeExceptionally(new RetryableException(FailureCode.CONNECTION_REFUSED, "refused: " + uri));
                        return;
                    }
                    End client = new End(uri, false);
                    End server = new End(uri, true);
                    client.peer = server;
                    server.peer = client;
                    client.handler = handler;
                    ConnectionHandler h = acceptor.accept(server);
                    if (h == null) {
                        f.completeExceptionally(new RetryableException(FailureCode.CONNECTION_RESET, "not accepted"));
                        return;
                    }
                    server.handler = h;
                    ends.add(client);
                    ends.add(server);
                    f.complete(client);
                });
                return f;
            }

            @Override
            public CompletableFuture<TransportListener> listen(URI uri, ConnectionAcceptor acceptor) {
                listeners.put(uri, acceptor);
                return CompletableFuture.completedFuture(new TransportListener() {
                    @Override
                    public URI uri() {
                        return uri;
                    }

                    @Override
                    public CompletableFuture<Void> closeAsync() {
                        listeners.remove(uri);
                        return CompletableFuture.completedFuture(null);
                    }

                    @Override
                    public void close() {
                        closeAsync();
                    }
                });
            }
        };
    }

    /** One end of an in-memory connection. */
    final class End implements Connection {
        final String id = "mem-" + ids.incrementAndGet();
        final URI uri;
        final boolean inbound;
        End peer;
        ConnectionHandler handler;
        volatile boolean open = true;
        volatile boolean blackholed;
        /** Set once onClosed ran: frames written before the close are still delivered, like a socket flushing. */
        volatile boolean notified;
        final AtomicInteger framesIn = new AtomicInteger();
        final AtomicInteger framesOut = new AtomicInteger();
        private long lastDeliveryAt = Long.MIN_VALUE;
        /** What arrived, decoded for the tests to look at (bytes that are no frame are left out). */
        final List<Frame> received = new CopyOnWriteArrayList<>();
        final CompletableFuture<CloseReason> closed = new CompletableFuture<>();

        End(URI uri, boolean inbound) {
            this.uri = uri;
            this.inbound = inbound;
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public URI uri() {
            return uri;
        }

        @Override
        public boolean isInbound() {
            return inbound;
        }

        @Override
        public InetSocketAddress remoteAddress() {
            return InetSocketAddress.createUnresolved("memory", 1);
        }

        @Override
        public InetSocketAddress localAddress() {
            return InetSocketAddress.createUnresolved("memory", 2);
        }

        @Override
        public CompletableFuture<Void> send(byte[] message) {
            if (!open) {
                return CompletableFuture.failedFuture(new RetryableException(FailureCode.CLOSED, "closed"));
            }
            framesOut.incrementAndGet();
            if (blackholed || peer.blackholed) {
                return CompletableFuture.completedFuture(null);
            }
            // in order, as over a real stream: a shorter delay never overtakes an earlier message
            // (the secure channel's nonces would rightly refuse it)
            long now = time.nanoTime();
            long at = Math.max(now + delays.getOrDefault(uri, Duration.ZERO).toNanos(), lastDeliveryAt);
            lastDeliveryAt = at;
            long d = at - now;
            time.schedule(() -> {
                if (!peer.notified && !blackholed && !peer.blackholed) {
                    peer.framesIn.incrementAndGet();
                    peekFrame(message).ifPresent(peer.received::add);
                    peer.handler.onMessage(peer, message);
                }
            }, d, TimeUnit.NANOSECONDS);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public boolean isWritable() {
            return open;
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public Optional<Duration> rtt() {
            return Optional.empty();
        }

        @Override
        public ConnectionStats stats() {
            return new ConnectionStats(framesIn.get(), framesOut.get(), framesIn.get() * 10L, framesOut.get() * 10L);
        }

        @Override
        public CompletableFuture<CloseReason> close(int code, String reason) {
            terminate(CloseReason.normal(code, reason, false), CloseReason.normal(code, reason, true));
            return closed;
        }

        /** Both sides see an abrupt reset (no close frame). */
        void reset() {
            terminate(CloseReason.error("reset", null), CloseReason.error("reset", null));
        }

        /** Stops forwarding silently both ways: no FIN, no RST. */
        void blackhole() {
            blackholed = true;
        }

        private void terminate(CloseReason mine, CloseReason theirs) {
            if (!open) {
                return;
            }
            open = false;
            closed.complete(mine);
            time.execute(() -> {
                notified = true;
                handler.onClosed(this, mine);
            });
            if (peer.open && !blackholed) {
                peer.open = false;
                peer.closed.complete(theirs);
                time.execute(() -> {
                    peer.notified = true;
                    peer.handler.onClosed(peer, theirs);
                });
            }
        }

        @Override
        public CompletableFuture<CloseReason> closeFuture() {
            return closed;
        }
    }

    /** The frame in {@code message}, for tests to look at; empty when the bytes are no frame. */
    static Optional<Frame> peekFrame(byte[] message) {
        try {
            return Optional.of(Frame.parseFrom(message));
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            return Optional.empty();
        }
    }

    static List<URI> uris(String... s) {
        List<URI> l = new ArrayList<>();
        for (String x : s) {
            l.add(URI.create(x));
        }
        return l;
    }
}
