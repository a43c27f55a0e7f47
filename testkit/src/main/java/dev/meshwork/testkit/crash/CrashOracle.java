package dev.meshwork.testkit.crash;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The total-queue oracle of the crash suite, read after both nodes stopped: the sender's outbox
 * table, the receiver's inbox table (both SQLite, the schema of outbox-sqlite's {@code Database})
 * and the receiver's handler log ({@link CrashProbe}), against the enqueues the clients saw
 * accepted.
 *
 * <ul>
 *   <li>lost: accepted, never reached the handler;</li>
 *   <li>missing rows: accepted, but no row in the sender's outbox (the 2xx lied about durability);</li>
 *   <li>dead: rows in state DEAD; left: rows still PENDING or INFLIGHT;</li>
 *   <li>duplicates to the handler: completed invocations beyond the first per message id, and of
 *       those the ones whose earlier invocation was in an earlier run of the receiver (a
 *       redelivery across its crash);</li>
 *   <li>in doubt at starts: the records the receiver's inbox reported, at its starts, as left in
 *       doubt by its crash (and forgot, so that they are redelivered: at-least-once).</li>
 * </ul>
 *
 * <p>Why duplicates across a receiver crash are judged apart: at-least-once (the default, see
 * docs/lifecycle.md) redelivers a message whose handler may have finished just before the crash;
 * the handler may then see it twice, and only those in-doubt records may cause that. A duplicate
 * within one run of the receiver, or more across crashes than records were in doubt, breaks the
 * inbox's dedup.
 */
public final class CrashOracle {

    /** What the oracle found; see the class comment for each count. */
    public record Findings(int lost, int missingRows, int dead, int left, int duplicatesToHandler, int duplicatesAcrossReceiverCrash,
            int inboxInDoubt, long inDoubtAtStarts, Map<String, Integer> outboxByState, List<String> examples) {
    }

    private CrashOracle() {
    }

    static Findings judge(Map<String, String> accepted, Path senderDb, Path receiverDb, Path handlerLog, long inDoubtAtStarts)
            throws IOException, SQLException {
        Map<String, Integer> byState = new TreeMap<>();
        Set<String> rows = new java.util.HashSet<>();
        List<String> examples = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + senderDb); Statement s = c.createStatement()) {
            String epoch;
            try (ResultSet rs = s.executeQuery("SELECT value FROM meta WHERE key = 'epoch'")) {
                epoch = rs.next() ? rs.getString(1) : "?";
            }
            try (ResultSet rs = s.executeQuery("SELECT seq, state, last_error FROM outbox")) {
                while (rs.next()) {
                    rows.add(epoch + "-" + rs.getLong(1));
                    byState.merge(rs.getString(2), 1, Integer::sum);
                    if (rs.getString(2).equals("DEAD") && examples.size() < 5) {
                        examples.add("dead row " + epoch + "-" + rs.getLong(1) + ": " + rs.getString(3));
                    }
                }
            }
        }
        int inDoubt;
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + receiverDb); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM inbox WHERE delivered <> 1")) {
            inDoubt = rs.next() ? rs.getInt(1) : 0;
        }

        Map<String, List<String>> invocations = new HashMap<>();
        if (Files.exists(handlerLog)) {
            for (String line : Files.readAllLines(handlerLog, StandardCharsets.UTF_8)) {
                String[] parts = line.split(" ", 3);
                if (parts.length == 3) {
                    invocations.computeIfAbsent(parts[1], k -> new ArrayList<>()).add(parts[0]);
                }
            }
        }
        int duplicates = 0;
        int acrossCrash = 0;
        for (Map.Entry<String, List<String>> e : invocations.entrySet()) {
            List<String> incarnations = e.getValue();
            duplicates += incarnations.size() - 1;
            acrossCrash += (int) incarnations.stream().distinct().count() - 1;
            if (incarnations.size() > 1 && examples.size() < 10) {
                examples.add("message " + e.getKey() + " (" + accepted.getOrDefault(e.getKey(), "not accepted") + ") reached the handler "
                        + incarnations.size() + " times, in receiver runs " + incarnations);
            }
        }
        int lost = 0;
        int missing = 0;
        for (Map.Entry<String, String> e : accepted.entrySet()) {
            if (!invocations.containsKey(e.getKey())) {
                lost++;
                if (examples.size() < 15) {
                    examples.add("accepted " + e.getKey() + " (" + e.getValue() + ") never reached the handler");
                }
            }
            if (!rows.contains(e.getKey())) {
                missing++;
            }
        }
        int dead = byState.getOrDefault("DEAD", 0);
        int left = byState.getOrDefault("PENDING", 0) + byState.getOrDefault("INFLIGHT", 0);
        return new Findings(lost, missing, dead, left, duplicates, acrossCrash, inDoubt, inDoubtAtStarts, byState, examples);
    }
}
