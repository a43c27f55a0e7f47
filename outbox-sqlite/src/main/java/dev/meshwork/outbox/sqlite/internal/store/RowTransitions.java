package dev.meshwork.outbox.sqlite.internal.store;

import dev.meshwork.api.outbox.OutboxState;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The only place that changes an outbox row's state: one method per edge of the
 * {@link OutboxState} diagram, each a single SQL statement guarded by the state it leaves, run
 * inside the {@link Writer}'s transaction.
 *
 * <pre>
 *   insert ──▶ PENDING ──claim──▶ INFLIGHT ──acked──▶ DONE ──purge──▶ (deleted)
 *               ▲  ▲  ▲              │
 *               │  │  └─ retryable / not fatal to the message, attempts &lt; cap, backoff
 *               │  └──── released (node stopping): attempt not counted, backoff
 *               │                    ├── at the cap, or refused for the message itself ──▶ DEAD
 *               ├──── recover (start-up), attempt not counted ◀── INFLIGHT
 *               └──── retry (admin): DEAD, ABORTED          abort (admin): PENDING, DEAD ──▶ ABORTED
 *   peerUp: PENDING in backoff ──▶ PENDING due now
 * </pre>
 *
 * <p>Nothing on the way down kills a row: the start-up recovery and {@link #released} give the
 * interrupted attempt back, so a row reaches its attempt cap only through attempts that had an
 * outcome.
 *
 * <p>Why the guard in every statement: a transition that finds its row in another state (an
 * admin abort raced a completion, a late ack after restart) changes nothing and reports
 * {@code false}, instead of overwriting a newer state.
 */
public final class RowTransitions {

    private RowTransitions() {
    }

    /** A row claimed for sending. */
    public record Claimed(long seq, String topic, byte[] payload, int attempts) {
    }

    /** PENDING → INFLIGHT for up to {@code limit} due rows of {@code target}, highest priority, then oldest, first. */
    public static Writer.Op<List<Claimed>> claim(String target, long nowMillis, int limit) {
        return tx -> {
            PreparedStatement ps = tx.prepare("""
                    UPDATE outbox SET state = 'INFLIGHT', attempts = attempts + 1, updated_at = ?1
                    WHERE seq IN (SELECT seq FROM outbox
                                  WHERE state = 'PENDING' AND target = ?2 AND next_attempt_at <= ?1
                                  ORDER BY priority DESC, seq LIMIT ?3)
                    RETURNING seq, topic, payload, attempts""");
            ps.setLong(1, nowMillis);
            ps.setString(2, target);
            ps.setInt(3, limit);
            List<Claimed> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Claimed(rs.getLong(1), rs.getString(2), rs.getBytes(3), rs.getInt(4)));
                }
            }
            out.sort((a, b) -> Long.compare(a.seq(), b.seq()));
            return out;
        };
    }

    /**
     * INFLIGHT → DONE as {@link #acked}, but added to the writer's statement batch (one native
     * call for the many acks of one group commit); the outcome is not reported per row.
     */
    public static Writer.Op<Boolean> ackedBatched(long seq, long nowMillis) {
        return tx -> {
            PreparedStatement ps = tx.batch("UPDATE outbox SET state = 'DONE', updated_at = ?, last_error = NULL WHERE seq = ? AND state = 'INFLIGHT'");
            ps.setLong(1, nowMillis);
            ps.setLong(2, seq);
            ps.addBatch();
            return Boolean.TRUE;
        };
    }

    /** INFLIGHT → DONE: the receiver acknowledged. */
    public static Writer.Op<Boolean> acked(long seq, long nowMillis) {
        return tx -> update(tx.prepare("UPDATE outbox SET state = 'DONE', updated_at = ?, last_error = NULL WHERE seq = ? AND state = 'INFLIGHT'"),
                nowMillis, seq);
    }

    /**
     * INFLIGHT → PENDING with {@code nextAttemptAt}, or → DEAD once {@code attempts} reached
     * {@code cap}; keeps {@code error}. One statement: the cap is decided by the row itself.
     */
    public static Writer.Op<Boolean> failedRetryable(long seq, long nowMillis, long nextAttemptAt, int cap, String error) {
        return tx -> {
            PreparedStatement ps = tx.prepare("""
                    UPDATE outbox SET state = CASE WHEN attempts >= ?1 THEN 'DEAD' ELSE 'PENDING' END,
                                      next_attempt_at = ?2, last_error = ?3, updated_at = ?4
                    WHERE seq = ?5 AND state = 'INFLIGHT'""");
            ps.setInt(1, cap);
            ps.setLong(2, nextAttemptAt);
            ps.setString(3, error);
            ps.setLong(4, nowMillis);
            ps.setLong(5, seq);
            return ps.executeUpdate() == 1;
        };
    }

    /**
     * INFLIGHT → PENDING with {@code nextAttemptAt}, the attempt not counted: the failure was the
     * local node's (stopping), not the message's. Never DEAD, whatever the attempt count.
     */
    public static Writer.Op<Boolean> released(long seq, long nowMillis, long nextAttemptAt, String error) {
        return tx -> {
            PreparedStatement ps = tx.prepare("""
                    UPDATE outbox SET state = 'PENDING', attempts = MAX(attempts - 1, 0), next_attempt_at = ?1,
                                      last_error = ?2, updated_at = ?3
                    WHERE seq = ?4 AND state = 'INFLIGHT'""");
            ps.setLong(1, nextAttemptAt);
            ps.setString(2, error);
            ps.setLong(3, nowMillis);
            ps.setLong(4, seq);
            return ps.executeUpdate() == 1;
        };
    }

    /** INFLIGHT → DEAD: a permanent failure; keeps {@code error}. */
    public static Writer.Op<Boolean> failedPermanent(long seq, long nowMillis, String error) {
        return tx -> {
            PreparedStatement ps = tx.prepare("UPDATE outbox SET state = 'DEAD', last_error = ?, updated_at = ? WHERE seq = ? AND state = 'INFLIGHT'");
            ps.setString(1, error);
            ps.setLong(2, nowMillis);
            ps.setLong(3, seq);
            return ps.executeUpdate() == 1;
        };
    }

    /** PENDING or DEAD → ABORTED (admin). */
    public static Writer.Op<Boolean> abort(long seq, long nowMillis) {
        return tx -> update(tx.prepare("UPDATE outbox SET state = 'ABORTED', updated_at = ? WHERE seq = ? AND state IN ('PENDING', 'DEAD')"),
                nowMillis, seq);
    }

    /** DEAD or ABORTED → PENDING, due now, with a fresh attempt count (admin). */
    public static Writer.Op<Boolean> retry(long seq, long nowMillis) {
        return tx -> {
            PreparedStatement ps = tx.prepare("""
                    UPDATE outbox SET state = 'PENDING', attempts = 0, next_attempt_at = ?1, updated_at = ?1
                    WHERE seq = ?2 AND state IN ('DEAD', 'ABORTED')""");
            ps.setLong(1, nowMillis);
            ps.setLong(2, seq);
            return ps.executeUpdate() == 1;
        };
    }

    /**
     * INFLIGHT → PENDING, due now, for every row: at start-up, their sender is gone. The
     * interrupted attempt had no outcome and is not counted, so stops and crashes never bring a
     * row nearer its attempt cap.
     */
    public static Writer.Op<Integer> recoverInflight(long nowMillis) {
        return tx -> {
            PreparedStatement ps = tx.prepare("UPDATE outbox SET state = 'PENDING', attempts = MAX(attempts - 1, 0), "
                    + "next_attempt_at = ?1, updated_at = ?1 WHERE state = 'INFLIGHT'");
            ps.setLong(1, nowMillis);
            return ps.executeUpdate();
        };
    }

    /** PENDING rows of {@code target} waiting out a backoff become due now: the peer just came up. */
    public static Writer.Op<Integer> dueNow(String target, long nowMillis) {
        return tx -> {
            PreparedStatement ps = tx.prepare("""
                    UPDATE outbox SET next_attempt_at = ?1 WHERE state = 'PENDING' AND target = ?2 AND next_attempt_at > ?1""");
            ps.setLong(1, nowMillis);
            ps.setString(2, target);
            return ps.executeUpdate();
        };
    }

    /** DONE rows last changed before {@code beforeMillis} are deleted. */
    public static Writer.Op<Integer> purgeDone(long beforeMillis) {
        return tx -> {
            PreparedStatement ps = tx.prepare("DELETE FROM outbox WHERE state = 'DONE' AND updated_at < ?");
            ps.setLong(1, beforeMillis);
            return ps.executeUpdate();
        };
    }

    private static boolean update(PreparedStatement ps, long nowMillis, long seq) throws SQLException {
        ps.setLong(1, nowMillis);
        ps.setLong(2, seq);
        return ps.executeUpdate() == 1;
    }
}
