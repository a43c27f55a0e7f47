package dev.meshwork.transport.ws.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import java.util.function.LongSupplier;

/**
 * Answers for one connection to its event loop's {@link LivenessWheel}: records when anything last
 * arrived, sends the wheel's pings, and measures round-trip time from the echoed ping payload.
 *
 * <p>Sits right after the WebSocket frame decoder so every inbound frame counts as a sign of life:
 * a busy link whose pongs queue behind data is never falsely closed. TCP alone notices a half-open
 * link only after tcp_retries2 (~15 min); the wheel notices it within the threshold (plus one tick).
 */
final class LivenessHandler extends ChannelDuplexHandler implements LivenessWheel.Member {

    /** Told when the link went silent, and of each RTT sample. */
    interface Listener {
        void onStale(long silentNanos);

        void onRttSample(long rttNanos);
    }

    private final LivenessWheels wheels;
    private final long staleNanos;
    private final LongSupplier nanoTime;
    private final Listener listener;
    private long lastReadNanos;
    private ChannelHandlerContext ctx;
    private LivenessWheel wheel;
    private LivenessWheel.Slot slot;

    LivenessHandler(LivenessWheels wheels, long staleNanos, LongSupplier nanoTime, Listener listener) {
        this.wheels = wheels;
        this.staleNanos = staleNanos;
        this.nanoTime = nanoTime;
        this.listener = listener;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        lastReadNanos = nanoTime.getAsLong();
        // handlers are added from the pipeline's own event loop (the upgrade event), the wheel's thread
        wheel = wheels.forLoop(ctx.executor());
        slot = wheel.add(this);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        leave();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        leave();
        super.channelInactive(ctx);
    }

    private void leave() {
        if (slot != null) {
            wheel.remove(slot);
            slot = null;
        }
    }

    @Override
    public long lastReadNanos() {
        return lastReadNanos;
    }

    @Override
    public void ping(long nowNanos) {
        if (ctx.channel().isActive()) {
            ByteBuf payload = ctx.alloc().buffer(8).writeLong(nowNanos);
            // from the tail: the client's frame encoder sits after this handler (netty puts it there)
            ctx.channel().writeAndFlush(new PingWebSocketFrame(payload), ctx.channel().voidPromise());
        }
    }

    @Override
    public void stale(long silentNanos) {
        slot = null;
        listener.onStale(silentNanos);
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
