package dev.meshwork.transport.ws.internal;

import dev.meshwork.api.wire.Frame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import java.util.List;

/** Serialises a protobuf {@link Frame} into one binary WebSocket frame, straight into a pooled buffer. */
@Sharable
final class FrameEncoder extends MessageToMessageEncoder<Frame> {

    static final FrameEncoder INSTANCE = new FrameEncoder();

    @Override
    protected void encode(ChannelHandlerContext ctx, Frame frame, List<Object> out) throws Exception {
        int size = frame.getSerializedSize();
        ByteBuf buf = ctx.alloc().buffer(size);
        try (ByteBufOutputStream stream = new ByteBufOutputStream(buf)) {
            frame.writeTo(stream);
            out.add(new BinaryWebSocketFrame(buf));
        } catch (Exception e) {
            buf.release();
            throw e;
        }
    }
}
