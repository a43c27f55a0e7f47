package dev.meshwork.transport.ws.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Drops a server-side TCP connection that has not completed the WebSocket upgrade within the
 * handshake timeout (slowloris, abandoned sockets, port scanners), then removes itself.
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

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
            deadline.cancel(false);
            ctx.pipeline().remove(this);
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        deadline.cancel(false);
        super.channelInactive(ctx);
    }
}
