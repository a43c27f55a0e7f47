package dev.meshwork.transport.ws.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketClientExtension;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketClientExtensionHandler;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtension;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtensionData;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtensionDecoder;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtensionEncoder;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtension;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtensionHandler;
import io.netty.handler.codec.http.websocketx.extensions.compression.PerMessageDeflateClientExtensionHandshaker;
import io.netty.handler.codec.http.websocketx.extensions.compression.PerMessageDeflateServerExtensionHandshaker;
import java.util.List;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * permessage-deflate (RFC 7692) with Netty's handshake and compressor, but our own inflater, which
 * stops at the message size limit.
 *
 * <p>Netty 4.1.118's decoder inflates a whole frame before anything can look at its size, so a
 * few kilobytes of zeros become a gigabyte on the heap; the limit the transport promises (checked
 * before the payload is allocated) would not hold once compression is negotiated.
 */
final class BoundedDeflate {

    /** The RFC 7692 tail that the sender strips from every compressed message. */
    private static final byte[] TAIL = {0x00, 0x00, (byte) 0xff, (byte) 0xff};
    private static final int CHUNK = 8192;

    private BoundedDeflate() {
    }

    static WebSocketServerExtensionHandler serverHandler(int maxMessageBytes) {
        PerMessageDeflateServerExtensionHandshaker netty = new PerMessageDeflateServerExtensionHandshaker();
        return new WebSocketServerExtensionHandler(data -> {
            WebSocketServerExtension negotiated = netty.handshakeExtension(data);
            return negotiated == null ? null : new Bounded(negotiated, maxMessageBytes);
        });
    }

    static WebSocketClientExtensionHandler clientHandler(int maxMessageBytes) {
        PerMessageDeflateClientExtensionHandshaker netty = new PerMessageDeflateClientExtensionHandshaker();
        return new WebSocketClientExtensionHandler(new io.netty.handler.codec.http.websocketx.extensions.WebSocketClientExtensionHandshaker() {
            @Override
            public WebSocketExtensionData newRequestData() {
                return netty.newRequestData();
            }

            @Override
            public WebSocketClientExtension handshakeExtension(WebSocketExtensionData data) {
                WebSocketClientExtension negotiated = netty.handshakeExtension(data);
                return negotiated == null ? null : new Bounded(negotiated, maxMessageBytes);
            }
        });
    }

    /** Netty's negotiated extension with our decoder in place of its own; serves as either side's. */
    private record Bounded(WebSocketExtension netty, int max) implements WebSocketServerExtension, WebSocketClientExtension {
        @Override
        public int rsv() {
            return netty.rsv();
        }

        @Override
        public WebSocketExtensionEncoder newExtensionEncoder() {
            return netty.newExtensionEncoder();
        }

        @Override
        public WebSocketExtensionDecoder newExtensionDecoder() {
            return new Decoder(max);
        }

        @Override
        public WebSocketExtensionData newReponseData() {
            return ((WebSocketServerExtension) netty).newReponseData();
        }
    }

    /**
     * Inflates compressed messages frame by frame, counting the output of the whole message; one
     * byte over the limit fails the message as too big (close code 1009) before more is produced.
     *
     * <p>The inflater keeps its window across messages, which is right whether or not the peer
     * negotiated no-context-takeover (a peer that resets its compressor just never refers back).
     */
    static final class Decoder extends WebSocketExtensionDecoder {
        private final int max;
        private final Inflater inflater = new Inflater(true);
        private final byte[] chunk = new byte[CHUNK];
        private boolean inCompressedMessage;
        private long messageBytes;

        Decoder(int max) {
            this.max = max;
        }

        @Override
        public boolean acceptInboundMessage(Object msg) throws Exception {
            if (!(msg instanceof WebSocketFrame frame)) {
                return false;
            }
            if (frame instanceof TextWebSocketFrame || frame instanceof BinaryWebSocketFrame) {
                return (frame.rsv() & WebSocketExtension.RSV1) != 0;
            }
            return frame instanceof ContinuationWebSocketFrame && inCompressedMessage;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, WebSocketFrame frame, List<Object> out) throws Exception {
            if (!(frame instanceof ContinuationWebSocketFrame)) {
                inCompressedMessage = true;
                messageBytes = 0;
            } else if ((frame.rsv() & WebSocketExtension.RSV1) != 0) {
                throw new FrameDecoder.BadPayloadException(1002, "RSV1 set on a continuation frame", TransportCounters.Event.MALFORMED_FRAMES);
            }
            ByteBuf inflated = ctx.alloc().buffer(Math.min(CHUNK, max + 1));
            try {
                inflate(frame.content(), inflated);
                if (frame.isFinalFragment()) {
                    inflate(io.netty.buffer.Unpooled.wrappedBuffer(TAIL), inflated);
                    inCompressedMessage = false;
                }
                int rsv = frame.rsv() & ~WebSocketExtension.RSV1;
                WebSocketFrame plain = frame instanceof TextWebSocketFrame ? new TextWebSocketFrame(frame.isFinalFragment(), rsv, inflated)
                        : frame instanceof BinaryWebSocketFrame ? new BinaryWebSocketFrame(frame.isFinalFragment(), rsv, inflated)
                        : new ContinuationWebSocketFrame(frame.isFinalFragment(), rsv, inflated);
                inflated = null;
                out.add(plain);
            } finally {
                if (inflated != null) {
                    inflated.release();
                }
            }
        }

        private void inflate(ByteBuf compressed, ByteBuf into) throws Exception {
            // consumed to the end before this returns, so the buffer's own memory can be the input
            inflater.setInput(compressed.nioBuffer());
            while (true) {
                int n;
                try {
                    n = inflater.inflate(chunk);
                } catch (DataFormatException e) {
                    throw new FrameDecoder.BadPayloadException(1007, "bad deflate data: " + e.getMessage(), TransportCounters.Event.UNDECODABLE_PAYLOADS);
                }
                if (n > 0) {
                    messageBytes += n;
                    if (messageBytes > max) {
                        throw new TooLongFrameException("inflated message exceeds " + max + " bytes");
                    }
                    into.writeBytes(chunk, 0, n);
                } else {
                    if (inflater.finished()) {
                        inflater.reset(); // a sender that ended its stream (BFINAL) starts a new one next time
                    } else if (inflater.needsDictionary()) {
                        throw new FrameDecoder.BadPayloadException(1007, "deflate data asks for a dictionary", TransportCounters.Event.UNDECODABLE_PAYLOADS);
                    }
                    return; // needs more input: the next frame of the message brings it
                }
            }
        }

        /** Bytes inflated so far for the current message (tests check the bound). */
        long inflatedSoFar() {
            return messageBytes;
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) throws Exception {
            inflater.end();
            super.handlerRemoved(ctx);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            inflater.end();
            super.channelInactive(ctx);
        }
    }
}
