package dev.meshwork.transport.ws.internal;

import dev.meshwork.api.transport.CloseReason;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The last handler of every pipeline: turns Netty events into {@link WsConnection} events, and
 * failures into the right close code, a counter and a rate-limited log line.
 *
 * <p>Before the upgrade completes there is no connection yet; failures then go to
 * {@link #failedBeforeUpgrade}, which a dial turns into a typed dial error.
 */
abstract class WsChannelHandler extends ChannelInboundHandlerAdapter {

    protected final TransportContext context;
    protected WsConnection connection;

    WsChannelHandler(TransportContext context) {
        this.context = context;
    }

    /** The upgrade completed: create the connection (or return null after closing the channel). */
    protected abstract WsConnection upgraded(ChannelHandlerContext ctx);

    /** The channel failed or closed before the upgrade completed. */
    protected abstract void failedBeforeUpgrade(ChannelHandlerContext ctx, Throwable cause);

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete
                || evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
            UpgradeDeadlineHandler.upgraded(ctx);
            installLiveness(ctx);
            connection = upgraded(ctx);
        } else if (evt instanceof SslHandshakeCompletionEvent tls && !tls.isSuccess()) {
            context.counters().increment(TransportCounters.Event.TLS_FAILURES);
            context.log().warn("tls.failed", "TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), tls.cause().toString());
            if (connection == null) {
                failedBeforeUpgrade(ctx, tls.cause());
            }
            ctx.close();
        }
        ReferenceCountUtil.release(evt);
    }

    private void installLiveness(ChannelHandlerContext ctx) {
        ChannelHandlerContext decoder = ctx.pipeline().context(WebSocketFrameDecoder.class);
        ChannelHandlerContext encoder = ctx.pipeline().context(WebSocketFrameEncoder.class);
        if (encoder != null && ctx.pipeline().names().indexOf(encoder.name()) > ctx.pipeline().names().indexOf(decoder.name())) {
            // Netty's client handshaker puts the encoder after the decoder, so the close frame the
            // decoder writes on a protocol violation (e.g. 1009) would bypass it and never be sent
            // (the client encoder masks, RFC 6455 §5.3; Netty's handlers are not @Sharable, so a new one)
            String name = encoder.name();
            ctx.pipeline().remove(name);
            ctx.pipeline().addBefore(decoder.name(), name, new WebSocket13FrameEncoder(true));
        }
        long stale = context.settings().staleThreshold().toNanos();
        LivenessHandler liveness = new LivenessHandler(context.liveness(), stale, context.nanoTime(), new LivenessHandler.Listener() {
            @Override
            public void onStale(long silentNanos) {
                context.counters().increment(TransportCounters.Event.STALE_CLOSES);
                context.log().warn("stale", "closing {}: nothing received for {} ms", connection,
                        TimeUnit.NANOSECONDS.toMillis(silentNanos));
                if (connection != null) {
                    connection.abort(CloseReason.stale("stale: nothing received for "
                            + TimeUnit.NANOSECONDS.toMillis(silentNanos) + " ms"));
                } else {
                    ctx.close();
                }
            }

            @Override
            public void onRttSample(long rttNanos) {
                if (connection != null) {
                    connection.onRttSample(rttNanos);
                }
            }
        });
        ctx.pipeline().addAfter(decoder.name(), "liveness", liveness);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (connection == null) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof FrameDecoder.DecodedMessage decoded) {
            connection.onMessage(decoded.message(), decoded.wireBytes());
        } else if (msg instanceof CloseWebSocketFrame close) {
            try {
                connection.onPeerClose(close.statusCode(), close.reasonText());
            } finally {
                close.release();
            }
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (connection != null) {
            connection.onWritabilityChanged(connection.isWritable());
        }
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (connection != null) {
            connection.onChannelClosed();
        } else {
            failedBeforeUpgrade(ctx, new ClosedChannelException());
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (connection == null) {
            failedBeforeUpgrade(ctx, cause);
            ctx.close();
            return;
        }
        Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        Object remote = ctx.channel().remoteAddress();
        if (root instanceof CorruptedWebSocketFrameException corrupted) {
            // Netty's decoder already sent the close frame with this code and closes the socket
            int code = corrupted.closeStatus().code();
            CloseReason.Kind kind = code == CloseReason.MESSAGE_TOO_BIG ? CloseReason.Kind.TOO_BIG : CloseReason.Kind.PROTOCOL_ERROR;
            TransportCounters.Event event = code == CloseReason.MESSAGE_TOO_BIG ? TransportCounters.Event.OVERSIZED_FRAMES
                    : code == CloseReason.INVALID_PAYLOAD ? TransportCounters.Event.INVALID_UTF8 : TransportCounters.Event.MALFORMED_FRAMES;
            badInput(event, remote, code, root.getMessage());
            connection.abortAfterWrite(reason(kind, code, root.getMessage(), root));
        } else if (root instanceof TooLongFrameException) {
            badInput(TransportCounters.Event.OVERSIZED_FRAMES, remote, CloseReason.MESSAGE_TOO_BIG, root.getMessage());
            connection.closeWithFrame(reason(CloseReason.Kind.TOO_BIG, CloseReason.MESSAGE_TOO_BIG, "message too big", root), false);
        } else if (root instanceof FrameDecoder.BadPayloadException bad) {
            badInput(bad.counter, remote, bad.closeCode, bad.getMessage());
            connection.closeWithFrame(reason(CloseReason.Kind.PROTOCOL_ERROR, bad.closeCode, truncate(bad.getMessage()), root), false);
        } else if (root instanceof CorruptedFrameException) {
            badInput(TransportCounters.Event.MALFORMED_FRAMES, remote, CloseReason.PROTOCOL_ERROR, root.getMessage());
            connection.closeWithFrame(reason(CloseReason.Kind.PROTOCOL_ERROR, CloseReason.PROTOCOL_ERROR, "protocol error", root), false);
        } else if (root instanceof IOException) {
            connection.abort(CloseReason.error("socket failed: " + root.getMessage(), root));
        } else {
            context.log().warn("internal", "unexpected failure on {}: {}", connection, root.toString());
            connection.closeWithFrame(reason(CloseReason.Kind.ERROR, CloseReason.INTERNAL_ERROR, "internal error", root), false);
        }
    }

    private void badInput(TransportCounters.Event event, Object remote, int code, String message) {
        context.counters().increment(event);
        context.log().warn("bad." + event, "closing connection from {} with {}: {}", remote, code, message);
    }

    private static CloseReason reason(CloseReason.Kind kind, int code, String text, Throwable cause) {
        return new CloseReason(kind, code, truncate(text), false, Optional.ofNullable(cause));
    }

    /** A close reason must fit a control frame (125 bytes, 2 of them the code). */
    static String truncate(String text) {
        if (text == null) {
            return "";
        }
        String t = text;
        while (t.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 120) {
            t = t.substring(0, t.length() - 1);
        }
        return t;
    }
}
