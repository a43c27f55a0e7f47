package dev.meshwork.transport.ws.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Pings on an interval, measures round-trip time from the echoed ping payload, and declares the
 * connection stale when nothing at all (data, ping, pong) arrived within the threshold.
 *
 * <p>Sits right after the WebSocket frame decoder so every inbound frame counts as a sign of life:
 * a busy link whose pongs queue behind data is never falsely closed. TCP alone notices a half-open
 * link only after tcp_retries2 (~15 min); this is what notices it within the threshold.
 */
final class LivenessHandler extends ChannelDuplexHandler {

    /** Told when the link went silent, and of each RTT sample. */
    interface Listener {
        void onStale(long silentNanos);

        void onRttSample(long rttNanos);
    }

    private final long intervalNanos;
    private final long staleNanos;
    private final LongSupplier nanoTime;
    private final Listener listener;
    private long lastReadNanos;
    private ScheduledFuture<?> task;

    LivenessHandler(long intervalNanos, long staleNanos, LongSupplier nanoTime, Listener listener) {
        this.intervalNanos = intervalNanos;
        this.staleNanos = staleNanos;
        this.nanoTime = nanoTime;
        this.listener = listener;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        lastReadNanos = nanoTime.getAsLong();
        task = ctx.executor().scheduleAtFixedRate(() -> tick(ctx), intervalNanos, intervalNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancel();
        super.channelInactive(ctx);
    }

    private void cancel() {
        if (task != null) {
            task.cancel(false);
            task = null;
        }
    }

    void tick(ChannelHandlerContext ctx) {
        long now = nanoTime.getAsLong();
        long silent = now - lastReadNanos;
        if (silent >= staleNanos) {
            cancel();
            listener.onStale(silent);
            return;
        }
        if (ctx.channel().isActive()) {
            ByteBuf payload = ctx.alloc().buffer(8).writeLong(now);
            // from the tail: the client's frame encoder sits after this handler (netty puts it there)
            ctx.channel().writeAndFlush(new PingWebSocketFrame(payload), ctx.channel().voidPromise());
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        long now = nanoTime.getAsLong();
        lastReadNanos = now;
        if (msg instanceof PongWebSocketFrame pong) {
            try {
                ByteBuf content = pong.content();
                if (content.readableBytes() == 8) {
                    long sample = now - content.getLong(content.readerIndex());
                    // a pong can only echo a ping we sent in the past; anything else is not ours
                    if (sample >= 0 && sample < staleNanos * 4) {
                        listener.onRttSample(sample);
                    }
                }
            } finally {
                pong.release();
            }
            return;
        }
        ctx.fireChannelRead(msg);
    }
}
