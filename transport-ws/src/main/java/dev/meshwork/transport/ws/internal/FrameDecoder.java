package dev.meshwork.transport.ws.internal;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageDecoder;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.util.List;

/**
 * Turns one complete binary WebSocket message into the bytes handed to the connection's handler;
 * other frames (close) pass through. The transport does not look inside: decoding the protocol is
 * the node core's job (api.transport 2.0.0).
 *
 * <p>The size limit is enforced before this handler, on the declared length (Netty's frame decoder
 * and the aggregator, both at {@code maxFrameBytes}), so the copy made here is bounded. A text
 * message raises a {@link BadPayloadException} carrying the close code, which the connection
 * handler turns into a close.
 */
final class FrameDecoder extends MessageToMessageDecoder<WebSocketFrame> {

    @Override
    protected void decode(ChannelHandlerContext ctx, WebSocketFrame msg, List<Object> out) throws Exception {
        if (msg instanceof BinaryWebSocketFrame) {
            int size = msg.content().readableBytes();
            out.add(new DecodedMessage(ByteBufUtil.getBytes(msg.content()), size));
        } else if (msg instanceof TextWebSocketFrame) {
            throw new BadPayloadException(1003, "text frames are not accepted, binary only", TransportCounters.Event.TEXT_FRAMES);
        } else {
            out.add(msg.retain());
        }
    }

    /** One received message with its wire size, for the connection's byte counters. */
    record DecodedMessage(byte[] message, int wireBytes) {
    }

    /** A message this transport refuses; carries the close code to send. */
    static final class BadPayloadException extends Exception {
        private static final long serialVersionUID = 1L;
        final int closeCode;
        final transient TransportCounters.Event counter;

        BadPayloadException(int closeCode, String message, TransportCounters.Event counter) {
            super(message, null, false, false);
            this.closeCode = closeCode;
            this.counter = counter;
        }
    }
}
