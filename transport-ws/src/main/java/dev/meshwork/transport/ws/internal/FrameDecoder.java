package dev.meshwork.transport.ws.internal;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.meshwork.api.wire.Frame;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageDecoder;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.util.List;

/**
 * Turns one complete binary WebSocket message into a protobuf {@link Frame}; other frames
 * (close) pass through.
 *
 * <p>A text message or undecodable protobuf raises a {@link BadPayloadException} carrying the close
 * code, which the connection handler turns into a close.
 */
final class FrameDecoder extends MessageToMessageDecoder<WebSocketFrame> {

    @Override
    protected void decode(ChannelHandlerContext ctx, WebSocketFrame msg, List<Object> out) throws Exception {
        if (msg instanceof BinaryWebSocketFrame) {
            out.add(new DecodedFrame(decode(msg.content()), msg.content().readableBytes()));
        } else if (msg instanceof TextWebSocketFrame) {
            throw new BadPayloadException(1003, "text frames are not accepted, binary only", TransportCounters.Event.TEXT_FRAMES);
        } else {
            out.add(msg.retain());
        }
    }

    /** Decodes a protobuf {@link Frame}; the fuzz test drives this directly. */
    static Frame decode(ByteBuf content) throws BadPayloadException {
        try {
            return Frame.parseFrom(content.nioBuffer());
        } catch (InvalidProtocolBufferException e) {
            throw new BadPayloadException(1007, "undecodable frame: " + e.getMessage(), TransportCounters.Event.UNDECODABLE_PAYLOADS);
        }
    }

    /** A decoded frame with its wire size, for the connection's byte counters. */
    record DecodedFrame(Frame frame, int wireBytes) {
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
