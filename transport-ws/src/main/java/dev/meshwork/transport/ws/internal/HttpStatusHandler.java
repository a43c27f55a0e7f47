package dev.meshwork.transport.ws.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * Answers plain HTTP on the listen port: a GET returns a small JSON status document (node id,
 * version, uptime) for probes and load balancers; a malformed request gets 400 and is dropped.
 * WebSocket upgrade requests pass on to Netty's handshake handler.
 */
final class HttpStatusHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private final Supplier<String> statusJson;
    private final TransportContext context;
    private final String upgradePath;

    HttpStatusHandler(Supplier<String> statusJson, TransportContext context, String upgradePath) {
        super(false);
        this.statusJson = statusJson;
        this.context = context;
        this.upgradePath = upgradePath;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (request.decoderResult().isFailure()) {
            request.release();
            context.counters().increment(TransportCounters.Event.BAD_HTTP_REQUESTS);
            context.log().warn("http.bad", "malformed HTTP request from {}: {}", ctx.channel().remoteAddress(),
                    request.decoderResult().cause().toString());
            respond(ctx, HttpResponseStatus.BAD_REQUEST, "{\"error\":\"bad request\"}");
            return;
        }
        if (request.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
            String path = new QueryStringDecoder(request.uri()).path();
            if (path.equals(upgradePath)) {
                ctx.fireChannelRead(request);
            } else {
                request.release();
                context.counters().increment(TransportCounters.Event.BAD_HTTP_REQUESTS);
                respond(ctx, HttpResponseStatus.NOT_FOUND, "{\"error\":\"no WebSocket endpoint here\"}");
            }
            return;
        }
        request.release();
        if (!HttpMethod.GET.equals(request.method()) && !HttpMethod.HEAD.equals(request.method())) {
            respond(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "{\"error\":\"method not allowed\"}");
            return;
        }
        context.counters().increment(TransportCounters.Event.STATUS_REQUESTS);
        respond(ctx, HttpResponseStatus.OK, statusJson.get());
    }

    private static void respond(ChannelHandlerContext ctx, HttpResponseStatus status, String json) {
        ByteBuf body = Unpooled.copiedBuffer(json, StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        // one request per connection: a probe never holds a socket open
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    /** JSON string escaping for the few values the status document holds. */
    static String quote(String value) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : value.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
