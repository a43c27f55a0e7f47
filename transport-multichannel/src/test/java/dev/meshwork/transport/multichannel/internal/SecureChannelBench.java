package dev.meshwork.transport.multichannel.internal;

import dev.meshwork.api.NodeId;
import dev.meshwork.api.router.PeerConfig;
import dev.meshwork.api.router.PeerEvent;
import dev.meshwork.transport.multichannel.internal.secure.FrameProtection;
import dev.meshwork.transport.multichannel.internal.secure.HandshakePayloads;
import dev.meshwork.transport.multichannel.internal.secure.LocalCertificate;
import dev.meshwork.transport.multichannel.internal.secure.NoiseHandshake;
import java.net.URI;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Figures of the secure channel, not a test (a benchmark prints, it never asserts): handshake
 * latency from dial to authenticated link on loopback, handshakes per second on one core, and
 * encrypt+decrypt throughput of 1 KiB frames. Run with the module's test classpath:
 * {@code java -cp ... dev.meshwork.transport.multichannel.internal.SecureChannelBench}.
 */
public final class SecureChannelBench {

    private SecureChannelBench() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 400;
        strangerMemory(2_000);
        cpuHandshakes(2_000);
        cpuHandshakes(3_000);
        frames(200_000);
        frames(400_000);
        loopback(rounds);
    }

    /**
     * Heap held by handshakes that stopped half-way (the responder's state while it waits for
     * message 3, the most a stranger makes it keep), after GC; the session object and its timeout
     * task come on top (a few hundred bytes).
     */
    private static void strangerMemory(int n) throws Exception {
        LocalCertificate local = new LocalCertificate(Ed25519Identity.ephemeral(NodeId.of("b")));
        byte[] m1 = new LocalCertificate(Ed25519Identity.ephemeral(NodeId.of("a"))).initiator().write(new byte[0]);
        List<NoiseHandshake> held = new ArrayList<>();
        long before = usedAfterGc();
        for (int i = 0; i < n; i++) {
            NoiseHandshake h = local.responder();
            h.read(m1);
            h.write(local.payload(Optional.empty()));
            held.add(h);
        }
        long after = usedAfterGc();
        System.out.printf("memory: %d responders waiting for message 3 hold %.0f bytes each (after GC)%n", held.size(),
                (after - before) / (double) held.size());
    }

    private static long usedAfterGc() throws InterruptedException {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return rt.totalMemory() - rt.freeMemory();
    }

    /** Both sides of complete handshakes (with certificates) in one thread: the cost per core. */
    private static void cpuHandshakes(int n) throws Exception {
        LocalCertificate alpha = new LocalCertificate(Ed25519Identity.ephemeral(NodeId.of("alpha")));
        LocalCertificate beta = new LocalCertificate(Ed25519Identity.ephemeral(NodeId.of("beta")));
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            NoiseHandshake in = alpha.initiator();
            NoiseHandshake re = beta.responder();
            re.read(in.write(new byte[0]));
            HandshakePayloads.verify(in.read(re.write(beta.payload(Optional.empty()))), in.remoteStaticKey());
            HandshakePayloads.verify(re.read(in.write(alpha.payload(Optional.of(NodeId.of("beta"))))), re.remoteStaticKey());
            in.split(1 << 20);
            re.split(1 << 20);
        }
        double s = (System.nanoTime() - start) / 1e9;
        System.out.printf("cpu: %d handshakes (both sides) in %.2f s on one thread: %.0f handshakes/s per core "
                + "(%.0f sides/s)%n", n, s, n / s, 2 * n / s);
    }

    private static void frames(int n) throws Exception {
        NoiseHandshake in = new LocalCertificate(Ed25519Identity.ephemeral(NodeId.of("a"))).initiator();
        NoiseHandshake re = new LocalCertificate(Ed25519Identity.ephemeral(NodeId.of("b"))).responder();
        re.read(in.write(new byte[0]));
        in.read(re.write(new byte[0]));
        re.read(in.write(new byte[0]));
        FrameProtection tx = in.split(1 << 20);
        FrameProtection rx = re.split(1 << 20);
        byte[] frame = new byte[1024];
        ThreadLocalRandom.current().nextBytes(frame);
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            rx.open(tx.seal(frame).get(0));
        }
        double s = (System.nanoTime() - start) / 1e9;
        System.out.printf("frames: %d x 1 KiB sealed and opened in %.2f s on one thread: %.0f frames/s, %.1f MiB/s%n",
                n, s, n / s, n * 1024.0 / s / (1 << 20));
    }

    /** Dial to PEER_UP over the real-socket test transport, one link at a time. */
    private static void loopback(int rounds) throws Exception {
        Ed25519Identity a = Ed25519Identity.ephemeral(NodeId.of("alpha"));
        Ed25519Identity b = Ed25519Identity.ephemeral(NodeId.of("beta"));
        List<AutoCloseable> closing = new ArrayList<>();
        MeshCore alpha = core(a, closing);
        MeshCore beta = core(b, closing);
        URI url = beta.listen(URI.create("tcp://127.0.0.1:0/mesh")).join();
        beta.addPeer(new PeerConfig(a.nodeId(), "alpha", List.of(URI.create("tcp://127.0.0.1:1/none")),
                Optional.of(a.publicKeyBase64())));
        LinkedBlockingQueue<Long> up = new LinkedBlockingQueue<>();
        alpha.addListener(e -> {
            if (e.type() == PeerEvent.Type.PEER_UP) {
                up.add(System.nanoTime());
            }
        });
        List<Long> nanos = new ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            long start = System.nanoTime();
            alpha.addPeer(new PeerConfig(b.nodeId(), "beta", List.of(url), Optional.of(b.publicKeyBase64())));
            Long at = up.poll(10, TimeUnit.SECONDS);
            if (at == null) {
                throw new IllegalStateException("no link after 10 s in round " + i);
            }
            if (i >= rounds / 4) {
                nanos.add(at - start);
            }
            alpha.removePeer(b.nodeId());
        }
        Collections.sort(nanos);
        System.out.printf("loopback: dial to authenticated link (PEER_UP), %d rounds after %d warm-up: "
                + "median %.2f ms, p99 %.2f ms, max %.2f ms%n", nanos.size(), rounds - nanos.size(),
                nanos.get(nanos.size() / 2) / 1e6, nanos.get((int) (nanos.size() * 0.99)) / 1e6,
                nanos.get(nanos.size() - 1) / 1e6);
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    private static MeshCore core(Ed25519Identity id, List<AutoCloseable> closing) {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        ExecutorService callbacks = Executors.newCachedThreadPool();
        TcpTestTransport transport = new TcpTestTransport();
        MeshCore core = new MeshCore(id, RouterSettings.DEFAULTS.withTrustedKeys(Set.of()), System::nanoTime,
                InstantSource.system(), scheduler, callbacks, () -> ThreadLocalRandom.current().nextDouble());
        core.addTransport(transport, List.of("tcp"));
        core.start();
        closing.add(() -> {
            core.close();
            transport.shutdown();
            scheduler.shutdownNow();
            callbacks.shutdownNow();
        });
        return core;
    }
}
