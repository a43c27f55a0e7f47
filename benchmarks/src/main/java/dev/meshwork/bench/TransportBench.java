package dev.meshwork.bench;

import com.google.protobuf.ByteString;
import dev.meshwork.api.transport.CloseReason;
import dev.meshwork.api.transport.Connection;
import dev.meshwork.api.transport.ConnectionHandler;
import dev.meshwork.api.transport.DialOptions;
import dev.meshwork.api.transport.TransportListener;
import dev.meshwork.api.wire.Envelope;
import dev.meshwork.api.wire.Frame;
import dev.meshwork.transport.ws.internal.WsSettings;
import dev.meshwork.transport.ws.internal.WsTransportEngine;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code ./bench transport}: the WebSocket transport between two processes on loopback with
 * 256-byte payloads — a pipelined one-way stream against a bare Netty WebSocket pair, a 64-connection
 * echo against the Node.js {@code ws} library, and the idle cost of 5,000 pinging connections; with
 * the secure channel on, the stream against bare Netty over TLS 1.3 and the handshake
 * ({@link SecureStreamBench}). The RESULT line is printed only when every check passed (all frames
 * received, in order where checked, a Node.js figure); otherwise the run exits 1 saying why.
 */
public final class TransportBench {

    static final int PAYLOAD = 256;

    /** Failed correctness checks of this run: a run with any prints no RESULT line and exits 1. */
    static final List<String> PROBLEMS = new java.util.concurrent.CopyOnWriteArrayList<>();

    private TransportBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("server")) {
            server(args[1], Arrays.copyOfRange(args, 2, args.length));
            return;
        }
        if (args.length > 0 && args[0].equals("stream")) {
            streamOnly(args.length > 1 ? Integer.parseInt(args[1]) : 3);
            return;
        }
        if (args.length > 0 && args[0].equals("echo")) {
            echoOnly(args.length > 1 ? Integer.parseInt(args[1]) : 5, args.length > 2 ? Integer.parseInt(args[2]) : 64);
            return;
        }
        if (args.length > 0 && args[0].equals("secure")) {
            SecureStreamBench.secureOnly(args.length > 1 ? Integer.parseInt(args[1]) : 1);
            return;
        }
        if (args.length > 0 && args[0].equals("idle")) {
            idleOnly(args.length > 1 ? Integer.parseInt(args[1]) : 5000);
            return;
        }
        int streamCount = Integer.getInteger("bench.stream", 1_000_000);
        List<String[]> rows = new ArrayList<>();

        double[] stream = streamPair(streamCount);
        double mesh = stream[0];
        double netty = stream[1];
        rows.add(row("stream 1 link, msgs/s", mesh, netty, "bare Netty"));

        SecureStreamBench.Run secure = SecureStreamBench.run(streamCount);
        rows.addAll(secure.rows());

        EchoRun echo = echo(64, Duration.ofSeconds(5));
        double echoRate = echo.closed()[0];
        double p99 = echo.paced()[1];
        double wsEcho = echo.ws();
        rows.add(row("echo 64 conns, req/s", echoRate, wsEcho, "Node.js ws"));
        rows.add(row("  (same, vs bare Netty)", echoRate, echo.netty(), "bare Netty echo"));
        rows.add(new String[] {"echo p99 at 10k req/s, ms", String.format("%.3f", p99), "", "", ""});

        double heapPerConn;
        double cpu;
        try (Child server = Child.start("meshwork")) {
            double[] idle = idle(server, 5000);
            heapPerConn = idle[0];
            cpu = idle[1];
        }
        rows.add(new String[] {"idle heap per conn, KiB", String.format("%.1f", heapPerConn), "", "", ""});
        rows.add(new String[] {"idle CPU (5000 conns), %", String.format("%.2f", cpu), "", "", ""});

        System.out.printf("%-28s %14s %14s %8s  %s%n", "measure", "meshwork", "baseline", "ratio", "baseline is");
        for (String[] r : rows) {
            System.out.printf("%-28s %14s %14s %8s  %s%n", (Object[]) r);
        }
        if (wsEcho <= 0) {
            PROBLEMS.add("no Node.js ws echo figure (echo_vs_ws would be NaN)");
        }
        if (!PROBLEMS.isEmpty()) {
            System.err.println("INVALID RUN, no RESULT line: " + String.join("; ", PROBLEMS));
            System.exit(1);
        }
        System.out.printf("RESULT transport stream_msgs_per_s=%.0f vs_netty=%.2f echo_vs_ws=%.2f echo_p99_ms=%.3f idle_heap_kib_per_conn=%.1f idle_cpu_pct=%.2f %s%n",
                mesh, mesh / netty, echoRate / wsEcho, p99, heapPerConn, cpu, secure.resultKeys());
        System.exit(0);
    }

    private static String[] row(String name, double value, double base, String baseName) {
        return new String[] {name, String.format("%.0f", value), base > 0 ? String.format("%.0f", base) : "n/a",
                base > 0 ? String.format("%.2f", value / base) : "n/a", baseName};
    }

    /** The bytes of a Meshwork envelope frame: what the transport carries, and the bare Netty baseline too. */
    static byte[] frame(String topic) {
        return Frame.newBuilder().setEnvelope(Envelope.newBuilder().setTopic(topic)
                .setPayload(ByteString.copyFrom(new byte[PAYLOAD]))).build().toByteArray();
    }

    /** A frame received as bytes, decoded as the node core decodes it (the transport no longer does). */
    static Frame decode(byte[] message) {
        try {
            return Frame.parseFrom(message);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalStateException("undecodable frame in the benchmark", e);
        }
    }

    static WsSettings settings() {
        // the product's default is one event loop per core (0); -Dbench.ws.threads=1 pins one per side
        return new WsSettings(Integer.getInteger("bench.ws.threads", 0), true, 1 << 20, Duration.ofSeconds(5), Duration.ofSeconds(15), Duration.ofSeconds(3),
                Duration.ofSeconds(10), 256 * 1024, 1024 * 1024, false, "meshwork.v1", WsSettings.TlsSettings.NONE, "bench");
    }

    // ------------------------------------------------------------------ server process

    /** Connections the meshwork server process has open. */
    static final AtomicLong OPEN = new AtomicLong();

    static void server(String kind, String[] args) throws Exception {
        PrintWriter out = new PrintWriter(System.out, true);
        if (kind.equals("noise") || kind.equals("netty-tls")) {
            SecureStreamBench.serve(kind, args, out);
        } else if (kind.equals("meshwork")) {
            WsTransportEngine engine = new WsTransportEngine(settings(), Optional::empty, System::nanoTime, InstantSource.system());
            AtomicLong count = new AtomicLong();
            TransportListener listener = engine.listen(URI.create("ws://127.0.0.1:0/mesh"), c -> {
                OPEN.incrementAndGet();
                return new ConnectionHandler() {
                @Override
                public void onMessage(Connection connection, byte[] message) {
                    Frame frame = decode(message);
                    String topic = frame.getEnvelope().getTopic();
                    if (topic.equals("s")) {
                        count.incrementAndGet();
                    } else if (topic.equals("done")) {
                        connection.send(Frame.newBuilder().setEnvelope(Envelope.newBuilder().setTopic(Long.toString(count.getAndSet(0)))).build().toByteArray());
                    } else {
                        connection.send(message);
                    }
                }

                @Override
                public void onClosed(Connection connection, CloseReason reason) {
                    OPEN.decrementAndGet();
                }
            };
            }).get(10, TimeUnit.SECONDS);
            out.println("PORT " + listener.uri().getPort());
        } else {
            boolean echo = kind.equals("netty-echo");
            EventLoopGroup group = new EpollEventLoopGroup(1);
            AtomicLong count = new AtomicLong();
            Channel ch = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel c) {
                            c.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                                    new WebSocketServerProtocolHandler("/bench", null, false, 1 << 20),
                                    new SimpleChannelInboundHandler<WebSocketFrame>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame f) {
                                            if (f instanceof BinaryWebSocketFrame && echo) {
                                                ctx.writeAndFlush(f.retain());
                                            } else if (f instanceof BinaryWebSocketFrame) {
                                                count.incrementAndGet();
                                            } else if (f instanceof TextWebSocketFrame) {
                                                ctx.writeAndFlush(new TextWebSocketFrame(Long.toString(count.getAndSet(0))));
                                            }
                                        }
                                    });
                        }
                    }).bind("127.0.0.1", 0).sync().channel();
            out.println("PORT " + ((java.net.InetSocketAddress) ch.localAddress()).getPort());
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.equals("HEAP")) {
                for (int i = 0; i < 3; i++) {
                    System.gc();
                }
                var heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
                out.println("HEAP " + heap.getUsed());
            } else if (line.equals("OPEN")) {
                out.println("OPEN " + OPEN.get());
            } else if (line.equals("CPU")) {
                out.println("CPU " + ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime());
            }
        }
        System.exit(0);
    }

    /** The server as a child JVM. */
    static final class Child implements AutoCloseable {
        final Process process;
        final BufferedReader reader;
        final PrintWriter writer;
        final int port;
        /** The server's identity key (Base64 X.509), when it has one (the "noise" server). */
        final String key;

        private Child(Process process) throws Exception {
            this.process = process;
            this.reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            this.writer = new PrintWriter(process.getOutputStream(), true);
            String k = null;
            String line;
            while ((line = reader.readLine()) != null && !line.startsWith("PORT ")) {
                if (line.startsWith("KEY ")) {
                    k = line.substring(4).trim();
                }
            }
            if (line == null) {
                throw new IllegalStateException("server ended before PORT");
            }
            this.port = Integer.parseInt(line.substring(5).trim());
            this.key = k;
        }

        /** A server of {@code kind} with {@code args} (the secure kinds: see {@link SecureStreamBench#serve}). */
        static Child start(String kind, String... args) throws Exception {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            String cp = System.getProperty("meshwork.bench.classpath", System.getProperty("java.class.path"));
            List<String> command = new ArrayList<>(List.of(java, "-Xmx2g", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                    "-Dbench.ws.threads=" + Integer.getInteger("bench.ws.threads", 0)));
            // e.g. -Dbench.child.jvm=-XX:StartFlightRecording=filename=server.jfr to profile the server side
            String extra = System.getProperty("bench.child.jvm", "");
            if (!extra.isBlank()) {
                command.addAll(List.of(extra.trim().split("\\s+")));
            }
            command.addAll(List.of("-cp", cp, TransportBench.class.getName(), "server", kind));
            command.addAll(List.of(args));
            Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            return new Child(p);
        }

        String expect(String prefix) throws Exception {
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.startsWith(prefix + " ")) {
                    return line.substring(prefix.length() + 1).trim();
                }
            }
            throw new IllegalStateException("server ended before " + prefix);
        }

        long ask(String command) throws Exception {
            writer.println(command);
            return Long.parseLong(expect(command));
        }

        @Override
        public void close() throws Exception {
            writer.close();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    // ------------------------------------------------------------------ stream

    static double meshworkStream(int port, int count) throws Exception {
        try (WsTransportEngine engine = new WsTransportEngine(settings(), Optional::empty, System::nanoTime, InstantSource.system())) {
            CompletableFuture<Long> done = new CompletableFuture<>();
            Connection c = engine.dial(URI.create("ws://127.0.0.1:" + port + "/mesh"), DialOptions.DEFAULT, new ConnectionHandler() {
                @Override
                public void onMessage(Connection connection, byte[] message) {
                    done.complete(Long.parseLong(decode(message).getEnvelope().getTopic()));
                }

                @Override
                public void onClosed(Connection connection, CloseReason reason) {
                }
            }).get(10, TimeUnit.SECONDS);
            byte[] f = frame("s");
            // warm-up
            sendAll(c, f, count / 5);
            c.send(Frame.newBuilder().setEnvelope(Envelope.newBuilder().setTopic("done")).build().toByteArray());
            done.get(60, TimeUnit.SECONDS);
            CompletableFuture<Long> measured = new CompletableFuture<>();
            Connection c2 = engine.dial(URI.create("ws://127.0.0.1:" + port + "/mesh"), DialOptions.DEFAULT, new ConnectionHandler() {
                @Override
                public void onMessage(Connection connection, byte[] message) {
                    measured.complete(Long.parseLong(decode(message).getEnvelope().getTopic()));
                }

                @Override
                public void onClosed(Connection connection, CloseReason reason) {
                }
            }).get(10, TimeUnit.SECONDS);
            long start = System.nanoTime();
            sendAll(c2, f, count);
            c2.send(Frame.newBuilder().setEnvelope(Envelope.newBuilder().setTopic("done")).build().toByteArray());
            long received = measured.get(120, TimeUnit.SECONDS);
            double seconds = (System.nanoTime() - start) / 1e9;
            if (received != count) {
                PROBLEMS.add("meshwork stream: the server received " + received + " of " + count + " frames");
            }
            return received / seconds;
        }
    }

    private static void sendAll(Connection c, byte[] f, int count) {
        for (int i = 0; i < count; ) {
            if (c.isWritable()) {
                c.send(f);
                i++;
            } else {
                Thread.onSpinWait();
            }
        }
    }

    /** A bare Netty WebSocket client (no Meshwork code) on {@code group}; {@code ready} completes after the upgrade. */
    static Channel nettyClient(EventLoopGroup group, int port, CompletableFuture<Void> ready,
            java.util.function.BiConsumer<ChannelHandlerContext, WebSocketFrame> onFrame) throws InterruptedException {
        return nettyClient(group, URI.create("ws://127.0.0.1:" + port + "/bench"), c -> new io.netty.channel.ChannelHandler[0],
                ready, onFrame);
    }

    /** The bare Netty WebSocket client; {@code front} adds handlers before the HTTP codec (TLS, flush policy). */
    static Channel nettyClient(EventLoopGroup group, URI uri,
            java.util.function.Function<Channel, io.netty.channel.ChannelHandler[]> front, CompletableFuture<Void> ready,
            java.util.function.BiConsumer<ChannelHandlerContext, WebSocketFrame> onFrame) throws InterruptedException {
        int port = uri.getPort();
        return new Bootstrap().group(group).channel(EpollSocketChannel.class)
                .option(io.netty.channel.ChannelOption.TCP_NODELAY, true)
                .option(io.netty.channel.ChannelOption.WRITE_BUFFER_WATER_MARK, new io.netty.channel.WriteBufferWaterMark(256 * 1024, 1024 * 1024))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel c) {
                        c.pipeline().addLast(front.apply(c));
                        c.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(65536),
                                new WebSocketClientProtocolHandler(WebSocketClientHandshakerFactory.newHandshaker(uri,
                                        WebSocketVersion.V13, null, false, new DefaultHttpHeaders(), 1 << 20)),
                                new SimpleChannelInboundHandler<WebSocketFrame>() {
                                    @Override
                                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                        if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
                                            ready.complete(null);
                                        }
                                    }

                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame f) {
                                        onFrame.accept(ctx, f);
                                    }
                                });
                    }
                }).connect("127.0.0.1", port).sync().channel();
    }

    static double nettyStream(int port, int count) throws Exception {
        EventLoopGroup group = new EpollEventLoopGroup(1);
        try {
            CompletableFuture<Long> done = new CompletableFuture<>();
            CompletableFuture<Void> ready = new CompletableFuture<>();
            Channel ch = nettyClient(group, port, ready, (ctx, f) -> {
                if (f instanceof TextWebSocketFrame t) {
                    done.complete(Long.parseLong(t.text()));
                }
            });
            ready.get(10, TimeUnit.SECONDS);
            byte[] payload = frame("s"); // same bytes on the wire as the Meshwork frame
            long start = System.nanoTime();
            for (int i = 0; i < count; ) {
                if (ch.isWritable()) {
                    ch.writeAndFlush(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(payload)), ch.voidPromise());
                    i++;
                } else {
                    Thread.onSpinWait();
                }
            }
            ch.writeAndFlush(new TextWebSocketFrame("done"));
            long received = done.get(120, TimeUnit.SECONDS);
            if (received != count) {
                PROBLEMS.add("bare Netty stream: the server received " + received + " of " + count + " frames");
            }
            return received / ((System.nanoTime() - start) / 1e9);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    // ------------------------------------------------------------------ echo

    /** Closed loop when {@code rate} is 0, else paced at {@code rate} requests/s in total; returns {req/s, p99, p50, p90, p99.9 ms}. */
    static double[] meshworkEcho(int port, int connections, Duration duration, int rate) throws Exception {
        var pacer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        try (WsTransportEngine engine = new WsTransportEngine(settings(), Optional::empty, System::nanoTime, InstantSource.system())) {
            long[][] latencies = new long[connections][Math.max(100_000, 8_000_000 / connections)];
            int[] counts = new int[connections];
            long[] sentAt = new long[connections];
            List<Connection> conns = new ArrayList<>();
            AtomicLong total = new AtomicLong();
            long intervalNanos = rate == 0 ? 0 : (long) (1e9 * connections / rate);
            byte[] f = frame("e");
            long[] end = {Long.MAX_VALUE};
            for (int i = 0; i < connections; i++) {
                int idx = i;
                conns.add(engine.dial(URI.create("ws://127.0.0.1:" + port + "/mesh?c=" + i), DialOptions.DEFAULT, new ConnectionHandler() {
                    @Override
                    public void onMessage(Connection connection, byte[] message) {
                        long now = System.nanoTime();
                        if (counts[idx] < latencies[idx].length) {
                            latencies[idx][counts[idx]++] = now - sentAt[idx];
                        }
                        total.incrementAndGet();
                        if (now >= end[0]) {
                            return;
                        }
                        long next = sentAt[idx] + intervalNanos;
                        if (intervalNanos == 0 || next <= now) {
                            sentAt[idx] = now;
                            connection.send(f);
                        } else {
                            pacer.schedule(() -> {
                                sentAt[idx] = System.nanoTime();
                                connection.send(f);
                            }, next - now, TimeUnit.NANOSECONDS);
                        }
                    }

                    @Override
                    public void onClosed(Connection connection, CloseReason reason) {
                    }
                }).get(10, TimeUnit.SECONDS));
            }
            long start = System.nanoTime();
            end[0] = start + duration.toNanos();
            for (int i = 0; i < connections; i++) {
                sentAt[i] = System.nanoTime();
                conns.get(i).send(f);
            }
            Thread.sleep(duration.toMillis() + 300);
            double seconds = (System.nanoTime() - start) / 1e9;
            long[] all = new long[Arrays.stream(counts).sum()];
            int k = 0;
            for (int i = 0; i < connections; i++) {
                System.arraycopy(latencies[i], 0, all, k, counts[i]);
                k += counts[i];
            }
            Arrays.sort(all);
            double p99 = percentile(all, 0.99);
            return new double[] {total.get() / seconds, p99, percentile(all, 0.5), percentile(all, 0.9), percentile(all, 0.999)};
        } finally {
            pacer.shutdownNow();
        }
    }

    /** {@code TransportBench stream [rounds]}: only the stream part, Meshwork and bare Netty alternating. */
    static void streamOnly(int rounds) throws Exception {
        int count = Integer.getInteger("bench.stream", 1_000_000);
        for (int i = 0; i < rounds; i++) {
            double[] r = streamPair(count);
            System.out.printf("round %d: meshwork %.0f msgs/s, bare Netty %.0f msgs/s, ratio %.2f%n", i + 1, r[0], r[1], r[0] / r[1]);
        }
        System.exit(0);
    }

    /** The stream, Meshwork then bare Netty, each against its own server process; {meshwork, netty} msgs/s. */
    static double[] streamPair(int count) throws Exception {
        double mesh;
        try (Child server = Child.start("meshwork")) {
            mesh = meshworkStream(server.port, count);
        }
        try (Child server = Child.start("netty")) {
            return new double[] {mesh, nettyStream(server.port, count)};
        }
    }

    /** One echo measurement: Meshwork closed-loop and paced ({@link #meshworkEcho}'s arrays), bare Netty and Node.js ws req/s. */
    record EchoRun(double[] closed, double[] paced, double netty, double ws) {
    }

    /** The echo over {@code connections}, Meshwork warmed up first, then bare Netty, then Node.js ws. */
    static EchoRun echo(int connections, Duration d) throws Exception {
        double[] closed;
        double[] paced;
        try (Child server = Child.start("meshwork")) {
            warmUp(server.port, connections);
            closed = meshworkEcho(server.port, connections, d, 0);
            paced = meshworkEcho(server.port, connections, d, 10_000);
        }
        double netty;
        try (Child server = Child.start("netty-echo")) {
            nettyEcho(server.port, connections, Duration.ofSeconds(5));
            netty = nettyEcho(server.port, connections, d);
        }
        return new EchoRun(closed, paced, netty, nodeWsEcho(connections, d));
    }

    /**
     * {@code TransportBench echo [seconds]}: only the echo part, with a bare Netty WebSocket echo
     * (client and server, no Meshwork code, one event loop each) as a second baseline, to tell
     * the cost of Meshwork's own code from what one event-loop thread per side allows.
     */
    static void echoOnly(int seconds, int conns) throws Exception {
        EchoRun run = echo(conns, Duration.ofSeconds(seconds));
        double[] mesh = run.closed();
        double[] paced = run.paced();
        double netty = run.netty();
        double ws = run.ws();
        System.out.printf("%-34s %12s%n", "measure", "value");
        System.out.printf("%-34s %12.0f%n", "meshwork echo N conns, req/s", mesh[0]);
        System.out.printf("%-34s %12.3f%n", "meshwork closed-loop p99, ms", mesh[1]);
        System.out.printf("%-34s %12.3f%n", "meshwork p99 at 10k req/s, ms", paced[1]);
        System.out.printf("%-34s %12s%n", "  p50 / p90 / p99.9 at 10k, ms", String.format("%.3f / %.3f / %.3f", paced[2], paced[3], paced[4]));
        System.out.printf("%-34s %12.0f%n", "meshwork achieved paced req/s", paced[0]);
        System.out.printf("%-34s %12.0f%n", "bare Netty echo N conns, req/s", netty);
        System.out.printf("%-34s %12.0f%n", "Node.js ws echo N conns, req/s", ws);
        System.out.printf("RESULT transport-echo echo_msgs_per_s=%.0f netty_echo=%.0f ws_echo=%.0f echo_vs_ws=%.2f echo_vs_netty=%.2f echo_p99_ms=%.3f%n",
                mesh[0], netty, ws, mesh[0] / ws, mesh[0] / netty, paced[1]);
        System.exit(0);
    }

    /**
     * Runs the closed-loop echo until two runs in a row agree within 10% (at most six runs of 3 s):
     * both JVMs need C2-compiled code before a figure means anything, and on two loaded cores that
     * takes about ten seconds (the first run costs ten times the CPU per request of a warm one). The
     * Node.js side gets the same chance: its client warms up before it measures.
     */
    static void warmUp(int port, int connections) throws Exception {
        double previous = 0;
        for (int i = 0; i < 6; i++) {
            double rate = meshworkEcho(port, connections, Duration.ofSeconds(3), 0)[0];
            System.err.printf("echo warm-up %d: %.0f req/s%n", i + 1, rate);
            if (previous > 0 && Math.abs(rate - previous) <= 0.1 * previous) {
                return;
            }
            previous = rate;
        }
    }

    /** Bare Netty closed-loop echo over {@code connections} WebSocket connections; returns req/s. */
    static double nettyEcho(int port, int connections, Duration duration) throws Exception {
        EventLoopGroup group = new EpollEventLoopGroup(1);
        try {
            AtomicLong total = new AtomicLong();
            long[] end = {Long.MAX_VALUE};
            byte[] payload = frame("e");
            List<Channel> channels = new ArrayList<>();
            List<CompletableFuture<Void>> readies = new ArrayList<>();
            for (int i = 0; i < connections; i++) {
                CompletableFuture<Void> ready = new CompletableFuture<>();
                readies.add(ready);
                channels.add(nettyClient(group, port, ready, (ctx, f) -> {
                    total.incrementAndGet();
                    if (System.nanoTime() < end[0]) {
                        ctx.writeAndFlush(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(payload)), ctx.voidPromise());
                    }
                }));
            }
            CompletableFuture.allOf(readies.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
            long start = System.nanoTime();
            end[0] = start + duration.toNanos();
            for (Channel ch : channels) {
                ch.writeAndFlush(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(payload)), ch.voidPromise());
            }
            Thread.sleep(duration.toMillis() + 300);
            return total.get() / ((System.nanoTime() - start) / 1e9);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    private static double percentile(long[] sorted, double q) {
        return sorted.length == 0 ? Double.NaN : sorted[(int) (sorted.length * q)] / 1e6;
    }

    static double nodeWsEcho(int connections, Duration duration) throws Exception {
        Path modules = nodeWs();
        if (modules == null) {
            return 0;
        }
        Path dir = Files.createTempDirectory("ws-bench");
        Files.writeString(dir.resolve("server.cjs"), """
                const { WebSocketServer } = require('ws');
                const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
                wss.on('listening', () => console.log('PORT ' + wss.address().port));
                wss.on('connection', (ws) => ws.on('message', (d) => ws.send(d, { binary: true })));
                """);
        Files.writeString(dir.resolve("client.cjs"), """
                const WebSocket = require('ws');
                const [port, n, ms, warm] = process.argv.slice(2).map(Number);
                const payload = Buffer.alloc(%d);
                const clients = [];
                let total = 0, open = 0, end = 0;
                function start() {
                  end = Date.now() + warm + ms;
                  clients.forEach((c) => c.send(payload));
                  // measure only after the warm-up, as for the Java side
                  setTimeout(() => {
                    total = 0; const t0 = Date.now();
                    setTimeout(() => { console.log('RATE ' + (total / ((Date.now() - t0) / 1000))); process.exit(0); }, ms);
                  }, warm);
                }
                for (let i = 0; i < n; i++) {
                  const ws = new WebSocket('ws://127.0.0.1:' + port + '/');
                  ws.on('open', () => { if (++open === n) start(); });
                  ws.on('message', () => { total++; if (Date.now() < end) ws.send(payload); });
                  clients.push(ws);
                }
                """.formatted(PAYLOAD + 8));
        ProcessBuilder sb = new ProcessBuilder("node", dir.resolve("server.cjs").toString());
        sb.environment().put("NODE_PATH", modules.toString());
        Process server = sb.redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            BufferedReader r = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            String port = r.readLine().substring(5).trim();
            ProcessBuilder cb = new ProcessBuilder("node", dir.resolve("client.cjs").toString(), port, String.valueOf(connections),
                    String.valueOf(duration.toMillis()), "10000");
            cb.environment().put("NODE_PATH", modules.toString());
            Process client = cb.redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader cr = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = cr.readLine()) != null) {
                if (line.startsWith("RATE ")) {
                    return Double.parseDouble(line.substring(5));
                }
            }
            return 0;
        } finally {
            server.destroy();
        }
    }

    /** The version the transport-ws interop tests use. */
    static final String WS_VERSION = "8.23.0";

    /**
     * The node_modules holding Node.js {@code ws}: the transport-ws tests' copy when they ran, else
     * installed here with npm into benchmarks/target/node (as those tests do); null, with a problem
     * recorded, when neither works.
     */
    static Path nodeWs() throws Exception {
        Path tests = Path.of("transport-ws", "target", "node", "node_modules").toAbsolutePath();
        if (Files.exists(tests.resolve("ws").resolve("package.json"))) {
            return tests;
        }
        Path prefix = Path.of("benchmarks", "target", "node").toAbsolutePath();
        Path modules = prefix.resolve("node_modules");
        if (!Files.exists(modules.resolve("ws").resolve("package.json"))) {
            Files.createDirectories(prefix);
            System.err.println("installing Node.js ws " + WS_VERSION + " into " + prefix);
            Process npm = new ProcessBuilder("npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix",
                    prefix.toString(), "ws@" + WS_VERSION).redirectErrorStream(true).start();
            String output = new String(npm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!npm.waitFor(180, TimeUnit.SECONDS) || npm.exitValue() != 0) {
                PROBLEMS.add("npm install ws@" + WS_VERSION + " failed: " + output.strip());
                return null;
            }
        }
        return modules;
    }

    // ------------------------------------------------------------------ idle

    /**
     * {@code TransportBench idle [N]}: only the idle part. With {@code -Dbench.idle.baseline.classpath=CP}
     * it measures, in the same run, a server process started from that class path (e.g. an earlier
     * build of transport-ws) before the current one, and prints the ratio.
     */
    static void idleOnly(int n) throws Exception {
        String baselineCp = System.getProperty("bench.idle.baseline.classpath");
        double[] base = null;
        if (baselineCp != null) {
            String own = System.getProperty("meshwork.bench.classpath");
            System.setProperty("meshwork.bench.classpath", baselineCp);
            try (Child server = Child.start("meshwork")) {
                base = idle(server, n);
            } finally {
                if (own == null) {
                    System.clearProperty("meshwork.bench.classpath");
                } else {
                    System.setProperty("meshwork.bench.classpath", own);
                }
            }
        }
        double[] now;
        try (Child server = Child.start("meshwork")) {
            now = idle(server, n);
        }
        System.out.printf("%-28s %14s %14s %8s%n", "measure", "meshwork", "baseline", "ratio");
        System.out.printf("%-28s %14.1f %14s %8s%n", "idle heap per conn, KiB", now[0],
                base == null ? "n/a" : String.format("%.1f", base[0]), base == null ? "n/a" : String.format("%.2f", now[0] / base[0]));
        System.out.printf("%-28s %14.2f %14s %8s%n", "idle CPU (" + n + " conns), %", now[1],
                base == null ? "n/a" : String.format("%.2f", base[1]), base == null ? "n/a" : String.format("%.2f", now[1] / base[1]));
        System.out.printf("RESULT transport-idle idle_heap_kib_per_conn=%.1f idle_cpu_pct=%.2f baseline_idle_cpu_pct=%s%n",
                now[0], now[1], base == null ? "n/a" : String.format("%.2f", base[1]));
        System.exit(0);
    }

    /** Opens {@code n} connections to the server process and measures its heap and CPU; returns {KiB/conn, CPU %}. */
    static double[] idle(Child server, int n) throws Exception {
        long heapBefore = server.ask("HEAP");
        try (WsTransportEngine engine = new WsTransportEngine(settings(), Optional::empty, System::nanoTime, InstantSource.system())) {
            List<CompletableFuture<Connection>> dials = new ArrayList<>();
            java.util.Map<String, Integer> closeReasons = new java.util.concurrent.ConcurrentHashMap<>();
            ConnectionHandler quiet = new ConnectionHandler() {
                @Override
                public void onMessage(Connection connection, byte[] message) {
                }

                @Override
                public void onClosed(Connection connection, CloseReason reason) {
                    closeReasons.merge(reason.kind() + " " + reason.code() + " " + reason.text(), 1, Integer::sum);
                }
            };
            for (int i = 0; i < n; i++) {
                // distinct URLs (query) so the dials are not shared
                dials.add(engine.dial(URI.create("ws://127.0.0.1:" + server.port + "/mesh?c=" + i), DialOptions.DEFAULT, quiet));
                if (i % 200 == 199) {
                    CompletableFuture.allOf(dials.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
                }
            }
            CompletableFuture.allOf(dials.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            long heapAfter = server.ask("HEAP");
            // settle first: the seconds right after 5,000 handshakes are JIT and GC work, not idling
            // (0 and 10,000 reproduce the earlier method, which measured from the last handshake)
            Thread.sleep(Long.getLong("bench.idle.settle.ms", 20_000));
            long cpu0 = server.ask("CPU");
            long t0 = System.nanoTime();
            Thread.sleep(Long.getLong("bench.idle.measure.ms", 20_000));
            long cpu1 = server.ask("CPU");
            double cpuPct = 100.0 * (cpu1 - cpu0) / (System.nanoTime() - t0);
            long clientOpen = dials.stream().filter(d -> d.join().isOpen()).count();
            // a figure from dead connections would be meaningless: say how many were alive
            System.err.printf("idle: %d of %d connections open at the end (server side %d); closes seen by the client: %s%n",
                    clientOpen, n, server.ask("OPEN"), closeReasons);
            return new double[] {(heapAfter - heapBefore) / 1024.0 / n, cpuPct};
        }
    }
}
