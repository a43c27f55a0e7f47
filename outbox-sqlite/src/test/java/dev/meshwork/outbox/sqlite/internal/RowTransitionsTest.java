package dev.meshwork.outbox.sqlite.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.outbox.sqlite.internal.store.Database;
import dev.meshwork.outbox.sqlite.internal.store.RowTransitions;
import dev.meshwork.outbox.sqlite.internal.store.RowTransitions.Claimed;
import dev.meshwork.outbox.sqlite.internal.store.Writer;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One test per edge of the row state machine, on a real SQLite file. */
class RowTransitionsTest {

    @TempDir
    Path dir;
    private Database db;
    private Writer writer;
    private long seq;

    @BeforeEach
    void open() {
        db = Database.open(dir.resolve("outbox.db"), "FULL", 0);
        Executor direct = Runnable::run;
        writer = new Writer(db, direct, 64);
    }

    @AfterEach
    void close() {
        writer.close();
        db.close();
    }

    private <T> T run(Writer.Op<T> op) {
        return OutboxService.await(writer.submit(op));
    }

    private long insert(String target, String state, int attempts, long nextAttemptAt, int priority) {
        long s = ++seq;
        run(tx -> {
            PreparedStatement ps = tx.prepare("INSERT INTO outbox(seq, target, topic, payload, state, attempts, created_at, next_attempt_at,"
                    + " updated_at, priority) VALUES (?, ?, 't', x'01', ?, ?, 0, ?, 0, ?)");
            ps.setLong(1, s);
            ps.setString(2, target);
            ps.setString(3, state);
            ps.setInt(4, attempts);
            ps.setLong(5, nextAttemptAt);
            ps.setInt(6, priority);
            return ps.executeUpdate();
        });
        return s;
    }

    private String state(long s) {
        return column(s, "state");
    }

    private String column(long s, String col) {
        synchronized (db.reader()) {
            try (PreparedStatement ps = db.reader().prepareStatement("SELECT " + col + " FROM outbox WHERE seq = ?")) {
                ps.setLong(1, s);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            } catch (SQLException e) {
                throw new AssertionError(e);
            }
        }
    }

    @Test
    void claimMovesDuePendingRowsToInflightHighestPriorityFirstAndCountsTheAttempt() {
        long low = insert("b", "PENDING", 0, 0, 0);
        long high = insert("b", "PENDING", 0, 0, 5);
        insert("c", "PENDING", 0, 0, 0);
        List<Claimed> claimed = run(RowTransitions.claim("b", 100, 1));
        assertEquals(List.of(high), claimed.stream().map(Claimed::seq).toList());
        assertEquals(1, claimed.get(0).attempts());
        assertEquals("INFLIGHT", state(high));
        assertEquals("PENDING", state(low));
    }

    @Test
    void claimSkipsRowsWaitingOutTheirBackoff() {
        long later = insert("b", "PENDING", 1, 1_000, 0);
        assertTrue(run(RowTransitions.claim("b", 999, 10)).isEmpty());
        assertEquals("PENDING", state(later));
        assertEquals(1, run(RowTransitions.claim("b", 1_000, 10)).size());
    }

    @Test
    void ackMovesInflightToDoneAndClearsTheError() {
        long s = insert("b", "INFLIGHT", 1, 0, 0);
        run(tx -> tx.prepare("UPDATE outbox SET last_error = 'x'").executeUpdate());
        assertTrue(run(RowTransitions.acked(s, 5)));
        assertEquals("DONE", state(s));
        assertEquals(null, column(s, "last_error"));
    }

    @Test
    void batchedAckMovesInflightToDoneButLeavesOtherStatesAlone() {
        long s = insert("b", "INFLIGHT", 1, 0, 0);
        long pending = insert("b", "PENDING", 0, 0, 0);
        run(RowTransitions.ackedBatched(s, 5));
        run(RowTransitions.ackedBatched(pending, 5));
        assertEquals("DONE", state(s));
        assertEquals("PENDING", state(pending));
    }

    @Test
    void retryableFailureReturnsRowToPendingWithItsNextAttemptAndKeepsTheError() {
        long s = insert("b", "INFLIGHT", 3, 0, 0);
        assertTrue(run(RowTransitions.failedRetryable(s, 10, 2_000, 25, "TIMEOUT: slow")));
        assertEquals("PENDING", state(s));
        assertEquals("2000", column(s, "next_attempt_at"));
        assertEquals("TIMEOUT: slow", column(s, "last_error"));
    }

    @Test
    void retryableFailureAtTheAttemptCapMakesTheRowDead() {
        long s = insert("b", "INFLIGHT", 25, 0, 0);
        assertTrue(run(RowTransitions.failedRetryable(s, 10, 2_000, 25, "TIMEOUT: slow")));
        assertEquals("DEAD", state(s));
        assertEquals("TIMEOUT: slow", column(s, "last_error"));
    }

    @Test
    void permanentFailureMakesTheRowDeadWithItsError() {
        long s = insert("b", "INFLIGHT", 1, 0, 0);
        assertTrue(run(RowTransitions.failedPermanent(s, 10, "UNKNOWN_TOPIC: no handler")));
        assertEquals("DEAD", state(s));
        assertEquals("UNKNOWN_TOPIC: no handler", column(s, "last_error"));
    }

    @Test
    void abortMovesPendingAndDeadRowsToAbortedButNotInflightOnes() {
        long pending = insert("b", "PENDING", 0, 0, 0);
        long dead = insert("b", "DEAD", 25, 0, 0);
        long inflight = insert("b", "INFLIGHT", 1, 0, 0);
        assertTrue(run(RowTransitions.abort(pending, 1)));
        assertTrue(run(RowTransitions.abort(dead, 1)));
        assertFalse(run(RowTransitions.abort(inflight, 1)));
        assertEquals("ABORTED", state(pending));
        assertEquals("ABORTED", state(dead));
        assertEquals("INFLIGHT", state(inflight));
    }

    @Test
    void retryMovesDeadAndAbortedRowsToPendingWithAFreshAttemptCount() {
        long dead = insert("b", "DEAD", 25, 0, 0);
        long aborted = insert("b", "ABORTED", 2, 0, 0);
        long done = insert("b", "DONE", 1, 0, 0);
        assertTrue(run(RowTransitions.retry(dead, 7)));
        assertTrue(run(RowTransitions.retry(aborted, 7)));
        assertFalse(run(RowTransitions.retry(done, 7)));
        assertEquals("PENDING", state(dead));
        assertEquals("0", column(dead, "attempts"));
        assertEquals("7", column(dead, "next_attempt_at"));
        assertEquals("PENDING", state(aborted));
        assertEquals("DONE", state(done));
    }

    @Test
    void recoveryAtStartMovesEveryInflightRowToPendingDueNow() {
        long a = insert("b", "INFLIGHT", 1, 99_999, 0);
        long b = insert("c", "INFLIGHT", 1, 99_999, 0);
        assertEquals(2, run(RowTransitions.recoverInflight(50)));
        assertEquals("PENDING", state(a));
        assertEquals("50", column(a, "next_attempt_at"));
        assertEquals("PENDING", state(b));
    }

    @Test
    void peerUpMakesThatPeersBackedOffRowsDueNow() {
        long waiting = insert("b", "PENDING", 2, 60_000, 0);
        long other = insert("c", "PENDING", 2, 60_000, 0);
        assertEquals(1, run(RowTransitions.dueNow("b", 10)));
        assertEquals("10", column(waiting, "next_attempt_at"));
        assertEquals("60000", column(other, "next_attempt_at"));
    }

    @Test
    void purgeDeletesOnlyDoneRowsOlderThanTheWindow() {
        long old = insert("b", "INFLIGHT", 1, 0, 0);
        run(RowTransitions.acked(old, 100));
        long recent = insert("b", "INFLIGHT", 1, 0, 0);
        run(RowTransitions.acked(recent, 300));
        long pending = insert("b", "PENDING", 0, 0, 0);
        assertEquals(1, run(RowTransitions.purgeDone(200)));
        assertEquals(null, state(old));
        assertEquals("DONE", state(recent));
        assertEquals("PENDING", state(pending));
    }

    @Test
    void aTransitionFromTheWrongStateChangesNothing() {
        long done = insert("b", "DONE", 1, 0, 0);
        assertFalse(run(RowTransitions.failedRetryable(done, 10, 20, 25, "late")));
        assertFalse(run(RowTransitions.failedPermanent(done, 10, "late")));
        assertFalse(run(RowTransitions.acked(insert("b", "PENDING", 0, 0, 0), 10)));
        assertEquals("DONE", state(done));
        assertEquals(null, column(done, "last_error"));
    }
}
