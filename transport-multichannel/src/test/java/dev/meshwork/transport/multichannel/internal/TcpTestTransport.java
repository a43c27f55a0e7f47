package dev.meshwork.transport.multichannel.internal;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.PermanentException;
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
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A minimal real-socket transport for component tests (scheme {@code tcp}): length-prefixed
 * protobuf frames over plain JDK sockets, a reader thread and a writer thread per connection.
 * Stands in for the WebSocket transport, which is written elsewhere. A connection can be
 * black-holed: it keeps its socket but silently stops forwarding both ways.
 */
public final class TcpTestTransport implements Transport {

    private static final AtomicInteger IDS = new AtomicInteger();
    final List<TcpConnection> connections = new CopyOnWriteArrayList<>();
    private final List<ServerSocket> servers = new CopyOnWriteArrayList<>();

    @Override
    public CompletableFuture<Connection> dial(URI uri, DialOptions options, ConnectionHandler handler) {
        CompletableFuture<Connection> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                Socket s = new Socket();
                s.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), (int) options.connectTimeout().toMillis());
                TcpConnection c = new TcpConnection(s, uri, false);
                c.handler = handler;
                connections.add(c);
                f.complete(c);
                c.startReading();
            } catch (ConnectException e) {
                f.completeExceptionally(new RetryableException(FailureCode.CONNECTION_REFUSED, uri + ": " + e.getMessage(), e));
            } catch (IOException e) {
                f.completeExceptionally(new RetryableException(FailureCode.UNREACHABLE, uri + ": " + e.getMessage(), e));
            }
        }, "tcp-dial");
        t.setDaemon(true);
        t.start();
        return f;
    }

    @Override
    public CompletableFuture<TransportListener> listen(URI uri, ConnectionAcceptor acceptor) {
        ServerSocket server;
        try {
            server = new ServerSocket();
            server.bind(new InetSocketAddress(uri.getHost(), uri.getPort()));
        } catch (IOException e) {
            return CompletableFuture.failedFuture(new PermanentException(FailureCode.UNREACHABLE,
                    "cannot listen on " + uri + ": " + e.getMessage(), e));
        }
        servers.add(server);
        URI bound = URI.create("tcp://" + uri.getHost() + ":" + server.getLocalPort() + uri.getPath());
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    TcpConnection c = new TcpConnection(s, bound, true);
                    connections.add(c);
                    ConnectionHandler h = acceptor.accept(c);
                    if (h == null) {
                        c.close(CloseReason.POLICY_VIOLATION, "not accepted");
                        continue;
                    }
                    c.handler = h;
                    c.startReading();
                } catch (IOException e) {
                    return;
                }
            }
        }, "tcp-accept");
        t.setDaemon(true);
        t.start();
        return CompletableFuture.completedFuture(new TransportListener() {
            @Override
            public URI uri() {
                return bound;
            }

            @Override
            public CompletableFuture<Void> closeAsync() {
                try {
                    server.close();
                } catch (IOException e) {
                    // closing anyway
                }
                connections.stream().filter(c -> c.inbound && c.uri.equals(bound)).forEach(c -> c.close(1001, "listener closed"));
                return CompletableFuture.completedFuture(null);
            }

            @Override
            public void close() {
                closeAsync();
            }
        });
    }

    public void shutdown() {
        servers.forEach(s -> {
            try {
                s.close();
            } catch (IOException e) {
                // test teardown
            }
        });
        connections.forEach(c -> c.close(1001, "shutdown"));
    }

    /** One socket. */
    final class TcpConnection implements Connection {
        final String id = "tcp-" + IDS.incrementAndGet();
        final Socket socket;
        final URI uri;
        final boolean inbound;
        volatile ConnectionHandler handler;
        volatile boolean blackholed;
        private final DataOutputStream out;
        private final DataInputStream in;
        private final ExecutorService writer;
        private final AtomicBoolean closedOnce = new AtomicBoolean();
        private final CompletableFuture<CloseReason> closed = new CompletableFuture<>();
        private final AtomicLong framesIn = new AtomicLong();
        private final AtomicLong framesOut = new AtomicLong();
        private final AtomicLong bytesIn = new AtomicLong();
        private final AtomicLong bytesOut = new AtomicLong();

        TcpConnection(Socket socket, URI uri, boolean inbound) throws IOException {
            this.socket = socket;
            this.uri = uri;
            this.inbound = inbound;
            socket.setTcpNoDelay(true);
            this.out = new DataOutputStream(new java.io.BufferedOutputStream(socket.getOutputStream()));
            this.in = new DataInputStream(new java.io.BufferedInputStream(socket.getInputStream()));
            this.writer = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, id + "-writer");
                t.setDaemon(true);
                return t;
            });
        }

        void startReading() {
            Thread t = new Thread(() -> {
                try {
                    while (true) {
                        int len = in.readInt();
                        if (len < 0 || len > (2 << 20)) {
                            terminate(new CloseReason(CloseReason.Kind.TOO_BIG, CloseReason.MESSAGE_TOO_BIG, "frame " + len,
                                    false, Optional.empty()));
                            return;
                        }
                        byte[] b = new byte[len];
                        in.readFully(b);
                        if (blackholed) {
                            continue;
                        }
                        framesIn.incrementAndGet();
                        bytesIn.addAndGet(len + 4);
                        handler.onMessage(this, b);
                    }
                } catch (IOException e) {
                    terminate(CloseReason.error("socket: " + e.getMessage(), e));
                }
            }, id + "-reader");
            t.setDaemon(true);
            t.start();
        }

        void blackhole() {
            blackholed = true;
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
            return (InetSocketAddress) socket.getRemoteSocketAddress();
        }

        @Override
        public InetSocketAddress localAddress() {
            return (InetSocketAddress) socket.getLocalSocketAddress();
        }

        @Override
        public CompletableFuture<Void> send(byte[] message) {
            if (closedOnce.get()) {
                return CompletableFuture.failedFuture(new RetryableException(FailureCode.CLOSED, "closed"));
            }
            CompletableFuture<Void> f = new CompletableFuture<>();
            byte[] b = message;
            try {
                writer.execute(() -> {
                    if (blackholed) {
                        f.complete(null);
                        return;
                    }
                    try {
                        out.writeInt(b.length);
                        out.write(b);
                        out.flush();
                        framesOut.incrementAndGet();
                        bytesOut.addAndGet(b.length + 4);
                        f.complete(null);
                    } catch (IOException e) {
                        f.completeExceptionally(new RetryableException(FailureCode.CLOSED, e.getMessage(), e));
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                f.completeExceptionally(new RetryableException(FailureCode.CLOSED, "closed"));
            }
            return f;
        }

        @Override
        public boolean isWritable() {
            return !closedOnce.get();
        }

        @Override
        public boolean isOpen() {
            return !closedOnce.get();
        }

        @Override
        public Optional<Duration> rtt() {
            return Optional.empty();
        }

        @Override
        public ConnectionStats stats() {
            return new ConnectionStats(framesIn.get(), framesOut.get(), bytesIn.get(), bytesOut.get());
        }

        @Override
        public CompletableFuture<CloseReason> close(int code, String reason) {
            // let frames already queued (a Goodbye) go out first
            try {
                writer.execute(() -> terminate(CloseReason.normal(code, reason, false)));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                terminate(CloseReason.normal(code, reason, false));
            }
            return closed;
        }

        private void terminate(CloseReason reason) {
            if (!closedOnce.compareAndSet(false, true)) {
                return;
            }
            try {
                socket.close();
            } catch (IOException e) {
                // already broken
            }
            writer.shutdown();
            closed.complete(reason);
            ConnectionHandler h = handler;
            if (h != null) {
                h.onClosed(this, reason);
            }
        }

        @Override
        public CompletableFuture<CloseReason> closeFuture() {
            return closed;
        }
    }
}
