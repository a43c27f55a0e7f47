package dev.meshwork.bench;

import dev.meshwork.bench.SecureStreamBench.Checker;
import dev.meshwork.bench.SecureStreamBench.Received;
import dev.meshwork.bench.SecureStreamBench.Stream;
import dev.meshwork.bench.SecureStreamBench.Template;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;

/**
 * The baseline of the secure stream: bare Netty WebSocket over TLS 1.3 with the JDK provider (the
 * provider Meshwork's {@code wss} uses: netty-tcnative is not on its class path), no Meshwork code.
 * Same pipeline shape as transport-ws: {@code FlushConsolidationHandler(256, true)} first, then TLS,
 * HTTP, WebSocket. The server checks every frame's sequence number at its fixed offset.
 */
final class NettyTls {

    private static final String PASSWORD = "bench-only";

    private NettyTls() {
    }

    /** A throw-away PKCS#12 key store with a self-signed EC P-256 certificate, made by the JDK's keytool. */
    static Path keyStore() throws Exception {
        Path dir = Files.createTempDirectory("bench-tls");
        Path store = dir.resolve("server.p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "bench", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=127.0.0.1", "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(),
                "-storepass", PASSWORD, "-keypass", PASSWORD).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("keytool failed: " + output);
        }
        store.toFile().deleteOnExit();
        dir.toFile().deleteOnExit();
        return store;
    }

    static SslContext serverContext(Path store) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            ks.load(in, PASSWORD.toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, PASSWORD.toCharArray());
        return SslContextBuilder.forServer(kmf).sslProvider(SslProvider.JDK).protocols("TLSv1.3").build();
    }

    static SslContext clientContext() throws Exception {
        return SslContextBuilder.forClient().sslProvider(SslProvider.JDK).protocols("TLSv1.3")
                .trustManager(InsecureTrustManagerFactory.INSTANCE).build();
    }

    /** The server: counts and checks binary frames per connection, answers the text "done" with "COUNT ERRORS FIRST". */
    static int server(Path store, int threads, Template template) throws Exception {
        SslContext tls = serverContext(store);
        EventLoopGroup group = new EpollEventLoopGroup(threads);
        Channel ch = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel c) {
                        Checker checker = new Checker();
                        c.pipeline().addLast(new FlushConsolidationHandler(256, true), tls.newHandler(c.alloc()),
                                new HttpServerCodec(), new HttpObjectAggregator(65536),
                                new WebSocketServerProtocolHandler("/bench", null, false, 1 << 20),
                                new SimpleChannelInboundHandler<WebSocketFrame>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame f) {
                                        ByteBuf b = f.content();
                                        if (f instanceof BinaryWebSocketFrame) {
                                            boolean sizeOk = b.readableBytes() == template.bytes().length;
                                            checker.check(sizeOk ? b.getLong(b.readerIndex() + template.seqOffset()) : -1, sizeOk);
                                        } else if (f instanceof TextWebSocketFrame) {
                                            ctx.writeAndFlush(new TextWebSocketFrame(checker.report()));
                                        }
                                    }
                                });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        return ((InetSocketAddress) ch.localAddress()).getPort();
    }

    /** One connection: TLS and WebSocket handshakes, {@code count} frames, then "done"; msgs/s from the first frame to the server's answer. */
    static Stream stream(int port, int threads, Template template, int count) throws Exception {
        SslContext tls = clientContext();
        EventLoopGroup group = new EpollEventLoopGroup(threads);
        try {
            CompletableFuture<Void> ready = new CompletableFuture<>();
            CompletableFuture<String> done = new CompletableFuture<>();
            URI uri = URI.create("wss://127.0.0.1:" + port + "/bench");
            Channel ch = TransportBench.nettyClient(group, uri,
                    c -> new ChannelHandler[] {new FlushConsolidationHandler(256, true), tls.newHandler(c.alloc(), "127.0.0.1", port)},
                    ready, (ctx, f) -> {
                        if (f instanceof TextWebSocketFrame t) {
                            done.complete(t.text());
                        }
                    });
            ready.get(10, TimeUnit.SECONDS);
            var session = ch.pipeline().get(SslHandler.class).engine().getSession();
            String detail = session.getProtocol() + " " + session.getCipherSuite() + " (JDK provider)";
            if (!List.of("TLSv1.3").contains(session.getProtocol())) {
                return new Stream(0, "negotiated " + session.getProtocol() + ", not TLS 1.3", detail);
            }
            byte[] bytes = template.bytes();
            long start = System.nanoTime();
            for (int i = 0; i < count; ) {
                if (ch.isWritable()) {
                    ByteBuf buf = ch.alloc().buffer(bytes.length);
                    buf.writeBytes(bytes).setLong(template.seqOffset(), i);
                    ch.writeAndFlush(new BinaryWebSocketFrame(buf), ch.voidPromise());
                    i++;
                } else {
                    Thread.onSpinWait();
                }
            }
            ch.writeAndFlush(new TextWebSocketFrame("done"));
            Received r = Received.parse(done.get(120, TimeUnit.SECONDS));
            double rate = r.count() / ((System.nanoTime() - start) / 1e9);
            ch.close().sync();
            return new Stream(rate, r.problem(count), detail);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
