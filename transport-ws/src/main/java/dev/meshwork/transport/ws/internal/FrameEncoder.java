package dev.meshwork.transport.ws.internal;

import com.google.protobuf.CodedOutputStream;
import dev.meshwork.api.wire.Frame;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import java.util.List;

/**
 * Serialises a protobuf {@link Frame} into one binary WebSocket frame, straight into a pooled buffer.
 *
 * <p>The encoder writes into the buffer's own memory: protobuf's {@code OutputStream} adapter
 * would allocate (and zero) a 4 KiB staging array per message, which at echo rates was most of
 * the transport's garbage.
 */
@Sharable
final class FrameEncoder extends MessageToMessageEncoder<Frame> {

    static final FrameEncoder INSTANCE = new FrameEncoder();

    @Override
    protected void encode(ChannelHandlerContext ctx, Frame frame, List<Object> out) throws Exception {
        int size = frame.getSerializedSize();
        ByteBuf buf = ctx.alloc().buffer(size, size);
        try {
            CodedOutputStream stream = CodedOutputStream.newInstance(buf.nioBuffer(buf.writerIndex(), size));
            frame.writeTo(stream);
            stream.checkNoSpaceLeft();
            buf.writerIndex(buf.writerIndex() + size);
            out.add(new BinaryWebSocketFrame(buf));
        } catch (Exception | Error e) {
            buf.release();
            throw e;
        }
    }
}
