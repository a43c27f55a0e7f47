package dev.meshwork.transport.ws.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Drops a server-side TCP connection that has not completed the WebSocket upgrade within the
 * handshake timeout (slowloris, abandoned sockets, port scanners); removed once the upgrade completes.
 */
final class UpgradeDeadlineHandler extends ChannelInboundHandlerAdapter {

    private final long timeoutMillis;
    private final TransportContext context;
    private ScheduledFuture<?> deadline;

    UpgradeDeadlineHandler(long timeoutMillis, TransportContext context) {
        this.timeoutMillis = timeoutMillis;
        this.context = context;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        deadline = ctx.executor().schedule(() -> {
            context.counters().increment(TransportCounters.Event.UPGRADE_TIMEOUTS);
            context.log().warn("upgrade.timeout", "dropping {}: no WebSocket upgrade within {} ms",
                    ctx.channel().remoteAddress(), timeoutMillis);
            ctx.close();
        }, timeoutMillis, TimeUnit.MILLISECONDS);
    }

    /**
     * Called when the upgrade completed. Netty fires {@code HandshakeComplete} from the WebSocket
     * handler, which sits after this one, so this handler never sees that event itself: the last
     * handler (which does) removes it, and the removal cancels the deadline.
     */
    static void upgraded(ChannelHandlerContext anyCtx) {
        UpgradeDeadlineHandler self = anyCtx.pipeline().get(UpgradeDeadlineHandler.class);
        if (self != null) {
            anyCtx.pipeline().remove(self);
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        deadline.cancel(false);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        deadline.cancel(false);
        super.channelInactive(ctx);
    }
}
