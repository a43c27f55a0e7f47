package dev.meshwork.launcher;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.testkit.crash.CrashReport;
import dev.meshwork.testkit.crash.CrashRun;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Durable means durable, on two packaged nodes under a seeded crash schedule (see
 * {@link CrashRun}): alpha SIGKILLed and SIGTERMed at random moments, also while it starts and
 * while clients' requests are in flight, beta SIGKILLed while deliveries flow, each restarted.
 * Every enqueue answered 2xx reaches beta's handler; none twice, except a message whose inbox
 * record a crash of beta left in doubt (at-least-once, docs/lifecycle.md); no row dies; no
 * enqueue for the configured peer is refused as permanent; the outbox drains.
 *
 * <p>{@code -Dmeshwork.crash.seconds=N} bounds the schedule (default 120);
 * {@code -Dmeshwork.crash.seed=N} replays a seed that failed (each failure prints its seed).
 */
class CrashRestartIT {

    @TempDir
    Path root;

    @Test
    void everyAcceptedEnqueueReachesTheHandlerOnceThroughCrashesAndRestartsOfBothNodes() throws Exception {
        long seed = Long.getLong("meshwork.crash.seed", System.nanoTime());
        Duration duration = Duration.ofSeconds(Long.getLong("meshwork.crash.seconds", 120));
        System.out.println("crash: seed " + seed + " for " + duration.toSeconds() + " s (rerun: -Dmeshwork.crash.seed=" + seed + ")");
        CrashReport report = CrashRun.run(new CrashRun.Settings(root, NodeProcess.javaExecutables().get(0),
                NodeProcess.launcherJar().toAbsolutePath(), seed, duration, System.out));
        System.out.println(report.resultLine());
        System.out.println("crash: client answers " + report.answers() + "; outbox rows " + report.findings().outboxByState()
                + "; duplicates across a receiver crash " + report.findings().duplicatesAcrossReceiverCrash()
                + ", records in doubt at its starts " + report.findings().inDoubtAtStarts());
        assertTrue(report.kills() > 0 && report.enqueuedOk() > 0, "the schedule did something:\n" + report.describe());
        assertTrue(report.violations().isEmpty(), report.describe());
    }
}
