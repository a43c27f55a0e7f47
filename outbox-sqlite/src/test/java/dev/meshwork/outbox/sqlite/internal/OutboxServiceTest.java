package dev.meshwork.outbox.sqlite.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.meshwork.api.FailureCode;
import dev.meshwork.api.MeshworkException;
import dev.meshwork.api.NodeId;
import dev.meshwork.api.PermanentException;
import dev.meshwork.api.RetryableException;
import dev.meshwork.api.outbox.OutboxMessage;
import dev.meshwork.api.outbox.OutboxReceipt;
import dev.meshwork.api.outbox.OutboxRequest;
import dev.meshwork.api.outbox.OutboxState;
import dev.meshwork.api.outbox.OutboxStats;
import dev.meshwork.outbox.sqlite.internal.store.Database;
import dev.meshwork.testkit.ManualTime;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Enqueue, idempotency, admin calls and every bad-input and storage fault, on real SQLite files. */
class OutboxServiceTest {

    static final NodeId B = NodeId.of("b");

    @TempDir
    Path dir;
    private final ManualTime time = new ManualTime();
    private final List<AutoCloseable> closeLater = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeLater.size() - 1; i >= 0; i--) {
            closeLater.get(i).close();
        }
    }

    private OutboxService open(OutboxConfig config) {
        OutboxService s = new OutboxService(config, time, time::nanoTime, time, () -> 0.5);
        closeLater.add(s);
        return s;
    }

    private OutboxConfig config() {
        return OutboxConfig.defaults(dir.resolve("outbox.db"));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void enqueuedMessageIsStoredWhenEnqueueReturnsAndSurvivesAReopen() {
        OutboxService s = open(config());
        OutboxReceipt r = s.enqueue(OutboxRequest.of(B, "orders", bytes("hello")).withPriority(3));
        s.close();
        OutboxService again = open(config());
        OutboxMessage m = again.get(r.messageId()).orElseThrow();
        assertEquals(OutboxState.PENDING, m.state());
        assertEquals(B, m.target());
        assertEquals("orders", m.topic());
        assertEquals(5, m.payloadSize());
        assertEquals(3, m.priority());
        assertFalse(r.duplicate());
    }

    @Test
    void concurrentProducersAreGroupCommittedAndEveryCallGetsItsOwnId() throws Exception {
        OutboxService s = open(config());
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<OutboxReceipt>> futures = new ArrayList<>();
            for (int i = 0; i < 1600; i++) {
                int n = i;
                futures.add(pool.submit(() -> s.enqueue(OutboxRequest.of(B, "t", bytes("m" + n)))));
            }
            Set<String> ids = new HashSet<>();
            for (Future<OutboxReceipt> f : futures) {
                ids.add(f.get().messageId());
            }
            assertEquals(1600, ids.size());
            assertEquals(1600L, s.stats().count(OutboxState.PENDING));
            long commits = s.writer().commits();
            assertTrue(commits < 1600, "16 producers should share commits, but there were " + commits + " for 1600 enqueues");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void repeatedIdempotencyKeyWithTheSameContentReturnsTheExistingId() {
        OutboxService s = open(config());
        OutboxReceipt first = s.enqueue(OutboxRequest.of(B, "t", bytes("x")).withIdempotencyKey("order-7"));
        OutboxReceipt second = s.enqueue(OutboxRequest.of(B, "t", bytes("x")).withIdempotencyKey("order-7"));
        assertEquals(first.messageId(), second.messageId());
        assertTrue(second.duplicate());
        assertEquals(1L, s.stats().count(OutboxState.PENDING));
    }

    @Test
    void repeatedIdempotencyKeyWithinOneBatchIsStoredOnce() throws Exception {
        OutboxService s = open(config());
        List<CompletableFuture<OutboxReceipt>> fs = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            fs.add(s.enqueueAsync(OutboxRequest.of(B, "t", bytes("x")).withIdempotencyKey("k")));
        }
        Set<String> ids = new HashSet<>();
        for (CompletableFuture<OutboxReceipt> f : fs) {
            ids.add(f.get().messageId());
        }
        assertEquals(1, ids.size());
        assertEquals(1L, s.stats().count(OutboxState.PENDING));
    }

    @Test
    void repeatedIdempotencyKeyWithDifferentContentIsRefusedAndNothingIsStored() {
        OutboxService s = open(config());
        s.enqueue(OutboxRequest.of(B, "t", bytes("x")).withIdempotencyKey("order-7"));
        PermanentException e = assertThrows(PermanentException.class,
                () -> s.enqueue(OutboxRequest.of(B, "t", bytes("y")).withIdempotencyKey("order-7")));
        assertEquals(FailureCode.IDEMPOTENCY_CONFLICT, e.code());
        assertEquals(1L, s.stats().count(OutboxState.PENDING));
    }

    @Test
    void oversizedPayloadIsRefusedAndNothingIsStored() {
        OutboxService s = open(config().withMaxPayloadBytes(100));
        PermanentException e = assertThrows(PermanentException.class, () -> s.enqueue(OutboxRequest.of(B, "t", new byte[101])));
        assertEquals(FailureCode.PAYLOAD_TOO_LARGE, e.code());
        s.enqueue(OutboxRequest.of(B, "t", new byte[100]));
        assertEquals(1L, s.stats().count(OutboxState.PENDING));
    }

    @Test
    void unknownTargetIsRefusedWhenTheRouterDoesNotKnowThePeer() {
        OutboxService s = open(config());
        try (InMemoryMesh mesh = new InMemoryMesh()) {
            s.setRouter(mesh.node(NodeId.of("a")));
            mesh.node(B);
            PermanentException e = assertThrows(PermanentException.class,
                    () -> s.enqueue(OutboxRequest.of(NodeId.of("nobody"), "t", bytes("x"))));
            assertEquals(FailureCode.UNKNOWN_PEER, e.code());
            s.enqueue(OutboxRequest.of(B, "t", bytes("x")));
            assertEquals(1L, s.stats().count(OutboxState.PENDING) + s.stats().count(OutboxState.INFLIGHT));
        }
    }

    @Test
    void reservedOutboxTopicIsRefused() {
        OutboxService s = open(config());
        MeshworkException e = assertThrows(MeshworkException.class, () -> s.enqueue(OutboxRequest.of(B, "meshwork.outbox", bytes("x"))));
        assertEquals(FailureCode.ILLEGAL_STATE, e.code());
    }

    /**
     * A full disk is simulated with {@code PRAGMA max_page_count} (the {@code maxDatabaseBytes}
     * setting), which makes SQLite fail exactly as on a full file system (SQLITE_FULL), without
     * needing a mount.
     */
    @Test
    void fullDatabaseFailsEnqueueWithStorageFullAndKeepsEarlierMessagesIntact() {
        OutboxService s = open(config().withMaxDatabaseBytes(64 * 1024));
        List<String> stored = new ArrayList<>();
        RetryableException full = null;
        for (int i = 0; i < 1000 && full == null; i++) {
            try {
                stored.add(s.enqueue(OutboxRequest.of(B, "t", new byte[2000])).messageId());
            } catch (RetryableException e) {
                full = e;
            }
        }
        assertTrue(full != null, "the database never filled up");
        assertEquals(FailureCode.STORAGE_FULL, full.code());
        assertEquals((long) stored.size(), s.stats().count(OutboxState.PENDING), "nothing half-written");
        // Still usable: a smaller message may fit, and every earlier one is readable.
        for (String id : stored) {
            assertEquals(2000, s.get(id).orElseThrow().payloadSize());
        }
        s.close();
        OutboxService reopened = open(config());
        assertEquals((long) stored.size(), reopened.stats().count(OutboxState.PENDING));
    }

    @Test
    void corruptFileIsRefusedAtStartWithAClearErrorAndLeftUntouched() throws Exception {
        Path file = dir.resolve("outbox.db");
        byte[] garbage = new byte[8192];
        new java.util.Random(7).nextBytes(garbage);
        Files.write(file, garbage);
        PermanentException e = assertThrows(PermanentException.class, () -> open(config()));
        assertEquals(FailureCode.STORAGE_UNAVAILABLE, e.code());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("not a database"), e.getMessage());
        assertArrayEquals(garbage, Files.readAllBytes(file));
    }

    @Test
    void databaseFromANewerVersionIsRefusedAndLeftUntouched() throws Exception {
        Path file = dir.resolve("outbox.db");
        open(config()).close();
        closeLater.clear();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement()) {
            st.execute("PRAGMA user_version=" + (Database.SCHEMA_VERSION + 1));
            st.execute("PRAGMA wal_checkpoint(TRUNCATE)");
        }
        byte[] before = sha(file);
        PermanentException e = assertThrows(PermanentException.class, () -> open(config()));
        assertEquals(FailureCode.STORAGE_UNAVAILABLE, e.code());
        assertTrue(e.getMessage().contains("newer"), e.getMessage());
        assertArrayEquals(before, sha(file));
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("PRAGMA user_version")) {
            assertEquals(Database.SCHEMA_VERSION + 1, rs.getInt(1));
        }
    }

    /**
     * Root ignores file permissions, so when the tests run as root the file is made immutable
     * with {@code chattr +i} instead (and the test is skipped where neither works).
     */
    @Test
    void readOnlyFileIsRefusedAtStartWithAClearError() throws Exception {
        Path file = dir.resolve("outbox.db");
        OutboxService first = open(config());
        first.enqueue(OutboxRequest.of(B, "t", bytes("x")));
        first.close();
        closeLater.clear();
        Files.deleteIfExists(dir.resolve("outbox.db-wal"));
        Files.deleteIfExists(dir.resolve("outbox.db-shm"));
        byte[] before = sha(file);
        boolean immutable = false;
        file.toFile().setWritable(false, false);
        if (Files.isWritable(file)) {
            immutable = new ProcessBuilder("chattr", "+i", file.toString()).inheritIO().start().waitFor() == 0;
            assumeTrue(immutable, "cannot make a file read-only for this user");
        }
        try {
            PermanentException e = assertThrows(PermanentException.class, () -> open(config()));
            assertEquals(FailureCode.STORAGE_UNAVAILABLE, e.code());
            assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("read-only"), e.getMessage());
            assertArrayEquals(before, sha(file));
        } finally {
            if (immutable) {
                new ProcessBuilder("chattr", "-i", file.toString()).inheritIO().start().waitFor();
            }
            file.toFile().setWritable(true);
        }
    }

    private static byte[] sha(Path file) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
    }

    @Test
    void rowsLeftInflightByACrashedProcessArePendingAgainAtOnceOnStart() throws Exception {
        OutboxService s = open(config());
        String id = s.enqueue(OutboxRequest.of(B, "t", bytes("x"))).messageId();
        long seq = s.seqOf(id);
        OutboxService.await(s.writer().submit(dev.meshwork.outbox.sqlite.internal.store.RowTransitions.claim("b", time.millis(), 10)));
        assertEquals(OutboxState.INFLIGHT, s.get(id).orElseThrow().state());
        s.close();
        OutboxService again = open(config());
        OutboxMessage m = again.get(id).orElseThrow();
        assertEquals(OutboxState.PENDING, m.state());
        assertEquals(time.instant(), m.nextAttemptAt().orElseThrow(), "due at once, not after a lease");
        assertEquals(seq, again.seqOf(id));
    }

    @Test
    void statsReportDepthByStateAndTargetAndTheOldestPendingAge() {
        OutboxService s = open(config());
        s.enqueue(OutboxRequest.of(B, "t", bytes("1")));
        time.advance(Duration.ofSeconds(5));
        s.enqueue(OutboxRequest.of(B, "t", bytes("2")));
        s.enqueue(OutboxRequest.of(NodeId.of("c"), "t", bytes("3")));
        OutboxStats st = s.stats();
        assertEquals(3L, st.count(OutboxState.PENDING));
        assertEquals(2L, st.pendingByTarget().get(B));
        assertEquals(1L, st.pendingByTarget().get(NodeId.of("c")));
        assertEquals(Duration.ofSeconds(5), st.oldestPendingAge().orElseThrow());
    }

    @Test
    void deadMessagesCanBeListedRetriedAndAbortedThroughTheCommands() {
        OutboxService s = open(config());
        String id = s.enqueue(OutboxRequest.of(B, "t", bytes("x"))).messageId();
        long seq = s.seqOf(id);
        OutboxService.await(s.writer().submit(dev.meshwork.outbox.sqlite.internal.store.RowTransitions.claim("b", time.millis(), 10)));
        OutboxService.await(s.writer().submit(dev.meshwork.outbox.sqlite.internal.store.RowTransitions.failedPermanent(seq, 1, "UNKNOWN_TOPIC: none")));
        OutboxCommands commands = new OutboxCommands(s);
        assertTrue(commands.dead().contains(id) && commands.dead().contains("UNKNOWN_TOPIC"), commands.dead());
        assertTrue(commands.stats().contains("dead      1"), commands.stats());
        assertEquals(List.of(id), s.list(OutboxState.DEAD, 10).stream().map(OutboxMessage::messageId).toList());
        assertTrue(commands.retry(id).contains("pending again"));
        OutboxMessage m = s.get(id).orElseThrow();
        assertEquals(OutboxState.PENDING, m.state());
        assertEquals(0, m.attempts());
        assertTrue(s.abort(id));
        assertEquals(OutboxState.ABORTED, s.get(id).orElseThrow().state());
        assertFalse(s.abort(id));
        assertTrue(commands.retry("nonsense").contains("not dead"));
    }

    @Test
    void purgeRemovesDoneMessagesOlderThanTheWindow() {
        OutboxService s = open(config());
        String id = s.enqueue(OutboxRequest.of(B, "t", bytes("x"))).messageId();
        long seq = s.seqOf(id);
        OutboxService.await(s.writer().submit(dev.meshwork.outbox.sqlite.internal.store.RowTransitions.claim("b", time.millis(), 10)));
        OutboxService.await(s.writer().submit(dev.meshwork.outbox.sqlite.internal.store.RowTransitions.acked(seq, time.millis())));
        assertEquals(0, s.purgeDone(Duration.ofHours(1)));
        time.advance(Duration.ofHours(2));
        assertEquals(1, s.purgeDone(Duration.ofHours(1)));
        assertTrue(s.get(id).isEmpty());
    }

    @Test
    void messageIdsOfARecreatedDatabaseDoNotRepeat() throws Exception {
        OutboxService s = open(config());
        String first = s.enqueue(OutboxRequest.of(B, "t", bytes("x"))).messageId();
        s.close();
        closeLater.clear();
        for (String suffix : new String[] {"", "-wal", "-shm"}) {
            Files.deleteIfExists(dir.resolve("outbox.db" + suffix));
        }
        OutboxService fresh = open(config());
        String second = fresh.enqueue(OutboxRequest.of(B, "t", bytes("x"))).messageId();
        assertFalse(first.equals(second), first + " reused");
    }

    @Test
    void enqueueAfterCloseFailsWithShutDown() {
        OutboxService s = open(config());
        s.close();
        RetryableException e = assertThrows(RetryableException.class, () -> s.enqueue(OutboxRequest.of(B, "t", bytes("x"))));
        assertEquals(FailureCode.SHUT_DOWN, e.code());
    }
}
