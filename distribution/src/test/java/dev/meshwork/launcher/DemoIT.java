package dev.meshwork.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo as a newcomer runs it: it narrates the failover and the crash, prints the dashboard's
 * address, and on SIGTERM stops with exit code 0 and no child process left behind.
 */
class DemoIT {

    @TempDir
    Path work;

    @Test
    void narratesFailoverAndRecoveryAndLeavesNoChildBehind() throws Exception {
        Path java = NodeProcess.javaExecutables().get(0);
        try (NodeProcess demo = NodeProcess.start(java, work, "demo", "--data", work.resolve("demo").toString())) {
            demo.awaitStdout(l -> l.startsWith("demo: Dashboard: http://127.0.0.1:"), Duration.ofSeconds(60));
            String failover = demo.awaitStdout(l -> l.contains("moved traffic to its standby channel")
                    || l.contains("has not moved traffic"), Duration.ofSeconds(90));
            assertTrue(failover.contains("moved traffic to its standby channel"), failover);
            String noLoss = demo.awaitStdout(l -> l.startsWith("demo: Messages sent during the failover"), Duration.ofSeconds(60));
            assertTrue(noLoss.contains("nothing lost, nothing twice"), noLoss);
            String drained = demo.awaitStdout(l -> l.startsWith("demo: gamma is back") || l.startsWith("demo: gamma has not"),
                    Duration.ofSeconds(90));
            assertTrue(drained.startsWith("demo: gamma is back"), drained);
            demo.awaitStdout(l -> l.contains("Ctrl-C stops the demo"), Duration.ofSeconds(30));

            List<ProcessHandle> children = demo.descendants();
            assertEquals(3, children.size(), "three node processes: " + children);
            assertEquals(0, demo.terminate(Duration.ofSeconds(60)));
            for (ProcessHandle child : children) {
                assertTrue(child.onExit().toCompletableFuture().isDone() || !child.isAlive(), "child " + child.pid() + " stopped");
            }
        }
    }
}
