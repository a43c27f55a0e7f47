package dev.meshwork.bench;

import com.google.protobuf.ByteString;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.transport.Connection;
import dev.meshwork.api.transport.DialOptions;
import dev.meshwork.api.transport.TransportListener;
import dev.meshwork.api.wire.Envelope;
import dev.meshwork.api.wire.Frame;
import dev.meshwork.bench.TransportBench.Child;
import dev.meshwork.transport.multichannel.internal.Ed25519Identity;
import dev.meshwork.api.wire.Neighbours;
import dev.meshwork.api.wire.WireConstants;
import dev.meshwork.transport.multichannel.internal.secure.FrameProtection;
import dev.meshwork.transport.multichannel.internal.secure.HandshakePayloads;
import dev.meshwork.transport.multichannel.internal.secure.HandshakePayloads.PeerIdentity;
import dev.meshwork.transport.multichannel.internal.secure.IdentityBindings;
import dev.meshwork.transport.multichannel.internal.secure.LocalCertificate;
import dev.meshwork.transport.multichannel.internal.secure.NoiseHandshake;
import dev.meshwork.transport.multichannel.internal.secure.TrustPolicy;
import java.util.Set;
import dev.meshwork.transport.ws.internal.WsTransportEngine;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The secure parts of {@code ./bench transport}: the stream with the secure channel on (transport-ws
 * connections carrying frames protected by the node core's Noise channel, {@link SecureLink})
 * against bare Netty WebSocket over TLS 1.3 ({@link NettyTls}), and the handshake's latency and cost.
 *
 * <p>Fairness: both sides send the same frame bytes (a 256-byte-payload envelope, each with its
 * sequence number in the payload), from one sending thread, over one connection to a server child
 * JVM; both get the same warm-up (a first connection carrying a fifth of the count, then the
 * measured connection), {@code FlushConsolidationHandler(256, true)} in the pipeline, and the same
 * number of event-loop threads per process. Both receivers count every frame and check its
 * sequence number; the run is invalid otherwise.
 */
final class SecureStreamBench {

    static final NodeId CLIENT = NodeId.of("bench-client");
    static final NodeId SERVER = NodeId.of("bench-server");

    private SecureStreamBench() {
    }

    /** The frame the stream sends (topic "s", a 256-byte payload) and where in its bytes the payload's first 8 bytes are. */
    record Template(byte[] bytes, int seqOffset) {
        static Template create() {
            byte[] payload = new byte[TransportBench.PAYLOAD];
            byte[] marker = "SEQMARK!".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            System.arraycopy(marker, 0, payload, 0, marker.length);
            byte[] bytes = Frame.newBuilder().setEnvelope(Envelope.newBuilder().setTopic("s")
                    .setPayload(ByteString.copyFrom(payload))).build().toByteArray();
            for (int i = 0; i + marker.length <= bytes.length; i++) {
                if (Arrays.equals(bytes, i, i + marker.length, marker, 0, marker.length)) {
                    return new Template(bytes, i);
                }
            }
            throw new IllegalStateException("payload not found in the frame bytes");
        }
    }

    /** Event-loop threads per process on both sides: the transport's setting (0 = one per core). */
    static int threads() {
        int t = Integer.getInteger("bench.ws.threads", 0);
        return t > 0 ? t : Runtime.getRuntime().availableProcessors();
    }

    // ------------------------------------------------------------------ server side (child JVM)

    /** Starts the server of {@code kind} ("noise" or "netty-tls") in the child process and prints its PORT (and KEY). */
    static void serve(String kind, String[] args, PrintWriter out) throws Exception {
        if (kind.equals("noise")) {
            PublicKey clientKey = Ed25519Identity.parsePublicKey(args[0]);
            Ed25519Identity identity = Ed25519Identity.ephemeral(SERVER);
            LocalCertificate cert = new LocalCertificate(identity);
            WsTransportEngine engine = new WsTransportEngine(TransportBench.settings(), Optional::empty, System::nanoTime,
                    InstantSource.system());
            TransportListener listener = engine.listen(URI.create("ws://127.0.0.1:0/mesh"), c -> {
                Checker checker = new Checker();
                return SecureLink.responder(cert, clientKey, (link, frame) -> {
                    String topic = frame.getEnvelope().getTopic();
                    if (topic.equals("s")) {
                        checker.check(frame.getEnvelope().getPayload());
                    } else if (topic.equals("done")) {
                        link.send(Frame.newBuilder().setEnvelope(Envelope.newBuilder().setTopic(checker.report()))
                                .build().toByteArray());
                    }
                });
            }).get(10, TimeUnit.SECONDS);
            out.println("KEY " + identity.publicKeyBase64());
            out.println("PORT " + listener.uri().getPort());
        } else {
            out.println("PORT " + NettyTls.server(Path.of(args[0]), threads(), Template.create()));
        }
    }

    /** Counts a connection's stream frames and checks each one's sequence number and size. */
    static final class Checker {
        private long count;
        private long errors;
        private String firstError = "";

        void check(ByteString payload) {
            long seq = payload.size() >= 8 ? payload.asReadOnlyByteBuffer().getLong() : -1;
            check(seq, payload.size() == TransportBench.PAYLOAD);
        }

        void check(long seq, boolean sizeOk) {
            if (seq != count || !sizeOk) {
                if (errors++ == 0) {
                    firstError = "frame " + count + " carried sequence " + seq + (sizeOk ? "" : " with a wrong size");
                }
            }
            count++;
        }

        /** "COUNT ERRORS FIRST-ERROR", and starts over. */
        String report() {
            String r = count + " " + errors + " " + firstError.replace(' ', '_');
            count = 0;
            errors = 0;
            firstError = "";
            return r;
        }
    }

    /** What a stream's server reported; {@code problem} is null when every frame arrived in order. */
    record Received(long count, long errors, String firstError) {
        static Received parse(String report) {
            String[] p = report.split(" ", 3);
            return new Received(Long.parseLong(p[0]), Long.parseLong(p[1]), p.length > 2 ? p[2].replace('_', ' ') : "");
        }

        String problem(long sent) {
            if (count != sent) {
                return "received " + count + " of " + sent + " frames";
            }
            return errors == 0 ? null : errors + " frames out of order or altered (first: " + firstError + ")";
        }
    }

    // ------------------------------------------------------------------ stream

    /** One side's stream: msgs/s of the measured connection; {@code problem} names a failed check. */
    record Stream(double msgsPerSecond, String problem, String detail) {
    }

    /** Meshwork with the secure channel on: a warm-up connection then the measured one, against the "noise" server. */
    static Stream meshwork(Child server, PublicKey serverKey, LocalCertificate cert, int count) throws Exception {
        try (WsTransportEngine engine = new WsTransportEngine(TransportBench.settings(), Optional::empty, System::nanoTime,
                InstantSource.system())) {
            Template t = Template.create();
            Stream warm = meshworkOnce(engine, server.port, serverKey, cert, t, count / 5);
            if (warm.problem() != null) {
                return warm;
            }
            return meshworkOnce(engine, server.port, serverKey, cert, t, count);
        }
    }

    private static Stream meshworkOnce(WsTransportEngine engine, int port, PublicKey serverKey, LocalCertificate cert,
            Template t, int count) throws Exception {
        CompletableFuture<String> done = new CompletableFuture<>();
        SecureLink link = SecureLink.initiator(cert, SERVER, serverKey, (l, frame) -> done.complete(frame.getEnvelope().getTopic()));
        Connection c = engine.dial(URI.create("ws://127.0.0.1:" + port + "/mesh"), DialOptions.DEFAULT, link).get(10, TimeUnit.SECONDS);
        link.begin(c);
        link.authenticated.get(10, TimeUnit.SECONDS);
        byte[] scratch = t.bytes().clone();
        ByteBuffer seq = ByteBuffer.wrap(scratch);
        long start = System.nanoTime();
        for (int i = 0; i < count; ) {
            if (link.isWritable()) {
                seq.putLong(t.seqOffset(), i);
                link.send(scratch); // sealed (copied) before it returns
                i++;
            } else {
                Thread.onSpinWait();
            }
        }
        link.send(Frame.newBuilder().setEnvelope(Envelope.newBuilder().setTopic("done")).build().toByteArray());
        Received r = Received.parse(done.get(120, TimeUnit.SECONDS));
        double rate = r.count() / ((System.nanoTime() - start) / 1e9);
        c.close(1000, "done");
        return new Stream(rate, r.problem(count), "Noise_XX_25519_ChaChaPoly_SHA256 over ws");
    }

    /** Bare Netty over TLS 1.3: a warm-up connection then the measured one, against the "netty-tls" server. */
    static Stream nettyTls(Child server, int count) throws Exception {
        Template t = Template.create();
        Stream warm = NettyTls.stream(server.port, threads(), t, count / 5);
        if (warm.problem() != null) {
            return warm;
        }
        return NettyTls.stream(server.port, threads(), t, count);
    }

    /** The pair, Meshwork first then bare Netty, each against its own server child. */
    static Stream[] streamPair(int count) throws Exception {
        Ed25519Identity identity = Ed25519Identity.ephemeral(CLIENT);
        LocalCertificate cert = new LocalCertificate(identity);
        Stream mesh;
        try (Child server = Child.start("noise", identity.publicKeyBase64())) {
            mesh = meshwork(server, Ed25519Identity.parsePublicKey(server.key), cert, count);
        }
        Path keyStore = NettyTls.keyStore();
        try (Child server = Child.start("netty-tls", keyStore.toString())) {
            return new Stream[] {mesh, nettyTls(server, count)};
        }
    }

    /** The secure parts of one run. */
    record Run(Stream mesh, Stream tls, int frameBytes, Handshakes handshakes, double handshakesPerCpuSecond) {

        double ratio() {
            return mesh.msgsPerSecond() / tls.msgsPerSecond();
        }

        /** Table rows in {@link TransportBench}'s format: measure, Meshwork, baseline, ratio, baseline is. */
        List<String[]> rows() {
            double mb = frameBytes / 1e6;
            return List.of(
                    new String[] {"stream encrypted, msgs/s", fmt(mesh.msgsPerSecond(), 0), fmt(tls.msgsPerSecond(), 0),
                            fmt(ratio(), 2), "bare Netty wss TLS 1.3"},
                    new String[] {"stream encrypted, MB/s", fmt(mesh.msgsPerSecond() * mb, 1), fmt(tls.msgsPerSecond() * mb, 1),
                            fmt(ratio(), 2), frameBytes + "-byte frames"},
                    new String[] {"  cipher", "ChaChaPoly", tls.detail().replace(" (JDK provider)", ""), "", "JDK provider"},
                    new String[] {"handshake p50 / p99, ms", fmt(handshakes.p50Ms(), 3) + " / " + fmt(handshakes.p99Ms(), 3), "", "",
                            "dial to authenticated link"},
                    new String[] {"  of which Noise p50, ms", fmt(handshakes.noiseP50Ms(), 3), "", "", "after the ws upgrade"},
                    new String[] {"  CPU per handshake, µs", fmt(handshakes.cpuMicrosBothSides(), 0), "", "",
                            "both processes, loopback"},
                    new String[] {"handshakes/s per core", fmt(handshakesPerCpuSecond, 0), "", "",
                            "in memory, both sides, 1 thread"});
        }

        String resultKeys() {
            return String.format("vs_netty_tls=%.2f handshake_p50_ms=%.3f handshakes_per_s=%.0f handshake_p99_ms=%.3f"
                    + " secure_stream_msgs_per_s=%.0f netty_tls_msgs_per_s=%.0f",
                    ratio(), handshakes.p50Ms(), handshakesPerCpuSecond, handshakes.p99Ms(), mesh.msgsPerSecond(), tls.msgsPerSecond());
        }
    }

    private static String fmt(double v, int decimals) {
        return String.format("%." + decimals + "f", v);
    }

    /** Runs the secure stream pair, the loopback handshakes and the in-memory handshake loop; failed checks go to {@link TransportBench#PROBLEMS}. */
    static Run run(int count) throws Exception {
        Stream[] pair = streamPair(count);
        for (Stream s : pair) {
            if (s.problem() != null) {
                TransportBench.PROBLEMS.add("secure stream (" + s.detail() + "): " + s.problem());
            }
        }
        System.err.printf("secure stream: meshwork %.0f msgs/s, bare Netty %s %.0f msgs/s%n", pair[0].msgsPerSecond(),
                pair[1].detail(), pair[1].msgsPerSecond());
        Handshakes hs = handshakes(Integer.getInteger("bench.handshakes", 1000));
        double perCpu = inMemoryHandshakesPerCpuSecond(Duration.ofSeconds(5));
        return new Run(pair[0], pair[1], Template.create().bytes().length, hs, perCpu);
    }

    /** {@code ./bench transport secure [ROUNDS]}: only the secure parts; a RESULT line "transport-secure" when every check passed. */
    static void secureOnly(int rounds) throws Exception {
        int count = Integer.getInteger("bench.stream", 1_000_000);
        Run last = null;
        for (int i = 0; i < rounds; i++) {
            last = run(count);
            System.out.printf("%-28s %14s %14s %8s  %s%n", "measure", "meshwork", "baseline", "ratio", "baseline is");
            for (String[] r : last.rows()) {
                System.out.printf("%-28s %14s %14s %8s  %s%n", (Object[]) r);
            }
        }
        if (!TransportBench.PROBLEMS.isEmpty()) {
            System.err.println("INVALID RUN, no RESULT line: " + String.join("; ", TransportBench.PROBLEMS));
            System.exit(1);
        }
        System.out.println("RESULT transport-secure " + last.resultKeys());
        System.exit(0);
    }

    // ------------------------------------------------------------------ handshake

    /** Loopback handshakes: p50 and p99 ms from dial to authenticated link, and CPU µs per handshake of both processes. */
    record Handshakes(double p50Ms, double p99Ms, double noiseP50Ms, double cpuMicrosBothSides, int count) {
    }

    /**
     * {@code n} handshakes one after another (after {@code n / 5} to warm up), each on a new
     * transport-ws connection: from {@code dial} (TCP connect, WebSocket upgrade) to the link
     * authenticated (Noise XX, certificates verified, trust decided, the responder's verdict read).
     */
    static Handshakes handshakes(int n) throws Exception {
        Ed25519Identity identity = Ed25519Identity.ephemeral(CLIENT);
        LocalCertificate cert = new LocalCertificate(identity);
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        try (Child server = Child.start("noise", identity.publicKeyBase64());
                WsTransportEngine engine = new WsTransportEngine(TransportBench.settings(), Optional::empty, System::nanoTime,
                        InstantSource.system())) {
            PublicKey serverKey = Ed25519Identity.parsePublicKey(server.key);
            URI uri = URI.create("ws://127.0.0.1:" + server.port + "/mesh");
            long[] total = new long[n];
            long[] noise = new long[n];
            long cpu0 = 0;
            long serverCpu0 = 0;
            for (int i = -n / 5; i < n; i++) {
                if (i == 0) {
                    cpu0 = os.getProcessCpuTime();
                    serverCpu0 = server.ask("CPU");
                }
                long t0 = System.nanoTime();
                SecureLink link = SecureLink.initiator(cert, SERVER, serverKey, (l, f) -> { });
                Connection c = engine.dial(uri, DialOptions.DEFAULT, link).get(10, TimeUnit.SECONDS);
                long t1 = System.nanoTime();
                link.begin(c);
                link.authenticated.get(10, TimeUnit.SECONDS);
                long t2 = System.nanoTime();
                if (i >= 0) {
                    total[i] = t2 - t0;
                    noise[i] = t2 - t1;
                }
                c.close(1000, "done");
            }
            long cpu = os.getProcessCpuTime() - cpu0 + server.ask("CPU") - serverCpu0;
            Arrays.sort(total);
            Arrays.sort(noise);
            return new Handshakes(total[n / 2] / 1e6, total[(int) (n * 0.99)] / 1e6, noise[n / 2] / 1e6, cpu / 1e3 / n, n);
        }
    }

    /**
     * Handshakes per CPU-second in one thread: both sides' complete handshake in memory (three
     * Noise messages, both certificates verified, both trust decisions, split, the verdict frame
     * sealed and opened) — no transport — timed by the thread's CPU clock.
     */
    static double inMemoryHandshakesPerCpuSecond(Duration duration) throws Exception {
        Ed25519Identity a = Ed25519Identity.ephemeral(CLIENT);
        Ed25519Identity b = Ed25519Identity.ephemeral(SERVER);
        LocalCertificate ca = new LocalCertificate(a);
        LocalCertificate cb = new LocalCertificate(b);
        var threads = ManagementFactory.getThreadMXBean();
        runInMemory(ca, cb, a.publicKey(), b.publicKey(), 500); // warm-up
        long cpu0 = threads.getCurrentThreadCpuTime();
        long wall0 = System.nanoTime();
        long done = 0;
        while (System.nanoTime() - wall0 < duration.toNanos()) {
            runInMemory(ca, cb, a.publicKey(), b.publicKey(), 100);
            done += 100;
        }
        return done / ((threads.getCurrentThreadCpuTime() - cpu0) / 1e9);
    }

    private static void runInMemory(LocalCertificate ca, LocalCertificate cb, PublicKey ka, PublicKey kb, int n)
            throws Exception {
        TrustPolicy trustA = new TrustPolicy(CLIENT, ka, IdentityBindings.inMemory());
        TrustPolicy trustB = new TrustPolicy(SERVER, kb, IdentityBindings.inMemory());
        byte[] verdict = Frame.newBuilder().setNeighbours(Neighbours.newBuilder().setVersion(1)).build().toByteArray();
        for (int i = 0; i < n; i++) {
            NoiseHandshake init = ca.initiator();
            NoiseHandshake resp = cb.responder();
            resp.read(init.write(new byte[0]));
            PeerIdentity server = HandshakePayloads.verify(init.read(resp.write(cb.payload(Optional.empty()))), init.remoteStaticKey());
            accept(trustA.decide(server.node(), server.identityKey(), Optional.of(kb), Set.of()));
            byte[] third = init.write(ca.payload(Optional.of(SERVER)));
            FrameProtection client = init.split(WireConstants.DEFAULT_MAX_FRAME_BYTES);
            PeerIdentity peer = HandshakePayloads.verify(resp.read(third), resp.remoteStaticKey());
            accept(trustB.decide(peer.node(), peer.identityKey(), Optional.of(ka), Set.of()));
            FrameProtection srv = resp.split(WireConstants.DEFAULT_MAX_FRAME_BYTES);
            if (!Frame.parseFrom(client.open(srv.seal(verdict).get(0))).hasNeighbours()) {
                throw new IllegalStateException("in-memory handshake: no verdict");
            }
        }
    }

    private static void accept(TrustPolicy.Decision d) {
        if (!d.accepted()) {
            throw new IllegalStateException("in-memory handshake refused: " + d.reason());
        }
    }
}
