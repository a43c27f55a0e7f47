package com.example.meshwork.tcp;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.RetryableException;
import dev.meshwork.api.transport.CloseReason;
import dev.meshwork.api.transport.Connection;
import dev.meshwork.api.transport.ConnectionHandler;
import dev.meshwork.api.transport.ConnectionStats;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One tcp connection: length-prefixed messages, a reader thread, writes serialised on the socket.
 * The messages are opaque bytes: what is inside (and its security) is the node core's business.
 * A length of {@value #CLOSE_MARKER} announces a deliberate close (code and reason follow), so
 * the other side can tell it from a failure.
 */
final class TcpConnection implements Connection, AutoCloseable {

    static final int CLOSE_MARKER = -1;
    /** The largest message read or written: 1 MiB, the node's default frame limit. */
    private static final int MAX_MESSAGE = 1 << 20;

    private final Socket socket;
    private final URI uri;
    private final boolean inbound;
    private final ExecutorService io;
    private final Consumer<TcpConnection> onClosed;
    private final String id = "tcp-" + UUID.randomUUID().toString().substring(0, 8);
    private final DataOutputStream out;
    private final CompletableFuture<CloseReason> closed = new CompletableFuture<>();
    private final AtomicLong framesIn = new AtomicLong();
    private final AtomicLong framesOut = new AtomicLong();
    private final AtomicLong bytesIn = new AtomicLong();
    private final AtomicLong bytesOut = new AtomicLong();
    private volatile ConnectionHandler handler;

    TcpConnection(Socket socket, URI uri, boolean inbound, ExecutorService io, Consumer<TcpConnection> onClosed) throws IOException {
        this.socket = socket;
        this.uri = uri;
        this.inbound = inbound;
        this.io = io;
        this.onClosed = onClosed;
        socket.setTcpNoDelay(true);
        this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 64 * 1024));
    }

    void start(ConnectionHandler handler) {
        this.handler = handler;
        io.execute(this::readLoop);
    }

    private void readLoop() {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 64 * 1024))) {
            while (true) {
                int length = in.readInt();
                if (length == CLOSE_MARKER) {
                    int code = in.readUnsignedShort();
                    byte[] reason = new byte[Math.min(in.readUnsignedShort(), 123)];
                    in.readFully(reason);
                    finish(CloseReason.normal(code, new String(reason, StandardCharsets.UTF_8), true));
                    return;
                }
                if (length < 0 || length > MAX_MESSAGE) {
                    // checked before allocating the message
                    finish(new CloseReason(CloseReason.Kind.TOO_BIG, CloseReason.MESSAGE_TOO_BIG,
                            "message of " + length + " bytes", true, Optional.empty()));
                    return;
                }
                byte[] bytes = new byte[length];
                in.readFully(bytes);
                framesIn.incrementAndGet();
                bytesIn.addAndGet(4L + length);
                handler.onMessage(this, bytes);
            }
        } catch (EOFException e) {
            finish(CloseReason.error("connection closed by peer", e));
        } catch (IOException e) {
            finish(CloseReason.error(e.getMessage() == null ? "socket error" : e.getMessage(), e));
        }
    }

    @Override
    public CompletableFuture<Void> send(byte[] message) {
        if (closed.isDone()) {
            return CompletableFuture.failedFuture(new RetryableException(FailureCode.CLOSED, "connection " + id + " is closed"));
        }
        byte[] bytes = message;
        if (bytes.length > MAX_MESSAGE) {
            return CompletableFuture.failedFuture(new PermanentException(FailureCode.PAYLOAD_TOO_LARGE,
                    "message of " + bytes.length + " bytes exceeds " + MAX_MESSAGE));
        }
        try {
            synchronized (out) {
                out.writeInt(bytes.length);
                out.write(bytes);
                out.flush();
            }
            framesOut.incrementAndGet();
            bytesOut.addAndGet(4L + bytes.length);
            return CompletableFuture.completedFuture(null);
        } catch (IOException e) {
            finish(CloseReason.error("write failed: " + e.getMessage(), e));
            return CompletableFuture.failedFuture(new RetryableException(FailureCode.CLOSED, "write failed on " + id, e));
        }
    }

    @Override
    public CompletableFuture<CloseReason> close(int code, String reason) {
        if (!closed.isDone()) {
            try {
                byte[] text = reason.getBytes(StandardCharsets.UTF_8);
                synchronized (out) {
                    out.writeInt(CLOSE_MARKER);
                    out.writeShort(code);
                    out.writeShort(Math.min(text.length, 123));
                    out.write(text, 0, Math.min(text.length, 123));
                    out.flush();
                }
            } catch (IOException ignored) {
                // the peer is gone already; the close stays deliberate on our side
            }
            finish(CloseReason.normal(code, reason, false));
        }
        return closed;
    }

    @Override
    public void close() {
        close(CloseReason.GOING_AWAY, "shutting down");
    }

    private void finish(CloseReason reason) {
        if (closed.complete(reason)) {
            TcpTransport.closeQuietly(socket);
            onClosed.accept(this);
            ConnectionHandler h = handler;
            if (h != null) {
                h.onClosed(this, reason);
            }
        }
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
    public boolean isWritable() {
        return !closed.isDone();
    }

    @Override
    public boolean isOpen() {
        return !closed.isDone();
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
    public CompletableFuture<CloseReason> closeFuture() {
        return closed;
    }
}
