package dev.meshwork.transport.ws.internal;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.RetryableException;
import dev.meshwork.api.transport.CloseReason;
import dev.meshwork.api.transport.Connection;
import dev.meshwork.api.transport.ConnectionHandler;
import dev.meshwork.api.transport.ConnectionStats;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One WebSocket connection: the {@link Connection} handed to the router, and the owner of its
 * {@link ConnectionState} transitions and close reason.
 *
 * <p>Every transition and every handler callback runs on the channel's event loop, which is what
 * makes "never called after {@code onClosed}" a simple state check rather than a lock.
 */
final class WsConnection implements Connection {

    private static final Logger LOG = LoggerFactory.getLogger(WsConnection.class);
    private static final AtomicLong IDS = new AtomicLong();
    /** How long we wait for the peer's close frame before dropping the socket. */
    static final long CLOSE_HANDSHAKE_MILLIS = 1_000;

    private final String id;
    private final URI uri;
    private final boolean inbound;
    private final Channel channel;
    private final int maxFrameBytes;
    private final long sendLimitBytes;
    private final TransportContext context;
    private final List<ConnectionHandler> handlers;
    private final CompletableFuture<CloseReason> closeFuture = new CompletableFuture<>();
    private final AtomicLong pendingBytes = new AtomicLong();
    private final java.util.concurrent.atomic.AtomicBoolean queuedUnwritable = new java.util.concurrent.atomic.AtomicBoolean();
    private final long highWaterMark;
    private final long lowWaterMark;
    private final LongAdder framesIn = new LongAdder();
    private final LongAdder framesOut = new LongAdder();
    private final LongAdder bytesIn = new LongAdder();
    private final LongAdder bytesOut = new LongAdder();

    private volatile ConnectionState state = ConnectionState.OPEN;
    private volatile long smoothedRttNanos = -1;
    private CloseReason pendingReason;

    WsConnection(URI uri, boolean inbound, Channel channel, TransportContext context, List<ConnectionHandler> handlers) {
        this.id = (inbound ? "in-" : "out-") + IDS.incrementAndGet();
        this.uri = uri;
        this.inbound = inbound;
        this.channel = channel;
        this.context = context;
        this.maxFrameBytes = context.settings().maxFrameBytes();
        // bounded: a sender that ignores writability is refused, never buffered without limit
        this.sendLimitBytes = Math.max(4L * context.settings().highWaterMark(), 2L * maxFrameBytes);
        this.handlers = handlers;
        this.highWaterMark = context.settings().highWaterMark();
        this.lowWaterMark = context.settings().lowWaterMark();
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
        return (InetSocketAddress) channel.remoteAddress();
    }

    @Override
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    Channel channel() {
        return channel;
    }

    ConnectionState state() {
        return state;
    }

    @Override
    public CompletableFuture<Void> send(byte[] message) {
        int size = message.length;
        if (size > maxFrameBytes) {
            context.counters().increment(TransportCounters.Event.SENDS_REFUSED);
            return CompletableFuture.failedFuture(new PermanentException(FailureCode.PAYLOAD_TOO_LARGE,
                    "message of " + size + " bytes exceeds the limit of " + maxFrameBytes));
        }
        if (state != ConnectionState.OPEN) {
            return CompletableFuture.failedFuture(closedException());
        }
        if (pendingBytes.addAndGet(size) > sendLimitBytes) {
            pendingBytes.addAndGet(-size);
            context.counters().increment(TransportCounters.Event.SENDS_REFUSED);
            return CompletableFuture.failedFuture(new RetryableException(FailureCode.QUEUE_FULL,
                    "write buffer of " + id + " is full (" + sendLimitBytes + " bytes); wait for writability"));
        }
        if (pendingBytes.get() >= highWaterMark && queuedUnwritable.compareAndSet(false, true)) {
            // writes queued from other threads are not yet in Netty's outbound buffer: count them too
            channel.eventLoop().execute(() -> onWritabilityChanged(false));
        }
        SendCompletion result = new SendCompletion(size);
        // the caller handed the array over (Connection#send): wrapped, not copied
        BinaryWebSocketFrame frame = new BinaryWebSocketFrame(Unpooled.wrappedBuffer(message));
        io.netty.channel.ChannelPromise promise = channel.newPromise().addListener(result);
        if (channel.eventLoop().inEventLoop()) {
            // Sends from other threads wait in the event loop's task queue; written inline, this one
            // would overtake them. Messages must leave in the order of the calls (the secure channel's
            // per-direction nonces refuse a reordered message), so it queues behind them.
            channel.eventLoop().execute(() -> channel.writeAndFlush(frame, promise));
        } else {
            channel.writeAndFlush(frame, promise);
        }
        return result;
    }

    /**
     * The caller's completion of one send, which is also the listener of its write: one object per
     * send instead of a future, a listener and a captured lambda.
     */
    private final class SendCompletion extends CompletableFuture<Void> implements ChannelFutureListener {
        private final int size;

        SendCompletion(int size) {
            this.size = size;
        }

        @Override
        public void operationComplete(io.netty.channel.ChannelFuture f) {
            if (pendingBytes.addAndGet(-size) <= lowWaterMark && queuedUnwritable.compareAndSet(true, false) && isWritable()) {
                onWritabilityChanged(true);
            }
            if (f.isSuccess()) {
                framesOut.increment();
                bytesOut.add(size);
                complete(null);
            } else {
                completeExceptionally(closedException());
            }
        }
    }

    private RetryableException closedException() {
        CloseReason reason = closeFuture.getNow(pendingReason);
        return new RetryableException(FailureCode.CLOSED, "connection " + id + " is closed"
                + (reason == null ? "" : " (" + reason.kind() + " " + reason.code() + " " + reason.text() + ")"));
    }

    @Override
    public boolean isWritable() {
        return state == ConnectionState.OPEN && channel.isWritable() && pendingBytes.get() < highWaterMark;
    }

    @Override
    public boolean isOpen() {
        return state == ConnectionState.OPEN;
    }

    @Override
    public Optional<Duration> rtt() {
        long rtt = smoothedRttNanos;
        return rtt < 0 ? Optional.empty() : Optional.of(Duration.ofNanos(rtt));
    }

    @Override
    public ConnectionStats stats() {
        return new ConnectionStats(framesIn.sum(), framesOut.sum(), bytesIn.sum(), bytesOut.sum());
    }

    @Override
    public CompletableFuture<CloseReason> close(int code, String reason) {
        CloseReason.Kind kind = code == CloseReason.GOING_AWAY && !inbound ? CloseReason.Kind.LOCAL_SHUTDOWN : CloseReason.Kind.NORMAL;
        channel.eventLoop().execute(() -> closeWithFrame(new CloseReason(kind, code, reason, false, Optional.empty()), true));
        return closeFuture;
    }

    /** Closes because this process is stopping the transport or the listener. */
    CompletableFuture<CloseReason> shutdown() {
        channel.eventLoop().execute(() -> closeWithFrame(new CloseReason(CloseReason.Kind.LOCAL_SHUTDOWN,
                CloseReason.GOING_AWAY, "shutting down", false, Optional.empty()), true));
        return closeFuture;
    }

    @Override
    public CompletableFuture<CloseReason> closeFuture() {
        return closeFuture;
    }

    /** Adds the handler an acceptor returned (server side, before any frame is delivered). */
    void addHandler(ConnectionHandler handler) {
        handlers.add(handler);
    }

    // ---- event-loop side, called by the pipeline handlers ----

    void onMessage(byte[] message, int wireBytes) {
        if (state != ConnectionState.OPEN) {
            // closing (e.g. a text frame arrived before this one in the same read): nothing more is dispatched
            return;
        }
        framesIn.increment();
        bytesIn.add(wireBytes);
        for (ConnectionHandler handler : handlers) {
            try {
                handler.onMessage(this, message);
            } catch (RuntimeException e) {
                handlerFailed("onMessage", e);
            }
        }
    }

    void onWritabilityChanged(boolean writable) {
        if (state == ConnectionState.CLOSED) {
            return;
        }
        for (ConnectionHandler handler : handlers) {
            try {
                handler.onWritabilityChanged(this, writable);
            } catch (RuntimeException e) {
                handlerFailed("onWritabilityChanged", e);
            }
        }
    }

    /** A round-trip sample from the liveness handler: smoothed as TCP does (RFC 6298, alpha 1/8). */
    void onRttSample(long sampleNanos) {
        if (state == ConnectionState.CLOSED) {
            return;
        }
        long previous = smoothedRttNanos;
        smoothedRttNanos = previous < 0 ? sampleNanos : previous + (sampleNanos - previous) / 8;
        Duration sample = Duration.ofNanos(sampleNanos);
        for (ConnectionHandler handler : handlers) {
            try {
                handler.onRtt(this, sample);
            } catch (RuntimeException e) {
                handlerFailed("onRtt", e);
            }
        }
    }

    /** The peer sent a close frame: answer it (RFC 6455 §5.5.1) and close the socket. */
    void onPeerClose(int code, String text) {
        if (state != ConnectionState.OPEN) {
            // our close was answered: the handshake is complete
            channel.close();
            return;
        }
        int answer = code < 0 ? CloseReason.NORMAL : code;
        pendingReason = new CloseReason(kindOfPeerCode(code), code < 0 ? 1005 : code, text, true, Optional.empty());
        state = ConnectionState.CLOSING;
        channel.writeAndFlush(new CloseWebSocketFrame(answer, "")).addListener(ChannelFutureListener.CLOSE);
    }

    private static CloseReason.Kind kindOfPeerCode(int code) {
        return switch (code) {
            case -1, 1005, CloseReason.NORMAL, CloseReason.GOING_AWAY -> CloseReason.Kind.NORMAL;
            case CloseReason.MESSAGE_TOO_BIG -> CloseReason.Kind.TOO_BIG;
            case CloseReason.PROTOCOL_ERROR, CloseReason.UNSUPPORTED_DATA, CloseReason.INVALID_PAYLOAD,
                    CloseReason.POLICY_VIOLATION -> CloseReason.Kind.PROTOCOL_ERROR;
            default -> CloseReason.Kind.ERROR;
        };
    }

    /**
     * Starts a close with a close frame; {@code awaitAnswer} waits (bounded) for the peer's close
     * frame, otherwise the socket closes right after ours is written (protocol errors).
     */
    void closeWithFrame(CloseReason reason, boolean awaitAnswer) {
        if (state != ConnectionState.OPEN) {
            return;
        }
        pendingReason = reason;
        state = ConnectionState.CLOSING;
        var write = channel.writeAndFlush(new CloseWebSocketFrame(reason.code(), reason.text()));
        if (awaitAnswer) {
            channel.eventLoop().schedule(() -> {
                channel.close();
            }, CLOSE_HANDSHAKE_MILLIS, TimeUnit.MILLISECONDS);
            write.addListener(f -> {
                if (!f.isSuccess()) {
                    channel.close();
                }
            });
        } else {
            write.addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** Drops the socket without a close frame (stale link, fatal socket error). */
    void abort(CloseReason reason) {
        if (state == ConnectionState.OPEN) {
            pendingReason = reason;
            state = ConnectionState.CLOSING;
        }
        channel.close();
    }

    /** Records why the connection fails while Netty finishes writing the close frame and closes the socket. */
    void abortAfterWrite(CloseReason reason) {
        if (state == ConnectionState.OPEN) {
            pendingReason = reason;
            state = ConnectionState.CLOSING;
        }
        // in case the decoder could not close it (already closing), bound the wait
        channel.eventLoop().schedule(() -> {
            channel.close();
        }, CLOSE_HANDSHAKE_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** The socket closed: deliver {@code onClosed} exactly once. */
    void onChannelClosed() {
        if (state == ConnectionState.CLOSED) {
            return;
        }
        CloseReason reason = pendingReason != null ? pendingReason
                : CloseReason.error("connection lost without a close frame", null);
        state = ConnectionState.CLOSED;
        for (ConnectionHandler handler : handlers) {
            try {
                handler.onClosed(this, reason);
            } catch (RuntimeException e) {
                handlerFailed("onClosed", e);
            }
        }
        closeFuture.complete(reason);
    }

    private void handlerFailed(String callback, RuntimeException e) {
        context.counters().increment(TransportCounters.Event.HANDLER_ERRORS);
        context.log().warn("handler." + callback, "connection handler {} failed on {}: {}", callback, id, e.toString());
        LOG.debug("handler failure", e);
    }

    @Override
    public String toString() {
        return "WsConnection[" + id + " " + uri + " " + state + "]";
    }
}
