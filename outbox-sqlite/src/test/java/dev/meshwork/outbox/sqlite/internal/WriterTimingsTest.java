package dev.meshwork.outbox.sqlite.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.outbox.sqlite.internal.store.Database;
import dev.meshwork.outbox.sqlite.internal.store.Writer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer's own account of its batches: what the benchmark uses to show how group commit behaves. */
class WriterTimingsTest {

    @TempDir
    Path dir;

    @Test
    void batchSizeHistogramCountsEveryCommitAndTheTimeSplitIsFilled() {
        try (Database db = Database.open(dir.resolve("outbox.db"), "FULL", 0); Writer writer = new Writer(db, Runnable::run, 64)) {
            for (int round = 0; round < 5; round++) {
                List<CompletableFuture<Integer>> burst = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    burst.add(writer.submit(tx -> tx.prepare("UPDATE meta SET value = value WHERE key = 'epoch'").executeUpdate()));
                }
                burst.forEach(f -> assertEquals(1, f.join()));
            }
            Map<String, Long> t = writer.timings();
            long batches = t.entrySet().stream().filter(e -> e.getKey().startsWith("batch.")).mapToLong(Map.Entry::getValue).sum();
            assertEquals(writer.commits(), batches, t.toString());
            assertEquals(100L, writer.opsCommitted());
            assertTrue(writer.commits() <= 100 && writer.commits() >= 5, t.toString());
            assertTrue(t.get("nanos.commit") > 0 && t.get("nanos.ops") > 0, t.toString());
        }
    }
}
