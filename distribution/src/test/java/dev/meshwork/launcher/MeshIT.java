package dev.meshwork.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.meshwork.testkit.Await;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three packaged nodes as separate processes, each reachable over two URLs, driven only through
 * their configuration files and consoles: durable messages cross the mesh exactly once, and a
 * killed node's messages wait in the sender's outbox and drain when it comes back.
 */
class MeshIT {

    private static final Path JAVA = NodeProcess.javaExecutables().get(0);

    @TempDir
    Path root;

    private List<MeshNode> nodes = List.of();

    @AfterEach
    void stopAll() {
        nodes.forEach(MeshNode::close);
    }

    private List<MeshNode> mesh() throws Exception {
        MeshNode a = new MeshNode("alpha", root, 2);
        MeshNode b = new MeshNode("beta", root, 2);
        MeshNode c = new MeshNode("gamma", root, 2);
        nodes = List.of(a, b, c);
        for (MeshNode node : nodes) {
            node.createIdentity(JAVA);
        }
        a.configure(List.of(b, c));
        b.configure(List.of(a, c));
        c.configure(List.of(a, b));
        for (MeshNode node : nodes) {
            node.start(JAVA);
        }
        for (MeshNode node : nodes) {
            Await.until(node.id + " sees both peers up", Duration.ofSeconds(20),
                    () -> count(status(node), "\"state\":\"UP\"") >= 2);
        }
        return nodes;
    }

    private static String status(MeshNode node) {
        try {
            return node.status();
        } catch (Exception e) {
            return "";
        }
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }

    private static void enqueue(MeshNode from, MeshNode to, int count, String tag) throws Exception {
        for (int i = 0; i < count; i++) {
            HttpResponse<String> response = from.post("/outbox?target=" + to.id + "&topic=meshwork.console.probe&key=" + tag + i,
                    tag + " message " + i);
            assertEquals(200, response.statusCode(), response.body());
        }
    }

    @Test
    void durableMessagesCrossTheMeshExactlyOnceAndAKilledNodeCatchesUpAfterRestart() throws Exception {
        List<MeshNode> mesh = mesh();
        MeshNode alpha = mesh.get(0);
        MeshNode beta = mesh.get(1);
        MeshNode gamma = mesh.get(2);

        enqueue(alpha, gamma, 50, "first-");
        enqueue(beta, gamma, 50, "second-");
        Await.until("gamma received 100 messages", Duration.ofSeconds(30), () -> probe(gamma)[0] >= 100);

        gamma.kill();
        enqueue(alpha, gamma, 30, "while-down-");
        String byState = alpha.status().split("\"byState\":", 2)[1];
        long waiting = Long.parseLong(MeshNode.field(byState, "pending")) + Long.parseLong(MeshNode.field(byState, "inflight"));
        assertTrue(waiting >= 1, "messages for the dead node wait in alpha's outbox: " + byState);
        gamma.start(JAVA);
        Await.until("gamma received the 30 that waited in alpha's outbox", Duration.ofSeconds(60),
                () -> probe(gamma)[0] >= 30);
        long[] afterRestart = probe(gamma);
        assertEquals(afterRestart[0], afterRestart[1], "no duplicate reached the handler");

        Await.until("alpha's outbox has all 80 acknowledged", Duration.ofSeconds(30),
                () -> metrics(alpha).contains("meshwork_outbox_messages{state=\"done\"} 80"));
        String metrics = alpha.get("/metrics");
        assertTrue(metrics.contains("meshwork_links{state=\"up\"} 2"), metrics);
    }

    @Test
    void aPortInUseIsAOneLineErrorAndANonZeroExit() throws Exception {
        MeshNode node = new MeshNode("delta", root, 1);
        nodes = List.of(node);
        node.configure(List.of());
        // the node's listen port is still held open by this test (MeshNode reserves it until its
        // own start, which this test bypasses): the launcher finds it in use
        try (NodeProcess process = NodeProcess.start(JAVA, node.dir, "--config", node.config().toString())) {
            int code = process.awaitExit(Duration.ofSeconds(30));
            assertEquals(1, code);
            List<String> errors = process.stderr();
            String last = errors.get(errors.size() - 1);
            assertTrue(last.startsWith("meshwork: ") && last.contains(String.valueOf(node.meshPorts[0]))
                    && last.contains("Address already in use"), last);
            assertTrue(errors.stream().noneMatch(l -> l.startsWith("\tat ") || l.contains("Exception:")),
                    "no stack trace: " + errors);
        }
    }

    private static String metrics(MeshNode node) {
        try {
            return node.get("/metrics");
        } catch (Exception e) {
            return "";
        }
    }

    private static long[] probe(MeshNode node) {
        try {
            return node.probe();
        } catch (Exception e) {
            return new long[] {0, 0};
        }
    }
}
