package dev.meshwork.testkit;

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
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A minimal stand-in for the real Router over one loopback TCP socket, for the outbox's crash test
 * and benchmark, which need a link between two processes without the router bundle. Not a
 * transport: no auth, no reconnect, no relay; just frames
 * {@code (id, topic, payload)} one way and {@code (id, ok, retryable, error)} acks back.
 */
public final class LoopbackLink {

    private static final int MESSAGE = 1;
    private static final int ACK = 2;

    private LoopbackLink() {
    }

    static PeerInfo info(NodeId node, LinkState state) {
        return new PeerInfo(node, node.value(), state, Route.direct(java.net.URI.create("tcp://loopback")), List.of(), 0, 0,
                Optional.empty(), java.time.Instant.EPOCH, Optional.empty(), Map.of());
    }

    static Throwable unwrap(Throwable t) {
        while (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** The receiving end: accepts connections and hands each message to {@code handler}, acking on completion. */
    public static final class Server implements AutoCloseable {
        private final ServerSocket socket;
        private final NodeId peer;
        private final MessageHandler handler;
        private final Thread acceptor;

        public Server(NodeId peer, MessageHandler handler) throws IOException {
            this.socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            this.peer = peer;
            this.handler = handler;
            this.acceptor = new Thread(this::accept, "loopback-accept");
            this.acceptor.setDaemon(true);
            this.acceptor.start();
        }

        public int port() {
            return socket.getLocalPort();
        }

        private void accept() {
            while (!socket.isClosed()) {
                try {
                    Socket s = socket.accept();
                    s.setTcpNoDelay(true);
                    Thread t = new Thread(() -> serve(s), "loopback-serve");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket s) {
            try (s; DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
                    DataOutputStream out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream(), 1 << 16))) {
                boolean[] dirty = new boolean[1];
                Thread flusher = new Thread(() -> {
                    // Acks are flushed in the background, so many acks share one write.
                    while (!s.isClosed()) {
                        synchronized (out) {
                            try {
                                while (!dirty[0] && !s.isClosed()) {
                                    out.wait(50);
                                }
                                dirty[0] = false;
                                out.flush();
                            } catch (IOException | InterruptedException e) {
                                return;
                            }
                        }
                    }
                }, "loopback-ack-flush");
                flusher.setDaemon(true);
                flusher.start();
                while (true) {
                    if (in.readInt() != MESSAGE) {
                        return;
                    }
                    String id = in.readUTF();
                    String topic = in.readUTF();
                    byte[] payload = new byte[in.readInt()];
                    in.readFully(payload);
                    InboundMessage m = new InboundMessage(id, peer, topic, payload, Map.of(), Optional.empty(), Instant.now());
                    CompletableFuture<Void> done;
                    try {
                        done = handler.onMessage(m).toCompletableFuture();
                    } catch (Exception e) {
                        done = CompletableFuture.failedFuture(e);
                    }
                    done.whenComplete((v, e) -> {
                        Throwable c = e == null ? null : unwrap(e);
                        boolean retryable = !(c instanceof PermanentException);
                        synchronized (out) {
                            try {
                                out.writeInt(ACK);
                                out.writeUTF(id);
                                out.writeBoolean(c == null);
                                out.writeBoolean(retryable);
                                out.writeUTF(c == null ? "" : String.valueOf(c.getMessage()));
                                if (!dirty[0]) {
                                    dirty[0] = true;
                                    out.notifyAll();
                                }
                            } catch (IOException ignored) {
                                // the sender died; it will re-send after its restart
                            }
                        }
                    });
                }
            } catch (IOException e) {
                // connection closed (the child was killed)
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** The sending end: a {@link Router} whose only peer is at the other end of the socket. */
    public static final class ClientRouter implements Router, AutoCloseable {
        private final NodeId self;
        private final NodeId peer;
        private final Socket socket;
        private final DataOutputStream out;
        private final Map<String, CompletableFuture<DeliveryResult>> pending = new ConcurrentHashMap<>();
        private final ScheduledExecutorService timeouts = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "loopback-timeouts");
            t.setDaemon(true);
            return t;
        });

        public ClientRouter(NodeId self, NodeId peer, int port) throws IOException {
            this.self = self;
            this.peer = peer;
            this.socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setTcpNoDelay(true);
            this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1 << 16));
            Thread reader = new Thread(this::read, "loopback-read");
            reader.setDaemon(true);
            reader.start();
            Thread flusher = new Thread(this::flushLoop, "loopback-flush");
            flusher.setDaemon(true);
            flusher.start();
        }

        private volatile boolean dirty;

        /** Flushes written frames in the background, so many sends share one write. */
        private void flushLoop() {
            while (!socket.isClosed()) {
                synchronized (out) {
                    try {
                        while (!dirty && !socket.isClosed()) {
                            out.wait(50);
                        }
                        dirty = false;
                        out.flush();
                    } catch (IOException | InterruptedException e) {
                        return;
                    }
                }
            }
        }

        private void read() {
            try (DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream()))) {
                while (true) {
                    if (in.readInt() != ACK) {
                        throw new IOException("unexpected frame");
                    }
                    String id = in.readUTF();
                    boolean ok = in.readBoolean();
                    boolean retryable = in.readBoolean();
                    String error = in.readUTF();
                    CompletableFuture<DeliveryResult> f = pending.remove(id);
                    if (f == null) {
                        continue;
                    }
                    if (ok) {
                        f.complete(new DeliveryResult(id, peer, Route.direct(URI.create("tcp://loopback")), true, Duration.ZERO));
                    } else if (retryable) {
                        f.completeExceptionally(new RetryableException(FailureCode.HANDLER_FAILED, error));
                    } else {
                        f.completeExceptionally(new PermanentException(FailureCode.HANDLER_FAILED, error));
                    }
                }
            } catch (IOException e) {
                RetryableException reset = new RetryableException(FailureCode.CONNECTION_RESET, "loopback link closed");
                pending.values().forEach(f -> f.completeExceptionally(reset));
                pending.clear();
            }
        }

        @Override
        public NodeId localNode() {
            return self;
        }

        @Override
        public CompletableFuture<DeliveryResult> send(NodeId target, String topic, byte[] payload, SendOptions options) {
            if (!target.equals(peer)) {
                return CompletableFuture.failedFuture(new PermanentException(FailureCode.UNKNOWN_PEER, "unknown " + target));
            }
            String id = options.messageId().orElseThrow();
            CompletableFuture<DeliveryResult> f = new CompletableFuture<>();
            pending.put(id, f);
            synchronized (out) {
                try {
                    out.writeInt(MESSAGE);
                    out.writeUTF(id);
                    out.writeUTF(topic);
                    out.writeInt(payload.length);
                    out.write(payload);
                    if (!dirty) {
                        dirty = true;
                        out.notifyAll();
                    }
                } catch (IOException e) {
                    pending.remove(id);
                    return CompletableFuture.failedFuture(new RetryableException(FailureCode.CONNECTION_RESET, e.getMessage()));
                }
            }
            timeouts.schedule(() -> {
                if (pending.remove(id, f)) {
                    f.completeExceptionally(new RetryableException(FailureCode.TIMEOUT, "no ack"));
                }
            }, options.timeout().toMillis(), TimeUnit.MILLISECONDS);
            return f;
        }

        @Override
        public CompletableFuture<Void> deliverLocally(InboundMessage message) {
            return CompletableFuture.failedFuture(new PermanentException(FailureCode.UNKNOWN_TOPIC, "sender side has no handlers"));
        }

        @Override
        public void addPeer(PeerConfig p) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean removePeer(NodeId node) {
            return false;
        }

        @Override
        public List<PeerInfo> peers() {
            return List.of(info(peer, LinkState.UP));
        }

        @Override
        public Optional<PeerInfo> peer(NodeId node) {
            return node.equals(peer) ? Optional.of(info(peer, LinkState.UP)) : Optional.empty();
        }

        @Override
        public List<URI> listenUris() {
            return List.of();
        }

        @Override
        public WorkToken beginWork(NodeId p) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Map<String, Long> counters() {
            return Map.of();
        }

        @Override
        public void close() throws IOException {
            socket.close();
            timeouts.shutdownNow();
        }
    }
}
